// The desktop app's own capabilities: the local key vault and the connected security key. Each
// call is one Rust command; the vault's keys never enter the webview.
import { command, onDesktopEvent } from './tauri';
import type { AssertionJson, CreationOptionsJson, RegistrationJson, RequestOptionsJson } from './webauthn';

import type * as G from './desktop.gen';

// What the commands and events carry, under the names the screens use. The declarations are
// generated from the Rust types (./desktop.gen.ts; a Rust test fails when they drift apart).
export type VaultItem = G.ItemInfo;
export type UnlockMethodView = G.UnlockMethod;
export type VaultStatusView = G.VaultStatus;
export type VaultView = G.VaultView;
export type RotationProgress = G.RotationProgress;
export type RotationReport = G.RotationReport;
export type KeyView = G.KeyView;
/** A write made offline, waiting in the outbox (or refused by the backend when it was sent). */
export type OutboxEntry = G.OutboxView;
/** One of this desktop's recorded actions. */
export type DesktopAction = G.DesktopActionView;
export type SyncReport = G.SyncReport;
export type KeyPrompt = G.KeyPrompt;
/** A fingerprint enrolled on a biometric key (CTAP 2.1 §6.7). */
export type FingerprintView = G.FingerprintView;
/** A discoverable credential stored on the key (CTAP 2.1 §6.8). */
export type KeyCredentialView = G.StoredCredentialView;
/** The credentials the key stores for one relying party. */
export type RelyingPartyView = G.SiteCredentialsView;
export type KioskChanged = G.KioskChanged;

export const desktop = {
  vaultStatus: () => command<VaultView>('vault_status'),
  vaultCreate: (passphrase: string) => command<void>('vault_create', { passphrase }),
  /** Unlocks with `method`: its passphrase, or the connected key (and its PIN), or the OS keyring. */
  vaultUnlock: (method: string, secret: { passphrase?: string; pin?: string } = {}) =>
    command<void>('vault_unlock', { method, passphrase: secret.passphrase ?? null, pin: secret.pin ?? null }),
  vaultLock: () => command<void>('vault_lock'),
  vaultItems: () => command<VaultItem[]>('vault_items'),
  vaultPut: (name: string, purpose: string, value: string, replace: boolean) =>
    command<void>('vault_put', { name, purpose, value, replace }),
  vaultReveal: (name: string) => command<string>('vault_reveal', { name }),
  vaultRemove: (name: string) => command<void>('vault_remove', { name }),
  vaultAddSecurityKey: (id: string, label: string, pin: string | null) => command<void>('vault_add_security_key', { id, label, pin }),
  vaultAddKeyring: (id: string, label: string) => command<void>('vault_add_keyring', { id, label }),
  vaultAddHsm: (id: string, label: string, hsm: { module: string; token: string; key: string; pin: string }) =>
    command<void>('vault_add_hsm', { id, label, ...hsm }),
  vaultAddPassphrase: (id: string, label: string, passphrase: string) =>
    command<void>('vault_add_passphrase', { id, label, passphrase }),
  vaultRemoveMethod: (id: string) => command<void>('vault_remove_method', { id }),
  async vaultRotate(onProgress: (progress: RotationProgress) => void): Promise<RotationReport> {
    const stop = await onDesktopEvent<RotationProgress>('vault-rotation', onProgress);
    try {
      return await command<RotationReport>('vault_rotate');
    } finally {
      stop();
    }
  },
  keyInfo: () => command<KeyView>('key_info'),
  /** Answers a registration ceremony (the backend's options) with the connected key. */
  keyRegister: (options: CreationOptionsJson, pin: string | null) => command<RegistrationJson>('key_register', { options, pin }),
  /** Answers a sign-in ceremony (the backend's options) with the connected key. */
  keyAuthenticate: (options: RequestOptionsJson, pin: string | null) => command<AssertionJson>('key_authenticate', { options, pin }),
  /** Sets the first PIN of a key that has none. */
  keySetPin: (pin: string) => command<void>('key_set_pin', { pin }),
  keyChangePin: (current: string, pin: string) => command<void>('key_change_pin', { current, pin }),
  keyFingerprints: (pin: string) => command<FingerprintView[]>('key_fingerprints', { pin }),
  /** Enrolls a fingerprint; `key-prompt` sample events tell how many touches are still needed. */
  keyFingerprintEnroll: (pin: string, name: string) => command<FingerprintView>('key_fingerprint_enroll', { pin, name }),
  keyFingerprintRemove: (pin: string, id: string) => command<void>('key_fingerprint_remove', { pin, id }),
  keyCredentials: (pin: string) => command<RelyingPartyView[]>('key_credentials', { pin }),
  keyCredentialDelete: (pin: string, id: string) => command<void>('key_credential_delete', { pin, id }),
  /** Factory reset: erases every credential, fingerprint and the PIN (CTAP 2.1 §6.6). */
  keyReset: () => command<void>('key_reset'),
  setDemoKey: (attached: boolean) => command<void>('demo_key_set', { attached }),
  onKeyPrompt: (handler: (prompt: KeyPrompt) => void) => onDesktopEvent<KeyPrompt>('key-prompt', handler),
  desktopActions: (limit: number) => command<DesktopAction[]>('desktop_actions', { limit }),
  outboxList: (account: string | null) => command<OutboxEntry[]>('outbox_list', { account }),
  outboxSync: (account: string, authorization: string) => command<SyncReport>('outbox_sync', { account, authorization }),
  outboxDiscard: (id: string) => command<void>('outbox_discard', { id }),
  /** Ends the enrollment-station mode after an administrator signs in with their key here. */
  kioskLeave: (pin: string | null) => command<void>('kiosk_leave', { pin }),
  onKioskChanged: (handler: (change: KioskChanged) => void) => onDesktopEvent<KioskChanged>('kiosk', handler),
};
