// The desktop app's side of the backend layer. Inside the Tauri window the webview has no
// network of its own: HTTP calls to the backend go through the Rust side (`backend_fetch`), and
// the vault and security keys are Rust commands. Nothing here runs in the browser build.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { BackendError } from './errors';
import { RELAY, type HttpEnvironment } from './http';
import type * as G from './desktop.gen';

/** Whether this page runs inside the Schild desktop app. */
export function inDesktopApp(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** What the desktop app says about itself at start. */
export type AppInfo = G.AppInfo;

/** A command's failure as the Rust side reports it. */
type CommandFailure = G.CommandError;

function isCommandFailure(value: unknown): value is CommandFailure {
  return typeof value === 'object' && value !== null && typeof (value as CommandFailure).code === 'string';
}

/** Runs a desktop command; its failure becomes a BackendError with the command's code. */
export async function command<R>(name: string, args?: Record<string, unknown>): Promise<R> {
  try {
    return await invoke<R>(name, args);
  } catch (failure) {
    if (isCommandFailure(failure)) {
      throw new BackendError(failure.code, 0, { detail: failure.message });
    }
    throw new BackendError('bad_response', 0);
  }
}

export const appInfo = (): Promise<AppInfo> => command<AppInfo>('app_info');

type FetchAnswer = G.FetchResponse;

/** HttpBackend's environment inside the desktop app: requests travel over IPC. */
export function desktopEnvironment(): HttpEnvironment {
  const relay: typeof fetch = async (input, init) => {
    const path = typeof input === 'string' ? input : input instanceof URL ? input.pathname + input.search : input.url;
    const headers = new Headers(init?.headers);
    let answer: FetchAnswer;
    try {
      const request: G.FetchRequest = {
        method: init?.method ?? 'GET',
        path,
        authorization: headers.get('authorization'),
        body: typeof init?.body === 'string' ? init.body : null,
        account: headers.get(RELAY.account),
        queueable: headers.get(RELAY.queueable) === '1',
      };
      answer = await invoke<FetchAnswer>('backend_fetch', { request });
    } catch {
      // As fetch does when there is no answer: HttpBackend reports the backend offline.
      throw new TypeError('the backend cannot be reached');
    }
    const noBody = answer.status === 204 || answer.status === 304;
    const back: Record<string, string> = {};
    if (answer.content_type !== null) back['content-type'] = answer.content_type;
    if (answer.cached_at !== null) back[RELAY.cachedAt] = answer.cached_at;
    if (answer.queued !== null) back[RELAY.queued] = answer.queued;
    const body = noBody ? null : answer.binary ? Uint8Array.from(atob(answer.body), (c) => c.charCodeAt(0)) : answer.body;
    return new Response(body, { status: answer.status, headers: back });
  };
  return {
    fetch: relay,
    now: () => Date.now(),
    setTimer: (run, ms) => globalThis.setTimeout(run, ms),
    clearTimer: (timer) => globalThis.clearTimeout(timer as ReturnType<typeof setTimeout>),
  };
}

/** Listens to a desktop event until the returned function is called. */
export function onDesktopEvent<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}
