// The signed-in session's tokens and the rule for refreshing them. Kept in memory only: a reload
// of the browser build signs out, so no refresh token sits in web storage.

/** What the backend answers at sign-in and at every refresh. */
export interface IssuedPair {
  access_token: string;
  refresh_token: string;
  /** Seconds until the access token expires. */
  expires_in: number;
  session_id: string;
}

/** Refresh this long before the access token expires (the backend gives 15 minutes). */
export const REFRESH_MARGIN_MS = 60_000;

export class TokenStore {
  #access: string | null = null;
  #refresh: string | null = null;
  #expiresAt = 0;
  #session: string | null = null;

  set(pair: IssuedPair, nowMs: number): void {
    this.#access = pair.access_token;
    this.#refresh = pair.refresh_token;
    this.#expiresAt = nowMs + Math.max(0, pair.expires_in) * 1000;
    this.#session = pair.session_id;
  }

  clear(): void {
    this.#access = null;
    this.#refresh = null;
    this.#expiresAt = 0;
    this.#session = null;
  }

  get access(): string | null {
    return this.#access;
  }

  get refresh(): string | null {
    return this.#refresh;
  }

  get session(): string | null {
    return this.#session;
  }

  /** Whether the access token is missing or about to expire at `nowMs`. */
  needsRefresh(nowMs: number): boolean {
    return this.#access === null || nowMs >= this.#expiresAt - REFRESH_MARGIN_MS;
  }

  /** Milliseconds from `nowMs` until a background refresh should run (never negative). */
  refreshDelay(nowMs: number): number {
    return Math.max(0, this.#expiresAt - REFRESH_MARGIN_MS - nowMs);
  }
}
