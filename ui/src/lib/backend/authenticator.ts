// Who answers a WebAuthn ceremony. In the browser build the browser itself talks to the key and
// asks for its PIN (navigator.credentials); in the desktop app the Rust side talks to the
// connected key (or the virtual demo key), and the PIN is asked in this UI and passed along.
// Screens take the ceremony's options from the backend, hand them to `authenticator()`, and
// send its answer back: they never see which one it was, except for `asksPin`.
import { desktop } from './desktop';
import { BackendError } from './errors';
import { inDesktopApp } from './tauri';
import {
  assertionJson,
  creationOptions,
  registrationJson,
  requestOptions,
  type AssertionJson,
  type CreationOptionsJson,
  type CredentialLike,
  type RegistrationJson,
  type RequestOptionsJson,
} from './webauthn';

export interface Authenticator {
  /** Whether the UI must ask for the key's PIN itself (the browser asks on its own). */
  readonly asksPin: boolean;
  /** Registers a new credential for the backend's registration options. */
  create(options: CreationOptionsJson, pin?: string): Promise<RegistrationJson>;
  /** Signs the backend's sign-in challenge. */
  get(options: RequestOptionsJson, pin?: string): Promise<AssertionJson>;
}

/** A failed `navigator.credentials` call as a BackendError with a code the catalogue explains. */
export function browserFailure(error: unknown): BackendError {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String((error as { name: unknown }).name) : '';
  const detail = error instanceof Error ? error.message : undefined;
  switch (name) {
    // The person cancelled, the prompt timed out, or the key refused: the spec folds these
    // together on purpose (WebAuthn L3 §13.5.7), so the message names all of them.
    case 'NotAllowedError':
    case 'AbortError':
      return new BackendError('webauthn.cancelled', 0, { detail });
    // A key already holding a credential for this account (excludeCredentials matched).
    case 'InvalidStateError':
      return new BackendError('webauthn.already_registered', 0, { detail });
    // The page's origin does not fit the backend's relying-party id.
    case 'SecurityError':
      return new BackendError('webauthn.insecure', 0, { detail });
    case 'NotSupportedError':
      return new BackendError('webauthn.unsupported', 0, { detail });
    default:
      return new BackendError('webauthn.failed', 0, { detail });
  }
}

function browserCredentials(): CredentialsContainer {
  if (typeof navigator === 'undefined' || navigator.credentials === undefined || typeof globalThis.PublicKeyCredential === 'undefined') {
    throw new BackendError('webauthn.unsupported', 0);
  }
  return navigator.credentials;
}

async function ask(work: () => Promise<Credential | null>): Promise<CredentialLike> {
  let credential: Credential | null;
  try {
    credential = await work();
  } catch (error) {
    throw browserFailure(error);
  }
  if (credential === null || credential.type !== 'public-key') throw new BackendError('webauthn.cancelled', 0);
  return credential as unknown as CredentialLike;
}

/** The browser's own WebAuthn client (it asks for touch and PIN in its own dialog). */
export const browserAuthenticator: Authenticator = {
  asksPin: false,
  async create(options) {
    const container = browserCredentials();
    return registrationJson(await ask(() => container.create(creationOptions(options))));
  },
  async get(options) {
    const container = browserCredentials();
    return assertionJson(await ask(() => container.get(requestOptions(options))));
  },
};

/** The desktop app's CTAP2 client over USB/NFC (or the demo key); the PIN comes from this UI. */
export const desktopAuthenticator: Authenticator = {
  asksPin: true,
  create: (options, pin) => desktop.keyRegister(options, pin === undefined || pin === '' ? null : pin),
  get: (options, pin) => desktop.keyAuthenticate(options, pin === undefined || pin === '' ? null : pin),
};

/** The authenticator of this build: the desktop app's when inside it, else the browser's. */
export function authenticator(): Authenticator {
  return inDesktopApp() ? desktopAuthenticator : browserAuthenticator;
}
