// WebAuthn's JSON forms as the backend (webauthn-rs) speaks them, and their conversion to and
// from the browser's binary API. The backend sends `{"publicKey": {…}}` with every binary field
// as base64url text (W3C WebAuthn L3 §5.1.8 JSON serialisation); navigator.credentials wants
// ArrayBuffers in and gives a PublicKeyCredential back, whose binary fields go back to the
// backend as base64url without padding (RFC 4648 §5).

/** Bytes as RFC 4648 §5 base64url, without padding. */
export function toBase64url(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * base64url (padded or not; the standard alphabet is read too) as bytes. Anything else is an
 * error: a malformed challenge must not turn into a different one.
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new TypeError('not base64url');
  }
  const plain = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(plain + '='.repeat((4 - (plain.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A credential named in `excludeCredentials` or `allowCredentials`. */
export interface DescriptorJson {
  type: string;
  id: string;
  transports?: string[];
}

/** The backend's registration options (webauthn-rs `CreationChallengeResponse`). */
export interface CreationOptionsJson {
  publicKey: {
    rp: { id?: string; name: string };
    user: { id: string; name: string; displayName: string };
    challenge: string;
    pubKeyCredParams: { type: string; alg: number }[];
    timeout?: number;
    excludeCredentials?: DescriptorJson[];
    authenticatorSelection?: Record<string, unknown>;
    attestation?: string;
    extensions?: Record<string, unknown>;
    [other: string]: unknown;
  };
}

/** The backend's sign-in options (webauthn-rs `RequestChallengeResponse`). */
export interface RequestOptionsJson {
  publicKey: {
    challenge: string;
    timeout?: number;
    rpId?: string;
    allowCredentials?: DescriptorJson[];
    userVerification?: string;
    extensions?: Record<string, unknown>;
    [other: string]: unknown;
  };
  mediation?: string;
}

/** What webauthn-rs accepts as `RegisterPublicKeyCredential`. */
export interface RegistrationJson {
  id: string;
  rawId: string;
  type: string;
  response: { attestationObject: string; clientDataJSON: string; transports?: string[] };
  extensions: Record<string, unknown>;
}

/** What webauthn-rs accepts as `PublicKeyCredential` (an assertion). */
export interface AssertionJson {
  id: string;
  rawId: string;
  type: string;
  response: { authenticatorData: string; clientDataJSON: string; signature: string; userHandle: string | null };
  extensions: Record<string, unknown>;
}

function descriptor(json: DescriptorJson): PublicKeyCredentialDescriptor {
  return {
    ...json,
    type: json.type as PublicKeyCredentialType,
    id: fromBase64url(json.id),
    transports: json.transports as AuthenticatorTransport[] | undefined,
  };
}

/** The backend's registration options as `navigator.credentials.create` takes them. */
export function creationOptions(json: CreationOptionsJson): CredentialCreationOptions {
  const options = json.publicKey;
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
  } as PublicKeyCredentialCreationOptions;
  if (options.excludeCredentials !== undefined) publicKey.excludeCredentials = options.excludeCredentials.map(descriptor);
  return { publicKey };
}

/** The backend's sign-in options as `navigator.credentials.get` takes them. */
export function requestOptions(json: RequestOptionsJson): CredentialRequestOptions {
  const options = json.publicKey;
  const publicKey = { ...options, challenge: fromBase64url(options.challenge) } as PublicKeyCredentialRequestOptions;
  if (options.allowCredentials !== undefined) publicKey.allowCredentials = options.allowCredentials.map(descriptor);
  const request: CredentialRequestOptions = { publicKey };
  if (json.mediation !== undefined) request.mediation = json.mediation as CredentialMediationRequirement;
  return request;
}

/** The parts of a PublicKeyCredential the conversion reads (so tests need no browser). */
export interface CredentialLike {
  id: string;
  rawId: ArrayBuffer;
  type: string;
  response: {
    clientDataJSON: ArrayBuffer;
    attestationObject?: ArrayBuffer;
    getTransports?: () => string[];
    authenticatorData?: ArrayBuffer;
    signature?: ArrayBuffer;
    userHandle?: ArrayBuffer | null;
  };
  getClientExtensionResults?: () => Record<string, unknown>;
}

/**
 * The client extension outputs webauthn-rs reads, kept as plain JSON; the rest (which may hold
 * ArrayBuffers) is left out.
 */
function extensionOutputs(credential: CredentialLike): Record<string, unknown> {
  const results = credential.getClientExtensionResults?.() ?? {};
  const kept: Record<string, unknown> = {};
  if (typeof results.appid === 'boolean') kept.appid = results.appid;
  const props = results.credProps as { rk?: unknown } | undefined;
  if (props !== undefined && typeof props === 'object' && props !== null) {
    kept.credProps = typeof props.rk === 'boolean' ? { rk: props.rk } : {};
  }
  return kept;
}

/** A new credential from `navigator.credentials.create`, as the backend takes it. */
export function registrationJson(credential: CredentialLike): RegistrationJson {
  const { response } = credential;
  if (response.attestationObject === undefined) throw new TypeError('not a registration');
  const answer: RegistrationJson = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: { attestationObject: toBase64url(response.attestationObject), clientDataJSON: toBase64url(response.clientDataJSON) },
    extensions: extensionOutputs(credential),
  };
  const transports = response.getTransports?.();
  if (transports !== undefined) answer.response.transports = transports;
  return answer;
}

/** An assertion from `navigator.credentials.get`, as the backend takes it. */
export function assertionJson(credential: CredentialLike): AssertionJson {
  const { response } = credential;
  if (response.authenticatorData === undefined || response.signature === undefined) throw new TypeError('not an assertion');
  const extensions = extensionOutputs(credential);
  delete extensions.credProps;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toBase64url(response.authenticatorData),
      clientDataJSON: toBase64url(response.clientDataJSON),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
    extensions,
  };
}
