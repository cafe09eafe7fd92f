import { describe, expect, it } from 'vitest';
import { BackendError, errorFromResponse } from '../src/lib/backend/errors';
import { explain } from '../src/lib/i18n/errors';

function problem(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } });
}

describe('error mapping', () => {
  it('keeps the backend code, detail, field and Retry-After', async () => {
    const error = await errorFromResponse(
      problem(403, { type: 'urn:schild:problem:ip_blocked', title: 'x', status: 403, code: 'ip_blocked', recommendation: 'y' }, { 'retry-after': '1800' }),
    );
    expect(error).toBeInstanceOf(BackendError);
    expect(error.code).toBe('ip_blocked');
    expect(error.retryAfter).toBe(1800);
    const invalid = await errorFromResponse(problem(422, { code: 'validation_failed', detail: 'username: must be at most 64 characters' }));
    expect(invalid.field).toBe('username');
  });

  it('never passes on text that is not a problem document', async () => {
    const html = await errorFromResponse(new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } }));
    expect(html.code).toBe('offline');
    const busy = await errorFromResponse(new Response('', { status: 503 }));
    expect(busy.code).toBe('unavailable');
    const junk = await errorFromResponse(new Response('{"code": "<script>"}', { status: 400, headers: { 'content-type': 'application/json' } }));
    expect(junk.code).toBe('bad_response');
    const truncated = await errorFromResponse(new Response('{"code": "inv', { status: 400, headers: { 'content-type': 'application/json' } }));
    expect(truncated.code).toBe('bad_response');
  });

  it('maps codes to translated messages, unknown codes to the generic pair', () => {
    expect(explain(new BackendError('refresh_reused', 401))).toMatchObject({ title: 'e.refresh_reused', recommendation: 'r.refresh_reused' });
    expect(explain(new BackendError('a_code_from_the_future', 409))).toMatchObject({ code: 'a_code_from_the_future', title: 'e.unexpected' });
    expect(explain(new TypeError('boom'))).toMatchObject({ code: 'unexpected', title: 'e.unexpected' });
    expect(explain(new BackendError('forbidden', 403, { detail: 'this needs the permission audit:read' })).subject).toBe('audit:read');
  });
});
