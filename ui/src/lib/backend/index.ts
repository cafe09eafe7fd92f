// The entry to the backend layer. `createBackend` is the one place that picks an implementation:
// the browser build talks HTTP itself; inside the desktop app the same HTTP client sends its
// requests through the Rust side (see ./tauri.ts), which also owns the vault and security keys
// (./desktop.ts).
import type { Backend } from './backend';
import { HttpBackend } from './http';
import { desktopEnvironment, inDesktopApp } from './tauri';

export type { Backend, BackendKind } from './backend';
export { BackendError, isBackendError } from './errors';
export type * from './types';
export { appInfo, inDesktopApp, type AppInfo } from './tauri';

/** The backend for the browser build at `backendUrl`, or the desktop app's at `desktopBackend`. */
export function createBackend(backendUrl: string, desktopBackend?: string): Backend {
  if (inDesktopApp() && desktopBackend !== undefined) {
    return new HttpBackend('', desktopEnvironment(), 'tauri', desktopBackend);
  }
  return new HttpBackend(backendUrl);
}
