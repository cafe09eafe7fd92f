import { afterEach, describe, expect, it } from 'vitest';
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
      ['backend_fetch', { request: { method: 'POST', path: '/api/v1/admin/users', authorization: 'Bearer abc', body: '{"username":"ada"}' } }],
    ]);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ id: 'u1' });
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
  'key.none_found', 'key.several', 'settings.write',
];

describe('desktop error codes', () => {
  it('each has a message and a recommendation', async () => {
    const { isMessageId } = await import('../src/lib/i18n/messages');
    for (const code of DESKTOP_CODES) {
      expect(isMessageId(`e.${code}`), code).toBe(true);
      expect(isMessageId(`r.${code}`), code).toBe(true);
    }
  });
});
