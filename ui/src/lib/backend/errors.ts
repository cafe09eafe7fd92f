// Every failure the backend layer reports, as one typed error. Screens branch on `code` (the
// backend's stable problem+json code, or one of the client-side codes below), never on text.

/** Codes the client itself produces, next to the backend's own. */
export const CLIENT_CODES = [
  'offline',
  'bad_response',
  'signed_out',
  // A security key's sign-in was refused; the backend words it as a wrong password.
  'key_not_accepted',
  // How the browser's WebAuthn prompt ended (see authenticator.ts).
  'webauthn.cancelled',
  'webauthn.already_registered',
  'webauthn.insecure',
  'webauthn.unsupported',
  'webauthn.failed',
] as const;
export type ClientCode = (typeof CLIENT_CODES)[number];

export class BackendError extends Error {
  /** Stable machine code: the backend's `code`, or a ClientCode. */
  readonly code: string;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The backend's detail for this occurrence (field names, role names; never secrets). */
  readonly detail: string | undefined;
  /** Seconds until a retry may succeed (`Retry-After`), when the backend said so. */
  readonly retryAfter: number | undefined;
  /** The field a validation error names, when the detail names one. */
  readonly field: string | undefined;

  constructor(
    code: string,
    status: number,
    options: { detail?: string; retryAfter?: number; field?: string } = {},
  ) {
    super(code);
    this.name = 'BackendError';
    this.code = code;
    this.status = status;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
    this.field = options.field;
  }
}

/** Shape of an RFC 9457 problem document as the Schild backend sends it. */
interface ProblemBody {
  code?: unknown;
  detail?: unknown;
  field?: unknown;
}

/**
 * Turns a failed HTTP answer into a BackendError. Only the documented problem+json fields are
 * read; anything else (an HTML error page from a proxy, a truncated body) becomes `bad_response`
 * with the status, so no raw text ever reaches the screen.
 */
export async function errorFromResponse(response: Response): Promise<BackendError> {
  const retryHeader = response.headers.get('retry-after');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await response.json()) as ProblemBody;
      if (typeof body.code === 'string' && /^[a-z_]{1,64}$/.test(body.code)) {
        const detail = typeof body.detail === 'string' ? body.detail : undefined;
        const field = typeof body.field === 'string' ? body.field : fieldFromDetail(detail);
        return new BackendError(body.code, response.status, { detail, retryAfter, field });
      }
    } catch {
      // fall through: not the JSON it claimed to be
    }
  }
  // No problem document: a proxy or gateway in front answered for a backend it cannot reach.
  if (response.status === 500 || response.status === 502 || response.status === 504) {
    return new BackendError('offline', response.status, { retryAfter });
  }
  if (response.status === 503) {
    return new BackendError('unavailable', response.status, { retryAfter });
  }
  return new BackendError('bad_response', response.status, { retryAfter });
}

/** `username: must be…` style details name the field first. */
function fieldFromDetail(detail: string | undefined): string | undefined {
  const match = detail?.match(/^([a-z_]{1,40}):/);
  return match?.[1];
}

/** A network failure (no answer at all) as a BackendError. */
export function offlineError(): BackendError {
  return new BackendError('offline', 0);
}

export function isBackendError(error: unknown): error is BackendError {
  return error instanceof BackendError;
}
