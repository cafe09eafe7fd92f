// The entry to the backend layer. `createBackend` is the one place that picks an implementation:
// the browser build talks HTTP; the desktop build will add a Tauri IPC implementation of the
// same `Backend` interface here.
import type { Backend } from './backend';
import { HttpBackend } from './http';

export type { Backend, BackendKind } from './backend';
export { BackendError, isBackendError } from './errors';
export type * from './types';

export function createBackend(backendUrl: string): Backend {
  return new HttpBackend(backendUrl);
}
