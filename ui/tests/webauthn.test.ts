import { describe, expect, it } from 'vitest';
import {
  assertionJson,
  creationOptions,
  fromBase64url,
  registrationJson,
  requestOptions,
  toBase64url,
  type CreationOptionsJson,
  type CredentialLike,
  type RequestOptionsJson,
} from '../src/lib/backend/webauthn';

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);
const buffer = (view: Uint8Array) => view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
const asBytes = (source: BufferSource | undefined) =>
  source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source!.buffer, source!.byteOffset, source!.byteLength);

describe('base64url (RFC 4648 §5, unpadded)', () => {
  // RFC 4648 §10 test vectors, without their padding.
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ];

  it('encodes the RFC 4648 vectors without padding', () => {
    for (const [plain, encoded] of vectors) expect(toBase64url(text(plain))).toBe(encoded);
  });

  it('decodes them, padded or not', () => {
    for (const [plain, encoded] of vectors) {
      expect(new TextDecoder().decode(fromBase64url(encoded))).toBe(plain);
      const padded = encoded + '='.repeat((4 - (encoded.length % 4)) % 4);
      expect(new TextDecoder().decode(fromBase64url(padded))).toBe(plain);
    }
  });

  it('uses the URL-safe alphabet both ways', () => {
    expect(toBase64url(bytes(0xfb, 0xff, 0xbf))).toBe('-_-_');
    expect(Array.from(fromBase64url('-_-_'))).toEqual([0xfb, 0xff, 0xbf]);
    expect(Array.from(fromBase64url('+/+/'))).toEqual([0xfb, 0xff, 0xbf]);
  });

  it('round-trips every byte value, from buffers and views alike', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(Array.from(fromBase64url(toBase64url(all)))).toEqual(Array.from(all));
    expect(toBase64url(buffer(all))).toBe(toBase64url(all));
    expect(toBase64url(all.subarray(1, 4))).toBe(toBase64url(bytes(1, 2, 3)));
  });

  it('refuses text that is not base64url', () => {
    for (const bad of ['a', 'ab c', 'ab$d', 'abc==='] as const) expect(() => fromBase64url(bad), bad).toThrow(TypeError);
  });
});

/** Registration options as webauthn-rs serialises them (CreationChallengeResponse). */
const creation: CreationOptionsJson = {
  publicKey: {
    rp: { name: 'Schild', id: 'localhost' },
    user: { id: 'AAECAwQFBgcICQoLDA0ODw', name: 'olga', displayName: 'Olga Operator' },
    challenge: 'q83vEjRWeJA',
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }],
    timeout: 60000,
    excludeCredentials: [{ type: 'public-key', id: 'AQID' }],
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    attestation: 'direct',
    extensions: { credentialProtectionPolicy: 'userVerificationRequired', credProps: true },
  },
};

/** Sign-in options as webauthn-rs serialises them (RequestChallengeResponse). */
const request: RequestOptionsJson = {
  publicKey: {
    challenge: '3q2-7w',
    timeout: 60000,
    rpId: 'localhost',
    allowCredentials: [{ type: 'public-key', id: 'BAUG', transports: ['usb'] }],
    userVerification: 'preferred',
  },
  mediation: 'optional',
};

describe('options for navigator.credentials', () => {
  it('turns every binary field of the registration options into bytes and keeps the rest', () => {
    const { publicKey } = creationOptions(creation);
    expect(asBytes(publicKey!.challenge)).toEqual(bytes(0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90));
    expect(asBytes(publicKey!.user.id)).toEqual(new Uint8Array(16).map((_, i) => i));
    expect(asBytes(publicKey!.excludeCredentials![0]!.id)).toEqual(bytes(1, 2, 3));
    expect(publicKey!.user.name).toBe('olga');
    expect(publicKey!.user.displayName).toBe('Olga Operator');
    expect(publicKey!.rp).toEqual({ name: 'Schild', id: 'localhost' });
    expect(publicKey!.pubKeyCredParams).toEqual(creation.publicKey.pubKeyCredParams);
    expect(publicKey!.authenticatorSelection).toEqual(creation.publicKey.authenticatorSelection);
    expect(publicKey!.extensions).toEqual(creation.publicKey.extensions);
    expect(publicKey!.attestation).toBe('direct');
  });

  it('leaves the backend’s JSON untouched', () => {
    const before = JSON.stringify(creation);
    creationOptions(creation);
    expect(JSON.stringify(creation)).toBe(before);
  });

  it('turns the sign-in options into bytes, with their mediation', () => {
    const options = requestOptions(request);
    expect(asBytes(options.publicKey!.challenge)).toEqual(bytes(0xde, 0xad, 0xbe, 0xef));
    expect(asBytes(options.publicKey!.allowCredentials![0]!.id)).toEqual(bytes(4, 5, 6));
    expect(options.publicKey!.allowCredentials![0]!.transports).toEqual(['usb']);
    expect(options.publicKey!.rpId).toBe('localhost');
    expect(options.publicKey!.userVerification).toBe('preferred');
    expect(options.mediation).toBe('optional');
  });

  it('accepts a passwordless challenge with no credentials named', () => {
    const options = requestOptions({ publicKey: { challenge: 'AA', userVerification: 'required' } });
    expect(options.publicKey!.allowCredentials).toBeUndefined();
    expect(options.mediation).toBeUndefined();
  });
});

const clientData = text('{"type":"webauthn.create","challenge":"q83vEjRWeJA","origin":"http://localhost:4173"}');

describe('credentials for the backend', () => {
  it('writes a new credential as webauthn-rs RegisterPublicKeyCredential', () => {
    const credential: CredentialLike = {
      id: 'AQID',
      rawId: buffer(bytes(1, 2, 3)),
      type: 'public-key',
      response: { clientDataJSON: buffer(clientData), attestationObject: buffer(bytes(0xa3, 0x63, 0x66, 0x6d, 0x74)), getTransports: () => ['usb'] },
      getClientExtensionResults: () => ({ credProps: { rk: true }, prf: { enabled: false, results: { first: new ArrayBuffer(2) } } }),
    };
    const json = registrationJson(credential);
    expect(json).toEqual({
      id: 'AQID',
      rawId: 'AQID',
      type: 'public-key',
      response: { attestationObject: 'o2NmbXQ', clientDataJSON: toBase64url(clientData), transports: ['usb'] },
      extensions: { credProps: { rk: true } },
    });
    // What leaves is plain JSON: it survives serialisation unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(new TextDecoder().decode(fromBase64url(json.response.clientDataJSON))).toBe(new TextDecoder().decode(clientData));
  });

  it('writes an assertion as webauthn-rs PublicKeyCredential, with or without a user handle', () => {
    const base = {
      id: 'BAUG',
      rawId: buffer(bytes(4, 5, 6)),
      type: 'public-key',
      getClientExtensionResults: () => ({}),
    };
    const response = { clientDataJSON: buffer(clientData), authenticatorData: buffer(bytes(9, 9)), signature: buffer(bytes(0x30, 0x45)) };
    const signed = assertionJson({ ...base, response: { ...response, userHandle: buffer(bytes(7, 7, 7)) } });
    expect(signed).toEqual({
      id: 'BAUG',
      rawId: 'BAUG',
      type: 'public-key',
      response: { authenticatorData: 'CQk', clientDataJSON: toBase64url(clientData), signature: 'MEU', userHandle: 'BwcH' },
      extensions: {},
    });
    expect(assertionJson({ ...base, response: { ...response, userHandle: null } }).response.userHandle).toBeNull();
  });

  it('round-trips the binary fields through the JSON form', () => {
    const raw = new Uint8Array(64).map((_, i) => (i * 37) & 0xff);
    const json = assertionJson({
      id: toBase64url(raw),
      rawId: buffer(raw),
      type: 'public-key',
      response: { clientDataJSON: buffer(clientData), authenticatorData: buffer(raw.subarray(0, 37)), signature: buffer(raw.subarray(10)), userHandle: null },
    });
    expect(Array.from(fromBase64url(json.rawId))).toEqual(Array.from(raw));
    expect(Array.from(fromBase64url(json.response.authenticatorData))).toEqual(Array.from(raw.subarray(0, 37)));
    expect(Array.from(fromBase64url(json.response.signature))).toEqual(Array.from(raw.subarray(10)));
  });

  it('refuses to send an assertion as a registration and the other way round', () => {
    const assertion: CredentialLike = { id: 'AA', rawId: new ArrayBuffer(1), type: 'public-key', response: { clientDataJSON: new ArrayBuffer(1), authenticatorData: new ArrayBuffer(1), signature: new ArrayBuffer(1) } };
    expect(() => registrationJson(assertion)).toThrow(TypeError);
    const registration: CredentialLike = { id: 'AA', rawId: new ArrayBuffer(1), type: 'public-key', response: { clientDataJSON: new ArrayBuffer(1), attestationObject: new ArrayBuffer(1) } };
    expect(() => assertionJson(registration)).toThrow(TypeError);
  });
});
