// Generated from the desktop app's Rust types by src-tauri/src/bindings.rs; do not edit.
// `SCHILD_UPDATE_BINDINGS=1 cargo test -p schild-desktop bindings` writes it again.

export type AppInfo = { version: string, mode: Mode, backend_url: string, kiosk: boolean, demo_key: boolean, 
/**
 * The first-administrator setup token of the local backend, while no account exists.
 */
setup_token: string | null, data_dir: string, };

export type Mode = "local" | "remote";

export type DesktopActionView = { at: string, action: string, detail: string, };

export type CommandError = { 
/**
 * Stable, for the UI's message catalogue (`vault.wrong_key`, `key.none_found`, …).
 */
code: string, 
/**
 * In English, for logs and as the UI's fallback.
 */
message: string, 
/**
 * What the person can do about it.
 */
recommendation: string | null, };

export type FetchRequest = { 
/**
 * GET, POST, PUT, PATCH or DELETE.
 */
method: string, 
/**
 * `/api/v1/…` or `/healthz`.
 */
path: string, 
/**
 * The bearer token, when signed in.
 */
authorization: string | null, 
/**
 * A JSON body.
 */
body: string | null, 
/**
 * The signed-in account's id: whose cached answers may be shown, and who made a queued
 * write.
 */
account: string | null, 
/**
 * Whether this write may wait in the outbox when the backend cannot be reached.
 */
queueable: boolean, };

export type FetchResponse = { status: number, content_type: string | null, body: string, 
/**
 * Whether `body` is base64 of a binary body (a PNG report).
 */
binary: boolean, 
/**
 * Set when the answer comes from the offline cache: when it was fetched (RFC 3339).
 */
cached_at: string | null, 
/**
 * Set when the write was queued in the outbox: its id.
 */
queued: string | null, };

export type OutboxView = { id: string, method: string, path: string, body: string | null, queued_at: string, attempts: number, 
/**
 * The backend's refusal (`{status, code, message, recommendation}`), when it refused.
 */
refused: Refusal | null, 
/**
 * Whether the signed-in account made it (only they can send it).
 */
mine: boolean, };

export type Refusal = { 
/**
 * The HTTP status.
 */
status: number, 
/**
 * The problem's stable code.
 */
code: string, 
/**
 * Its message.
 */
message: string, 
/**
 * What to do, when the backend said.
 */
recommendation: string | null, };

export type SyncReport = { 
/**
 * Entries the backend carried out now.
 */
sent: number, 
/**
 * Entries it had already carried out (an earlier answer was lost); not repeated.
 */
already_done: number, 
/**
 * Entries it refused; they stay, marked, for the person.
 */
refused: number, 
/**
 * Entries still waiting.
 */
remaining: number, 
/**
 * Why the round ended.
 */
stopped: Stopped, };

export type Stopped = "done" | "offline" | "sign_in_needed" | "busy";

export type SyncProgress = { 
/**
 * Entries handled so far.
 */
done: number, 
/**
 * Entries in this round.
 */
total: number, };

export type KeyView = { 
/**
 * `USB`, `NFC` or `virtual`.
 */
transport: string, 
/**
 * Whether this is the virtual demo key rather than hardware.
 */
is_virtual: boolean, 
/**
 * The model's name, when known.
 */
model: string | null, 
/**
 * The model identifier.
 */
aaguid: string | null, 
/**
 * CTAP versions.
 */
versions: Array<string>, 
/**
 * Extensions (`hmac-secret`, …).
 */
extensions: Array<string>, 
/**
 * Whether a PIN is set.
 */
has_pin: boolean, 
/**
 * PIN attempts left.
 */
pin_retries: number | null, 
/**
 * Whether it reads fingerprints.
 */
biometric: boolean, 
/**
 * Firmware version.
 */
firmware_version: number | null, 
/**
 * Room for more passkeys, where the key says.
 */
remaining_passkeys: number | null, };

export type KeyPrompt = { "step": "touch" } | { "step": "sample", remaining: number, };

export type FingerprintView = { 
/**
 * The key's identifier for it (base64url).
 */
id: string, 
/**
 * Its name.
 */
name: string | null, };

export type SiteCredentialsView = { 
/**
 * The site (relying party id).
 */
rp_id: string | null, 
/**
 * Its name.
 */
rp_name: string | null, 
/**
 * Its credentials.
 */
credentials: Array<StoredCredentialView>, };

export type StoredCredentialView = { 
/**
 * Its id (base64url), for deleting it.
 */
id: string, 
/**
 * The account name the site gave.
 */
user_name: string | null, 
/**
 * The display name the site gave.
 */
user_display_name: string | null, };

export type KioskChanged = { kiosk: boolean, by: string, };

export type VaultView = { 
/**
 * Whether a vault exists yet.
 */
created: boolean, 
/**
 * Whether it is unlocked in this app now.
 */
unlocked: boolean, 
/**
 * Seconds until it locks itself, while unlocked.
 */
locks_in_secs: number | null, 
/**
 * Its state, when it exists.
 */
status: VaultStatus | null, };

export type VaultStatus = { 
/**
 * Its id.
 */
id: string, 
/**
 * Its display name.
 */
name: string, 
/**
 * The KEK version that seals.
 */
current_version: number, 
/**
 * KEK versions in use, oldest first; more than one while a rotation is unfinished.
 */
versions: Array<KeyVersionStatus>, 
/**
 * Items in all.
 */
items: number, 
/**
 * Days between rotations.
 */
rotation_days: number, 
/**
 * Whether a rotation is due (and why), or unfinished.
 */
rotation: RotationState, 
/**
 * Seconds without use before it locks.
 */
auto_lock_secs: number, 
/**
 * Its unlock methods.
 */
unlock_methods: Array<UnlockMethod>, };

export type KeyVersionStatus = { 
/**
 * Its version.
 */
version: number, 
/**
 * Items whose data keys it wraps.
 */
items: number, 
/**
 * Data keys it has wrapped in all.
 */
wraps: number, 
/**
 * When it was made.
 */
created_at: string, };

export type RotationState = "up-to-date" | "due-by-age" | "due-by-usage" | "unfinished";

export type UnlockMethod = { 
/**
 * Its id within the vault.
 */
id: string, 
/**
 * What the person calls it ("recovery passphrase", "YubiKey 5 NFC on the keyring").
 */
label: string, 
/**
 * Its parameters.
 */
params: UnlockParams, 
/**
 * When it was added.
 */
created_at: string, 
/**
 * When it last unlocked the vault.
 */
last_used_at: string | null, };

export type UnlockParams = { "kind": "passphrase", 
/**
 * The salt, base64url.
 */
salt: string, 
/**
 * Argon2id memory in KiB.
 */
memory_kib: number, 
/**
 * Argon2id passes.
 */
passes: number, 
/**
 * Argon2id lanes.
 */
lanes: number, } | { "kind": "keyring", 
/**
 * Which keyring store.
 */
backend: string, 
/**
 * The entry's service name.
 */
service: string, 
/**
 * The entry's name.
 */
entry: string, } | { "kind": "security-key", 
/**
 * The credential made for the vault, as `schild_hwkey` serialises it (credential id,
 * RP id, salt, AAGUID).
 */
credential: unknown, } | { "kind": "session", 
/**
 * The entry's service name in the session keyring.
 */
service: string, 
/**
 * The entry's name.
 */
entry: string, } | { "kind": "hsm", 
/**
 * The PKCS#11 module's path.
 */
module: string, 
/**
 * The token's label.
 */
token: string, 
/**
 * The key's label.
 */
key: string, };

export type ItemInfo = { 
/**
 * Its name.
 */
name: string, 
/**
 * What it is for.
 */
purpose: string, 
/**
 * The KEK version wrapping its data key.
 */
key_version: number, 
/**
 * When it was stored.
 */
created_at: string, 
/**
 * When its value or wrapping last changed.
 */
updated_at: string, };

export type RotationProgress = { 
/**
 * The KEK version items move to.
 */
to_version: number, 
/**
 * Items re-wrapped so far in this run.
 */
done: number, 
/**
 * Items that needed re-wrapping when this run started.
 */
total: number, };

export type RotationReport = { 
/**
 * The current KEK version afterwards.
 */
version: number, 
/**
 * Whether this run began the rotation (else it resumed an unfinished one).
 */
began: boolean, 
/**
 * Items re-wrapped by this run.
 */
rewrapped: number, 
/**
 * KEK versions destroyed because nothing used them any more.
 */
retired: Array<number>, };
