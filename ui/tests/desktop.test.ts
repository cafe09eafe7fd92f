import { afterEach, describe, expect, it } from 'vitest';
import { browserFailure, desktopAuthenticator } from '../src/lib/backend/authenticator';
import { desktop } from '../src/lib/backend/desktop';
import { BackendError } from '../src/lib/backend/errors';
import { HttpBackend } from '../src/lib/backend/http';
import { command, desktopEnvironment, inDesktopApp } from '../src/lib/backend/tauri';

type Invoke = (cmd: string, args: Record<string, unknown>) => Promise<unknown>;

/** Stands in for the Tauri runtime's IPC bridge, which the desktop app's webview provides. */
function bridge(invoke: Invoke): Array<[string, Record<string, unknown>]> {
  const calls: Array<[string, Record<string, unknown>]> = [];
  (globalThis as unknown as { window: unknown }).window = {
    __TAURI_INTERNALS__: {
      invoke: (cmd: string, args: Record<string, unknown>) => {
        calls.push([cmd, args]);
        return invoke(cmd, args);
      },
    },
  };
  return calls;
}

afterEach(() => {
  delete (globalThis as { window?: unknown }).window;
});

describe('the desktop relay', () => {
  it('is only used inside the desktop app', () => {
    expect(inDesktopApp()).toBe(false);
    bridge(async () => null);
    expect(inDesktopApp()).toBe(true);
  });

  it('sends API requests through backend_fetch and passes the answer on unchanged', async () => {
    const calls = bridge(async () => ({ status: 201, content_type: 'application/json', body: '{"id":"u1"}' }));
    const env = desktopEnvironment();
    const response = await env.fetch('/api/v1/admin/users', {
      method: 'POST',
      headers: { authorization: 'Bearer abc', 'content-type': 'application/json' },
      body: '{"username":"ada"}',
    });
    expect(calls).toEqual([
      ['backend_fetch', { request: { method: 'POST', path: '/api/v1/admin/users', authorization: 'Bearer abc', body: '{"username":"ada"}', account: null, queueable: false } }],
    ]);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ id: 'u1' });
  });

  it('passes binary answers (a PNG report) on as bytes', async () => {
    bridge(async () => ({ status: 200, content_type: 'image/png', body: btoa('\x89PNG\r\n\x1a\n'), binary: true, cached_at: null, queued: null }));
    const answer = await desktopEnvironment().fetch('/api/v1/dashboard/report?format=png', { method: 'GET' });
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('marks answers from the offline cache and writes kept in the outbox', async () => {
    bridge(async (_cmd, args) => {
      const request = args.request as { method: string };
      return request.method === 'GET'
        ? { status: 200, content_type: 'application/json', body: '[]', binary: false, cached_at: '2026-12-04T10:00:00Z', queued: null }
        : { status: 202, content_type: 'application/json', body: '{"queued":"q1"}', binary: false, cached_at: null, queued: 'q1' };
    });
    const env = desktopEnvironment();
    const read = await env.fetch('/api/v1/admin/users', { method: 'GET' });
    expect(read.headers.get('x-schild-cached-at')).toBe('2026-12-04T10:00:00Z');
    const write = await env.fetch('/api/v1/admin/users/u1/unlock', { method: 'POST' });
    expect(write.status).toBe(202);
    expect(write.headers.get('x-schild-queued')).toBe('q1');
  });

  it('lets a signed-in account queue its offline writes, and says it is offline meanwhile', async () => {
    const calls = bridge(async (cmd, args) => {
      const request = args.request as { method: string; path: string };
      if (request.path === '/api/v1/auth/login') {
        return { status: 200, content_type: 'application/json', body: JSON.stringify({ status: 'signed_in', token_type: 'Bearer', access_token: 'a1', expires_in: 900, refresh_token: 'r1', refresh_expires_at: '2099-01-01T00:00:00Z', session_id: 's1' }), binary: false, cached_at: null, queued: null };
      }
      if (request.path === '/api/v1/me') {
        return { status: 200, content_type: 'application/json', body: JSON.stringify({ id: 'u-ada', permissions: [] }), binary: false, cached_at: null, queued: null };
      }
      return { status: 202, content_type: 'application/json', body: '{"queued":"q1"}', binary: false, cached_at: null, queued: 'q1' };
    });
    const backend = new HttpBackend('', desktopEnvironment(), 'tauri', 'http://127.0.0.1:9');
    const seen: boolean[] = [];
    let queued = 0;
    backend.onConnectivity((online) => seen.push(online));
    backend.onQueued(() => (queued += 1));
    await backend.login('ada', 'a long passphrase');
    await backend.profile();
    expect(backend.account).toBe('u-ada');
    await backend.unlockUser('u-olga');
    const unlock = calls.at(-1)?.[1].request as Record<string, unknown>;
    expect(unlock).toMatchObject({ path: '/api/v1/admin/users/u-olga/unlock', account: 'u-ada', queueable: true });
    expect(queued).toBe(1);
    expect(seen.at(-1)).toBe(false);
    // A write that needs the backend's answer is never queued.
    await backend.createUser({ username: 'x', display_name: 'x', password: 'p', roles: [] }).catch(() => undefined);
    expect((calls.at(-1)?.[1].request as Record<string, unknown>).queueable).toBe(false);
  });

  it('reports an unreachable backend as offline through HttpBackend', async () => {
    bridge(async () => {
      throw { code: 'offline', message: 'the backend cannot be reached', recommendation: null };
    });
    const backend = new HttpBackend('', desktopEnvironment(), 'tauri', 'http://127.0.0.1:9');
    expect(backend.kind).toBe('tauri');
    expect(backend.location).toBe('http://127.0.0.1:9');
    await expect(backend.login('ada', 'a long passphrase')).rejects.toMatchObject({ code: 'offline' });
  });

  it('turns a command failure into a BackendError with its code', async () => {
    bridge(async () => {
      throw { code: 'vault.wrong_key', message: 'this key does not unlock the vault', recommendation: 'Check the passphrase.' };
    });
    const failure = await command('vault_unlock', { passphrase: 'x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BackendError);
    expect((failure as BackendError).code).toBe('vault.wrong_key');
  });
});

/** Every code src-tauri/src/error.rs and the vault commands answer with. */
const DESKTOP_CODES = [
  'vault.not_created', 'vault.exists', 'vault.no_such_item', 'vault.item_exists', 'vault.no_such_method',
  'vault.method_exists', 'vault.last_method', 'vault.wrong_key', 'vault.invalid_input', 'vault.locked',
  'vault.damaged', 'vault.storage', 'vault.passphrase_too_short', 'vault.empty_value', 'vault.binary_item',
  'key.none_found', 'key.several', 'key.origin', 'settings.write', 'kiosk.not_admin', 'kiosk.not_allowed', 'kiosk.window',
  'outbox.storage', 'outbox.not_found', 'api.bad_request', 'api.unexpected',
];

/** The Rust side's sources that define codes: schild-hwkey's KeyError and the desktop app. */
const RUST_SOURCES = import.meta.glob<string>(['../../crates/hwkey/src/ctap/error.rs', '../../src-tauri/src/*.rs'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

/** The codes those sources answer with. */
function rustCodes(): string[] {
  const codes = new Set<string>();
  for (const text of Object.values(RUST_SOURCES)) {
    for (const match of text.matchAll(/=> "([a-z_]+(?:\.[a-z_]+)+)"/g)) codes.add(match[1]!);
    // Codes as a command error's first argument or in a (code, recommendation) pair; not the
    // names of recorded desktop actions (`desktop.record("vault.unlocked", …)`).
    for (const match of text.matchAll(/(?<!record)\(\s*"((?:key|vault|settings|local_backend|kiosk|outbox|api)(?:\.[a-z_]+)+)"/g)) codes.add(match[1]!);
  }
  return [...codes];
}

describe('desktop error codes', () => {
  it('are all found in the Rust sources', () => {
    const codes = rustCodes();
    expect(codes).toContain('key.pin.wrong');
    expect(codes).toContain('key.reset.window_passed');
    expect(codes).toContain('vault.wrong_key');
  });

  it('each has a message and a recommendation', async () => {
    const { isMessageId } = await import('../src/lib/i18n/messages');
    for (const code of [...DESKTOP_CODES, ...rustCodes()]) {
      expect(isMessageId(`e.${code}`), code).toBe(true);
      expect(isMessageId(`r.${code}`), code).toBe(true);
    }
  });
});

describe('the key commands', () => {
  it('pass their arguments in camelCase as the Rust commands take them', async () => {
    const calls = bridge(async () => null);
    const options = { publicKey: { challenge: 'AA', rpId: 'localhost' } };
    await desktop.keyAuthenticate(options, '1234');
    await desktop.keyChangePin('1234', '5678');
    await desktop.keyFingerprintEnroll('1234', 'right index');
    await desktop.keyCredentialDelete('1234', 'cred');
    await desktop.keyReset();
    expect(calls).toEqual([
      ['key_authenticate', { options, pin: '1234' }],
      ['key_change_pin', { current: '1234', pin: '5678' }],
      ['key_fingerprint_enroll', { pin: '1234', name: 'right index' }],
      ['key_credential_delete', { pin: '1234', id: 'cred' }],
      ['key_reset', {}],
    ]);
  });

  it('send no PIN rather than an empty one', async () => {
    const calls = bridge(async () => ({}));
    const options = { publicKey: { rp: { name: 'Schild' }, user: { id: 'AA', name: 'a', displayName: 'A' }, challenge: 'AA', pubKeyCredParams: [] } };
    await desktopAuthenticator.create(options, '');
    await desktopAuthenticator.create(options, '482916');
    expect(calls.map(([, args]) => args.pin)).toEqual([null, '482916']);
  });

  it('report a wrong PIN with its code', async () => {
    bridge(async () => {
      throw { code: 'key.pin.wrong', message: 'wrong PIN; 7 attempts left before the key locks', recommendation: 'Check the PIN.' };
    });
    await expect(desktop.keyFingerprints('0000')).rejects.toMatchObject({ code: 'key.pin.wrong' });
  });
});

describe('the browser prompt', () => {
  it('turns each WebAuthn failure into a code the catalogue explains', async () => {
    const { isMessageId } = await import('../src/lib/i18n/messages');
    const cases: [string, string][] = [
      ['NotAllowedError', 'webauthn.cancelled'],
      ['AbortError', 'webauthn.cancelled'],
      ['InvalidStateError', 'webauthn.already_registered'],
      ['SecurityError', 'webauthn.insecure'],
      ['NotSupportedError', 'webauthn.unsupported'],
      ['UnknownError', 'webauthn.failed'],
    ];
    for (const [name, code] of cases) {
      const failure = browserFailure(Object.assign(new Error('The operation either timed out or was not allowed.'), { name }));
      expect(failure.code, name).toBe(code);
      expect(isMessageId(`e.${code}`) && isMessageId(`r.${code}`), code).toBe(true);
    }
    expect(browserFailure('not an error').code).toBe('webauthn.failed');
  });
});
