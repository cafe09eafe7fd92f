import { describe, expect, it } from 'vitest';
import { HttpBackend, type HttpEnvironment } from '../src/lib/backend/http';
import { BackendError } from '../src/lib/backend/errors';

/** A scripted backend: access tokens `a1, a2…`, refresh tokens `r1, r2…`, a clock we move. */
function world(options: { reuse?: boolean; tokenLifetime?: number } = {}) {
  let now = 1_000_000;
  let issued = 0;
  const spent = new Set<string>();
  const calls: string[] = [];
  const timers: { at: number; run: () => void }[] = [];
  let serverNow = now;
  const pair = () => {
    issued += 1;
    return { token_type: 'Bearer', access_token: `a${issued}`, refresh_token: `r${issued}`, expires_in: options.tokenLifetime ?? 900, session_id: 's', refresh_expires_at: '' };
  };
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': status < 300 ? 'application/json' : 'application/problem+json' } });
  let validAccess = '';
  let accessExpires = 0;

  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const path = url.replace(/^.*\/api\/v1/, '');
    const auth = new Headers(init?.headers).get('authorization');
    calls.push(`${init?.method ?? 'GET'} ${path}${auth ? ` ${auth.slice(7)}` : ''}`);
    await Promise.resolve();
    if (path === '/auth/login' || path === '/auth/mfa') {
      const p = pair();
      validAccess = p.access_token;
      accessExpires = serverNow + p.expires_in * 1000;
      return json(200, { status: 'signed_in', ...p });
    }
    if (path === '/auth/refresh') {
      const body = JSON.parse(String(init?.body)) as { refresh_token: string };
      if (spent.has(body.refresh_token) || options.reuse) return json(401, { code: 'refresh_reused' });
      spent.add(body.refresh_token);
      const p = pair();
      validAccess = p.access_token;
      accessExpires = serverNow + p.expires_in * 1000;
      return json(200, p);
    }
    if (auth !== `Bearer ${validAccess}`) return json(401, { code: 'unauthenticated' });
    if (serverNow >= accessExpires) return json(401, { code: 'token_expired' });
    return json(200, { ok: true, token: validAccess });
  };

  const env: HttpEnvironment = {
    fetch: fetchImpl as typeof fetch,
    now: () => now,
    setTimer: (run, ms) => {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => {
      const i = timers.indexOf(timer as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  return {
    backend: new HttpBackend('http://backend.test', env),
    calls,
    advance(ms: number, server = ms) {
      now += ms;
      serverNow += server;
      for (const timer of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.run();
      }
    },
  };
}

describe('token refresh', () => {
  it('refreshes in the background a minute before the access token expires', async () => {
    const w = world();
    await w.backend.login('ada', 'pw');
    w.advance(839_000);
    expect(w.calls.filter((c) => c.startsWith('POST /auth/refresh'))).toHaveLength(0);
    w.advance(1_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(w.calls.filter((c) => c.startsWith('POST /auth/refresh'))).toHaveLength(1);
    await w.backend.profile();
    expect(w.calls.at(-1)).toBe('GET /me a2');
  });

  it('shares one refresh between concurrent calls, since a refresh token works once', async () => {
    const w = world();
    await w.backend.login('ada', 'pw');
    w.advance(0);
    w.advance(899_000); // the timer has fired; the access token is about to expire
    await Promise.all([w.backend.profile(), w.backend.mySessions(), w.backend.users()]);
    expect(w.calls.filter((c) => c.startsWith('POST /auth/refresh'))).toHaveLength(1);
    expect(w.backend.isSignedIn()).toBe(true);
  });

  it('retries once after token_expired when the clocks disagree', async () => {
    const w = world();
    await w.backend.login('ada', 'pw');
    w.advance(1_000, 901_000); // the backend's clock is ahead: our token looks fresh to us
    const answer = (await w.backend.profile()) as unknown as { token: string };
    expect(answer.token).toBe('a2');
    expect(w.calls.slice(-3)).toEqual(['GET /me a1', 'POST /auth/refresh', 'GET /me a2']);
  });

  it('signs out and says why when the refresh token was reused', async () => {
    const w = world({ reuse: true });
    const reasons: string[] = [];
    w.backend.onSignedOut((code) => reasons.push(code));
    await w.backend.login('ada', 'pw');
    w.advance(900_000);
    await expect(w.backend.profile()).rejects.toMatchObject({ code: 'refresh_reused' });
    expect(reasons).toEqual(['refresh_reused']);
    expect(w.backend.isSignedIn()).toBe(false);
    await expect(w.backend.profile()).rejects.toBeInstanceOf(BackendError);
  });

  it('reports a network failure as offline, not as a sign-out', async () => {
    const backend = new HttpBackend('http://backend.test', {
      fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch,
      now: () => 0,
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    await expect(backend.login('ada', 'pw')).rejects.toMatchObject({ code: 'offline', status: 0 });
  });
});

describe('reachability', () => {
  it('tells its listeners when calls stop and start reaching the backend', async () => {
    let answer: () => Promise<Response> = () => Promise.reject(new TypeError('Failed to fetch'));
    const backend = new HttpBackend('', {
      fetch: (() => answer()) as typeof fetch,
      now: () => 0,
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    const seen: boolean[] = [];
    backend.onConnectivity((online) => seen.push(online));
    await expect(backend.setup({ setup_token: 't', username: 'ada', display_name: 'Ada', password: 'p' })).rejects.toMatchObject({ code: 'offline' });
    answer = () => Promise.resolve(new Response('', { status: 502 }));
    await expect(backend.login('ada', 'pw')).rejects.toMatchObject({ code: 'offline', status: 502 });
    answer = () => Promise.resolve(new Response(JSON.stringify({ code: 'invalid_credentials' }), { status: 401, headers: { 'content-type': 'application/problem+json' } }));
    await expect(backend.login('ada', 'pw')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(seen).toEqual([false, false, true]);
  });
});

describe('dashboard report', () => {
  it('asks for the period and format and hands back the bytes', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const seen: string[] = [];
    const env: HttpEnvironment = {
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = String(input);
        seen.push(`${init?.method ?? 'GET'} ${url.replace(/^.*\/api\/v1/, '')}`);
        if (url.endsWith('/auth/login')) {
          return new Response(
            JSON.stringify({ status: 'signed_in', token_type: 'Bearer', access_token: 'a1', refresh_token: 'r1', expires_in: 900, session_id: 's', refresh_expires_at: '' }),
            { status: 200, headers: { 'content-type': 'application/json' } },
          );
        }
        if (url.includes('format=gif')) {
          return new Response(JSON.stringify({ code: 'validation_failed', detail: 'query: unknown variant' }), {
            status: 422,
            headers: { 'content-type': 'application/problem+json' },
          });
        }
        return new Response(png, { status: 200, headers: { 'content-type': 'image/png' } });
      }) as typeof fetch,
      now: () => 0,
      setTimer: () => null,
      clearTimer: () => undefined,
    };
    const backend = new HttpBackend('http://backend.test', env);
    await backend.login('admin', 'pw');
    const blob = await backend.dashboardReport(30, 'png');
    expect(blob.type).toBe('image/png');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(png);
    expect(seen).toContain('GET /dashboard/report?days=30&format=png');

    const refused = backend.dashboardReport(30, 'gif' as 'png');
    await expect(refused).rejects.toBeInstanceOf(BackendError);
    await expect(refused).rejects.toMatchObject({ code: 'validation_failed' });
  });
});
