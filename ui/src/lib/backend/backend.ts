// The one seam between the UI and the outside world. Screens import `Backend` (through the
// context in ../app.svelte.ts), never fetch, so the same UI runs against the HTTP API in a
// browser and, later, against the desktop app's Rust side through Tauri IPC: a second
// implementation of this interface, next to HttpBackend.
import type * as T from './types';
import type { AssertionJson, RegistrationJson } from './webauthn';

/** Which kind of backend this is: capabilities that need the desktop app depend on it. */
export type BackendKind = 'http' | 'tauri';

export interface Backend {
  readonly kind: BackendKind;
  /** Where the backend is, for the top bar. */
  readonly location: string;

  /** Whether the backend answers at all (liveness). */
  ping(): Promise<boolean>;
  /** Called whenever a call shows whether the backend can be reached. */
  onConnectivity(listener: (online: boolean) => void): () => void;
  /** Called with the reason code when the session ends by itself (expired, reused, revoked). */
  onSignedOut(listener: (code: string) => void): () => void;
  /** Called when a write was kept in the desktop's outbox because the backend was unreachable. */
  onQueued(listener: () => void): () => void;
  isSignedIn(): boolean;
  /** The signed-in account's id, once its profile was read. */
  readonly account: string | null;
  /** `Bearer …` for the desktop's outbox, refreshed first when due; null when signed out. */
  currentAuthorization(): Promise<string | null>;

  setup(body: { setup_token: string; username: string; display_name: string; password: string }): Promise<T.UserView>;
  login(username: string, password: string): Promise<T.PasswordStep>;
  /** Finishes sign-in; returns a fresh backup-code set when a backup code was used. */
  secondFactor(mfaToken: string, factor: T.SecondFactor): Promise<string[] | null>;
  /** Opens the security-key second factor for the password step's `mfaToken`. */
  securityKeyChallenge(mfaToken: string): Promise<T.SignInCeremony>;
  /** Opens a passwordless sign-in: any discoverable credential may answer. */
  passwordlessChallenge(): Promise<T.SignInCeremony>;
  /** Signs in with the key's answer; a refused key is `key_not_accepted`. */
  passwordless(ceremonyId: string, credential: AssertionJson): Promise<void>;
  logout(): Promise<void>;

  profile(): Promise<T.Profile>;
  mySessions(): Promise<T.SessionView[]>;
  totpEnroll(password: string): Promise<T.TotpEnrollment>;
  totpConfirm(code: string): Promise<T.BackupCodeSet>;
  totpDisable(password: string, code: string): Promise<void>;
  regenerateBackupCodes(password: string): Promise<T.BackupCodeSet>;
  mySecurityKeys(): Promise<T.SecurityKeyList>;
  renameMySecurityKey(id: string, name: string): Promise<void>;
  revokeMySecurityKey(id: string, password: string): Promise<void>;
  /** Opens the registration of a key for the signed-in account (the password again). */
  myRegistrationChallenge(password: string, passwordless: boolean): Promise<T.RegistrationCeremony>;
  registerMySecurityKey(ceremonyId: string, name: string, credential: RegistrationJson): Promise<T.RegisteredView>;
  myRequests(state?: T.StateView): Promise<T.RequestView[]>;
  requestAccess(body: T.NewRequestBody): Promise<T.RequestView>;

  dashboard(days: number): Promise<T.Dashboard>;
  /** The dashboard drawn as one image (the backend renders it), for saving as a file. */
  dashboardReport(days: number, format: 'svg' | 'png'): Promise<Blob>;

  users(): Promise<T.AdminUserView[]>;
  createUser(body: T.CreateUserRequest): Promise<T.UserView>;
  userSessions(userId: string, includeEnded: boolean): Promise<T.SessionView[]>;
  forceLogout(sessionId: string): Promise<void>;
  unlockUser(userId: string): Promise<void>;
  ipBlocks(): Promise<T.IpBlockView[]>;

  hardwareKeys(): Promise<T.HardwareKeyView[]>;
  /** An enrollment station opens the registration of a key for `userId` (`key:enroll`). */
  registrationChallengeFor(userId: string, passwordless: boolean): Promise<T.RegistrationCeremony>;
  /** Completes it, and the inventory records the physical key. */
  registerSecurityKeyFor(userId: string, registration: T.StationRegistration): Promise<T.RegisteredView>;
  withdrawHardwareKey(id: string, as: 'lost' | 'revoke', reason: string): Promise<void>;

  reviews(): Promise<T.CampaignSummaryView[]>;
  review(id: string): Promise<T.CampaignView>;
  startReview(body: T.StartCampaignRequest): Promise<T.CampaignView>;
  decideReviewItem(id: string, item: string, verdict: T.VerdictDto, reason: string): Promise<void>;
  /** The campaign's report as a file's text. */
  reviewReport(id: string, format: 'csv' | 'json'): Promise<string>;

  accessRequests(state?: T.StateView): Promise<T.RequestView[]>;
  approveRequest(id: string): Promise<void>;
  denyRequest(id: string, reason: string): Promise<void>;
  revokeRequest(id: string, reason: string): Promise<void>;
  grants(): Promise<T.GrantView[]>;

  roles(): Promise<T.RoleView[]>;
  role(name: string): Promise<T.RoleDetail>;
  assignRole(userId: string, role: string, reason: string): Promise<void>;
  unassignRole(userId: string, role: string, reason: string): Promise<void>;

  audit(query: T.AuditQuery): Promise<T.AuditEntry[]>;
}
