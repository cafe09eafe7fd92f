// The Backend over HTTP: the Schild API under /api/v1 with a bearer access token, refreshed in
// the background with the rotating refresh token. Errors become BackendError with the backend's
// stable code.
import type { Backend, BackendKind } from './backend';
import { BackendError, errorFromResponse, offlineError } from './errors';
import { TokenStore, type IssuedPair } from './tokens';
import type * as T from './types';
import type { AssertionJson, RegistrationJson } from './webauthn';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What HttpBackend needs from its surroundings; tests pass their own. */
export interface HttpEnvironment {
  fetch: typeof fetch;
  now: () => number;
  setTimer: (run: () => void, ms: number) => unknown;
  clearTimer: (timer: unknown) => void;
}

const browserEnvironment = (): HttpEnvironment => ({
  fetch: (input, init) => globalThis.fetch(input, init),
  now: () => Date.now(),
  setTimer: (run, ms) => globalThis.setTimeout(run, ms),
  clearTimer: (timer) => globalThis.clearTimeout(timer as ReturnType<typeof setTimeout>),
});

/** Codes that mean the session is over: sign in again. */
const SESSION_OVER = new Set(['refresh_invalid', 'refresh_reused', 'session_ended', 'unauthenticated']);

interface CallOptions {
  body?: unknown;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** Read the answer as text instead of JSON. */
  text?: boolean;
  /** Read the answer as bytes (a file such as an image) instead of JSON. */
  blob?: boolean;
  /**
   * In the desktop app: when the backend cannot be reached, this write may wait in the outbox
   * and be sent when it is back (only writes whose caller needs no answer body).
   */
  queueable?: boolean;
}

/**
 * Headers between HttpBackend and the desktop app's relay (./tauri.ts), never sent to the
 * backend: who is signed in (whose offline answers may be shown, who made a queued write),
 * whether a write may be queued, and, on the way back, that an answer came from the offline
 * cache or that a write was queued.
 */
export const RELAY = {
  account: 'x-schild-account',
  queueable: 'x-schild-queueable',
  cachedAt: 'x-schild-cached-at',
  queued: 'x-schild-queued',
} as const;

export class HttpBackend implements Backend {
  readonly kind: BackendKind;
  readonly location: string;
  readonly #base: string;
  readonly #env: HttpEnvironment;
  readonly #tokens = new TokenStore();
  #refreshing: Promise<void> | null = null;
  #timer: unknown = null;
  readonly #listeners = new Set<(code: string) => void>();
  readonly #connectivity = new Set<(online: boolean) => void>();
  readonly #queued = new Set<() => void>();
  /** The signed-in account's id, once its profile was read (the desktop relay needs it). */
  #account: string | null = null;

  /** `baseUrl`: the backend's origin, or '' for the page's own origin (a proxy in front). */
  /**
   * In the desktop app (`kind` 'tauri') the environment relays requests to the Rust side, which
   * knows the backend: `baseUrl` is then '' and `location` names the backend for the top bar.
   */
  constructor(
    baseUrl: string,
    env: HttpEnvironment = browserEnvironment(),
    kind: BackendKind = 'http',
    location?: string,
  ) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.kind = kind;
    this.location = location ?? (this.#base === '' ? (globalThis.location?.origin ?? '') : this.#base);
    this.#env = env;
  }

  onSignedOut(listener: (code: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onConnectivity(listener: (online: boolean) => void): () => void {
    this.#connectivity.add(listener);
    return () => this.#connectivity.delete(listener);
  }

  onQueued(listener: () => void): () => void {
    this.#queued.add(listener);
    return () => this.#queued.delete(listener);
  }

  get account(): string | null {
    return this.#account;
  }

  #reachable(online: boolean): void {
    for (const listener of this.#connectivity) listener(online);
  }

  isSignedIn(): boolean {
    return this.#tokens.refresh !== null;
  }

  async ping(): Promise<boolean> {
    try {
      const response = await this.#env.fetch(`${this.#base}/healthz`, { cache: 'no-store' });
      return response.ok;
    } catch {
      return false;
    }
  }

  // ---- transport -------------------------------------------------------------------------

  async #send(method: Method, path: string, options: CallOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json, text/csv, image/svg+xml, image/png',
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (this.kind === 'tauri' && this.#account !== null) {
      headers[RELAY.account] = this.#account;
      if (options.queueable) headers[RELAY.queueable] = '1';
    }
    let response: Response;
    try {
      response = await this.#env.fetch(`${this.#base}/api/v1${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      this.#reachable(false);
      throw offlineError();
    }
    // A gateway's own 5xx (no problem document) means the backend behind it is unreachable.
    const gateway = [500, 502, 504].includes(response.status) && !(response.headers.get('content-type') ?? '').includes('json');
    // An answer from the desktop's offline cache or its outbox: the data is there, the backend is not.
    const relayed = response.headers.has(RELAY.cachedAt) || response.headers.has(RELAY.queued);
    this.#reachable(!gateway && !relayed);
    if (response.headers.has(RELAY.queued)) for (const listener of this.#queued) listener();
    return response;
  }

  async #call<R>(method: Method, path: string, options: CallOptions = {}): Promise<R> {
    const auth = options.auth ?? true;
    if (auth && this.#tokens.needsRefresh(this.#env.now())) await this.#refresh();
    let response = await this.#send(method, path, options, auth ? this.#tokens.access : null);
    if (auth && response.status === 401) {
      const error = await errorFromResponse(response);
      if (error.code !== 'token_expired') throw this.#ended(error);
      // The clock of this machine and the backend's disagree: refresh once and retry.
      await this.#refresh();
      response = await this.#send(method, path, options, this.#tokens.access);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      throw auth && response.status === 401 ? this.#ended(error) : error;
    }
    if (response.status === 204) return undefined as R;
    if (options.text) return (await response.text()) as R;
    if (options.blob) return (await response.blob()) as R;
    try {
      return (await response.json()) as R;
    } catch {
      throw new BackendError('bad_response', response.status);
    }
  }

  /** One refresh at a time: a refresh token works once, so concurrent callers share it. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #doRefresh(): Promise<void> {
    const refreshToken = this.#tokens.refresh;
    if (refreshToken === null) throw new BackendError('signed_out', 401);
    const response = await this.#send('POST', '/auth/refresh', { body: { refresh_token: refreshToken } }, null);
    if (!response.ok) {
      const error = await errorFromResponse(response);
      throw response.status === 401 ? this.#ended(error) : error;
    }
    this.#accept((await response.json()) as IssuedPair);
  }

  #accept(pair: IssuedPair): void {
    this.#tokens.set(pair, this.#env.now());
    if (this.#timer !== null) this.#env.clearTimer(this.#timer);
    this.#timer = this.#env.setTimer(() => {
      this.#timer = null;
      // A failed background refresh is retried by the next call; an ended session is reported.
      this.#refresh().catch(() => undefined);
    }, this.#tokens.refreshDelay(this.#env.now()));
  }

  /** Forgets the session when the backend says it is over, and tells the listeners once. */
  #ended(error: BackendError): BackendError {
    if (SESSION_OVER.has(error.code) && this.#tokens.refresh !== null) {
      this.#forget();
      for (const listener of this.#listeners) listener(error.code);
    }
    return error;
  }

  #forget(): void {
    this.#tokens.clear();
    this.#account = null;
    if (this.#timer !== null) this.#env.clearTimer(this.#timer);
    this.#timer = null;
  }

  // ---- sign-in ---------------------------------------------------------------------------

  setup(body: { setup_token: string; username: string; display_name: string; password: string }): Promise<T.UserView> {
    return this.#call('POST', '/setup', { body, auth: false });
  }

  async login(username: string, password: string): Promise<T.PasswordStep> {
    type Answer = (IssuedPair & { status: 'signed_in' }) | { status: 'mfa_required'; mfa_token: string; methods: string[]; expires_at: string };
    const answer = await this.#call<Answer>('POST', '/auth/login', { body: { username, password }, auth: false });
    if (answer.status === 'signed_in') {
      this.#accept(answer);
      return { status: 'signed_in' };
    }
    return { status: 'mfa_required', mfaToken: answer.mfa_token, methods: answer.methods, expiresAt: answer.expires_at };
  }

  async secondFactor(mfaToken: string, factor: T.SecondFactor): Promise<string[] | null> {
    const body =
      'totp' in factor
        ? { mfa_token: mfaToken, totp_code: factor.totp }
        : 'backupCode' in factor
          ? { mfa_token: mfaToken, backup_code: factor.backupCode }
          : { mfa_token: mfaToken, security_key: { ceremony_id: factor.securityKey.ceremonyId, credential: factor.securityKey.credential } };
    let answer: IssuedPair & { backup_codes?: { codes: string[] } };
    try {
      answer = await this.#call('POST', '/auth/mfa', { body, auth: false });
    } catch (error) {
      throw 'securityKey' in factor ? keyRefusal(error, 'invalid_second_factor') : error;
    }
    this.#accept(answer);
    return answer.backup_codes?.codes ?? null;
  }

  securityKeyChallenge(mfaToken: string): Promise<T.SignInCeremony> {
    return this.#call('POST', '/auth/mfa/security-key', { body: { mfa_token: mfaToken }, auth: false });
  }

  passwordlessChallenge(): Promise<T.SignInCeremony> {
    return this.#call('POST', '/auth/passwordless/options', { auth: false });
  }

  async passwordless(ceremonyId: string, credential: AssertionJson): Promise<void> {
    let answer: IssuedPair;
    try {
      answer = await this.#call('POST', '/auth/passwordless', { body: { ceremony_id: ceremonyId, credential }, auth: false });
    } catch (error) {
      throw keyRefusal(error, 'invalid_credentials');
    }
    this.#accept(answer);
  }

  async logout(): Promise<void> {
    try {
      if (this.isSignedIn()) await this.#call('POST', '/auth/logout');
    } finally {
      this.#forget();
    }
  }

  // ---- the signed-in account ---------------------------------------------------------------

  async profile(): Promise<T.Profile> {
    const profile = await this.#call<T.Profile>('GET', '/me');
    this.#account = profile.id;
    return profile;
  }

  /** The access token for the desktop's outbox, refreshed first when due; null when signed out. */
  async currentAuthorization(): Promise<string | null> {
    if (!this.isSignedIn()) return null;
    if (this.#tokens.needsRefresh(this.#env.now())) await this.#refresh();
    return this.#tokens.access === null ? null : `Bearer ${this.#tokens.access}`;
  }
  mySessions(): Promise<T.SessionView[]> {
    return this.#call('GET', '/me/sessions');
  }
  totpEnroll(password: string): Promise<T.TotpEnrollment> {
    return this.#call('POST', '/me/totp/enroll', { body: { password } });
  }
  totpConfirm(code: string): Promise<T.BackupCodeSet> {
    return this.#call('POST', '/me/totp/confirm', { body: { code } });
  }
  totpDisable(password: string, code: string): Promise<void> {
    return this.#call('POST', '/me/totp/disable', { body: { password, code } });
  }
  regenerateBackupCodes(password: string): Promise<T.BackupCodeSet> {
    return this.#call('POST', '/me/backup-codes/regenerate', { body: { password } });
  }
  mySecurityKeys(): Promise<T.SecurityKeyList> {
    return this.#call('GET', '/me/security-keys');
  }
  renameMySecurityKey(id: string, name: string): Promise<void> {
    return this.#call('PATCH', `/me/security-keys/${enc(id)}`, { body: { name }, queueable: true });
  }
  revokeMySecurityKey(id: string, password: string): Promise<void> {
    return this.#call('POST', `/me/security-keys/${enc(id)}/revoke`, { body: { password } });
  }
  myRegistrationChallenge(password: string, passwordless: boolean): Promise<T.RegistrationCeremony> {
    return this.#call('POST', '/me/security-keys/options', { body: { password, passwordless } });
  }
  registerMySecurityKey(ceremonyId: string, name: string, credential: RegistrationJson): Promise<T.RegisteredView> {
    return this.#call('POST', '/me/security-keys', { body: { ceremony_id: ceremonyId, name, credential } });
  }
  myRequests(state?: T.StateView): Promise<T.RequestView[]> {
    return this.#call('GET', `/access/my-requests${query({ state })}`);
  }
  requestAccess(body: T.NewRequestBody): Promise<T.RequestView> {
    return this.#call('POST', '/access/requests', { body });
  }

  // ---- administration ------------------------------------------------------------------------

  dashboard(days: number): Promise<T.Dashboard> {
    return this.#call('GET', `/dashboard${query({ days })}`);
  }
  dashboardReport(days: number, format: 'svg' | 'png'): Promise<Blob> {
    return this.#call('GET', `/dashboard/report${query({ days, format })}`, { blob: true });
  }
  users(): Promise<T.AdminUserView[]> {
    return this.#call('GET', '/admin/users');
  }
  createUser(body: T.CreateUserRequest): Promise<T.UserView> {
    return this.#call('POST', '/admin/users', { body });
  }
  userSessions(userId: string, includeEnded: boolean): Promise<T.SessionView[]> {
    return this.#call('GET', `/admin/users/${enc(userId)}/sessions${query({ include_ended: includeEnded || undefined })}`);
  }
  forceLogout(sessionId: string): Promise<void> {
    return this.#call('DELETE', `/admin/sessions/${enc(sessionId)}`, { queueable: true });
  }
  unlockUser(userId: string): Promise<void> {
    return this.#call('POST', `/admin/users/${enc(userId)}/unlock`, { queueable: true });
  }
  ipBlocks(): Promise<T.IpBlockView[]> {
    return this.#call('GET', '/admin/ip-blocks');
  }
  hardwareKeys(): Promise<T.HardwareKeyView[]> {
    return this.#call('GET', '/hardware-keys');
  }
  registrationChallengeFor(userId: string, passwordless: boolean): Promise<T.RegistrationCeremony> {
    return this.#call('POST', `/users/${enc(userId)}/security-keys/options`, { body: { passwordless } });
  }
  registerSecurityKeyFor(userId: string, r: T.StationRegistration): Promise<T.RegisteredView> {
    const body = { ceremony_id: r.ceremonyId, name: r.name, credential: r.credential, serial: r.serial ?? null, station: r.station ?? null };
    return this.#call('POST', `/users/${enc(userId)}/security-keys`, { body });
  }
  withdrawHardwareKey(id: string, as: 'lost' | 'revoke', reason: string): Promise<void> {
    return this.#call('POST', `/hardware-keys/${enc(id)}/${as}`, { body: { reason }, queueable: true });
  }
  reviews(): Promise<T.CampaignSummaryView[]> {
    return this.#call('GET', '/reviews');
  }
  review(id: string): Promise<T.CampaignView> {
    return this.#call('GET', `/reviews/${enc(id)}`);
  }
  startReview(body: T.StartCampaignRequest): Promise<T.CampaignView> {
    return this.#call('POST', '/reviews', { body });
  }
  decideReviewItem(id: string, item: string, verdict: T.VerdictDto, reason: string): Promise<void> {
    return this.#call('POST', `/reviews/${enc(id)}/items/${enc(item)}/decision`, { body: { verdict, reason }, queueable: true });
  }
  reviewReport(id: string, format: 'csv' | 'json'): Promise<string> {
    return this.#call('GET', `/reviews/${enc(id)}/report${query({ format })}`, { text: true });
  }
  accessRequests(state?: T.StateView): Promise<T.RequestView[]> {
    return this.#call('GET', `/access/requests${query({ state })}`);
  }
  approveRequest(id: string): Promise<void> {
    return this.#call('POST', `/access/requests/${enc(id)}/approve`, { queueable: true });
  }
  denyRequest(id: string, reason: string): Promise<void> {
    return this.#call('POST', `/access/requests/${enc(id)}/deny`, { body: { reason }, queueable: true });
  }
  revokeRequest(id: string, reason: string): Promise<void> {
    return this.#call('POST', `/access/requests/${enc(id)}/revoke`, { body: { reason }, queueable: true });
  }
  grants(): Promise<T.GrantView[]> {
    return this.#call('GET', '/access/grants');
  }
  roles(): Promise<T.RoleView[]> {
    return this.#call('GET', '/roles');
  }
  role(name: string): Promise<T.RoleDetail> {
    return this.#call('GET', `/roles/${enc(name)}`);
  }
  assignRole(userId: string, role: string, reason: string): Promise<void> {
    return this.#call('POST', `/admin/users/${enc(userId)}/roles`, { body: { role, reason }, queueable: true });
  }
  unassignRole(userId: string, role: string, reason: string): Promise<void> {
    return this.#call('DELETE', `/admin/users/${enc(userId)}/roles/${enc(role)}`, { body: { reason }, queueable: true });
  }
  audit(q: T.AuditQuery): Promise<T.AuditEntry[]> {
    return this.#call('GET', `/admin/audit${query({ kind: q.kind, subject: q.subject, before: q.before, limit: q.limit })}`);
  }
}

/**
 * The backend answers a refused security key as it answers a wrong password or code (`refused`),
 * so that nothing tells which part failed; the screen should still speak of the key.
 */
function keyRefusal(error: unknown, refused: string): unknown {
  if (error instanceof BackendError && error.code === refused) {
    return new BackendError('key_not_accepted', error.status, { retryAfter: error.retryAfter });
  }
  return error;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** `?a=1&b=x` from the defined values, or ''. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
