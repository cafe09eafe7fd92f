// What the whole UI shares: settings, the backend, the signed-in account, connectivity and the
// running just-in-time elevations.
import { appInfo, createBackend, type AppInfo, type Backend, type Profile, type RequestView } from './backend';
import { desktop, type OutboxEntry, type SyncReport } from './backend/desktop';
import { i18n } from './i18n/index.svelte';
import { loadSettings, saveSettings, type Settings } from './settings';

const PING_MS = 15_000;

class AppState {
  settings = $state<Settings>(loadSettings());
  backend = $state<Backend>(createBackend(''));
  profile = $state<Profile | null>(null);
  /** What the desktop app says about itself; null in the browser build. */
  desktop = $state<AppInfo | null>(null);
  /** In the desktop app: whether the local vault is unlocked (the Vault screen keeps it current). */
  vaultUnlocked = $state(false);
  /** Whether the backend answered the last ping (or the last call). */
  online = $state(true);
  /** The signed-in person's active just-in-time grants. */
  elevations = $state<RequestView[]>([]);
  /** Why the session ended by itself, to say so on the sign-in screen. */
  endedBecause = $state<string | null>(null);
  /** In the desktop app: writes made offline, waiting to be sent (or refused when sent). */
  outbox = $state<OutboxEntry[]>([]);
  /** In the desktop app: what the last round of sending the outbox did. */
  lastSync = $state<SyncReport | null>(null);
  /** Ticks every second, for countdowns. */
  now = $state(Date.now());
  #unsubscribe: (() => void) | null = null;
  #unwatchConnectivity: (() => void) | null = null;
  #unwatchQueued: (() => void) | null = null;

  constructor() {
    this.backend = createBackend(this.settings.backendUrl);
    this.#watch();
  }

  /** Inside the desktop app: ask the Rust side where the backend is, and talk through it. */
  async attachDesktop(): Promise<void> {
    this.desktop = await appInfo();
    this.backend = createBackend('', this.desktop.backend_url);
    this.#watch();
    await desktop.onKioskChanged((change) => {
      if (this.desktop !== null) this.desktop = { ...this.desktop, kiosk: change.kiosk };
    });
    await this.loadOutbox();
  }

  /** Re-reads the desktop's outbox. */
  async loadOutbox(): Promise<void> {
    if (this.desktop === null) return;
    try {
      this.outbox = await desktop.outboxList(this.backend.account);
    } catch {
      // the list is shown again on the next change
    }
  }

  /** Sends the signed-in account's queued writes, when there are any and the backend is back. */
  async syncOutbox(): Promise<void> {
    if (this.desktop === null || this.profile === null || !this.outbox.some((entry) => entry.mine && entry.refused === null)) return;
    try {
      const authorization = await this.backend.currentAuthorization();
      if (authorization === null) return;
      this.lastSync = await desktop.outboxSync(this.profile.id, authorization);
    } catch {
      // offline again, or the session ended (reported through onSignedOut); the queue stays
    }
    await this.loadOutbox();
  }

  start(): void {
    this.applyLook();
    setInterval(() => (this.now = Date.now()), 1000);
    void this.ping();
    setInterval(() => void this.ping(), PING_MS);
    window.addEventListener('online', () => void this.ping());
    window.addEventListener('offline', () => (this.online = false));
  }

  async ping(): Promise<void> {
    this.online = await this.backend.ping();
    if (this.online) {
      await this.syncOutbox();
      await this.loadElevationsIfSignedIn();
    }
  }

  async loadElevationsIfSignedIn(): Promise<void> {
    if (this.profile !== null) await this.loadElevations();
  }

  can(permission: string): boolean {
    return this.profile?.permissions.includes(permission) ?? false;
  }

  async signedIn(): Promise<void> {
    this.endedBecause = null;
    this.profile = await this.backend.profile();
    await this.loadOutbox();
    await this.syncOutbox();
    await this.loadElevations();
  }

  /** Re-reads the account's permissions and elevations (they change with grants and roles). */
  async refreshAccount(): Promise<void> {
    if (this.profile === null) return;
    try {
      this.profile = await this.backend.profile();
    } catch {
      // an ended session is reported through onSignedOut; anything else waits for the next try
    }
    await this.loadElevations();
  }

  async loadElevations(): Promise<void> {
    try {
      this.elevations = await this.backend.myRequests('active');
    } catch {
      this.elevations = [];
    }
  }

  async signOut(): Promise<void> {
    try {
      await this.backend.logout();
    } catch {
      // the session is forgotten locally either way
    }
    this.profile = null;
    this.elevations = [];
  }

  update(change: Partial<Settings>): void {
    const backendChanged = change.backendUrl !== undefined && change.backendUrl !== this.settings.backendUrl;
    this.settings = { ...this.settings, ...change };
    saveSettings(this.settings);
    this.applyLook();
    if (backendChanged && this.desktop === null) {
      void this.signOut();
      this.backend = createBackend(this.settings.backendUrl);
      this.#watch();
      void this.ping();
    }
  }

  applyLook(): void {
    i18n.locale = this.settings.locale;
    const root = document.documentElement;
    if (this.settings.theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.settings.theme;
  }

  #watch(): void {
    this.#unwatchConnectivity?.();
    this.#unwatchConnectivity = this.backend.onConnectivity((online) => (this.online = online));
    this.#unwatchQueued?.();
    this.#unwatchQueued = this.backend.onQueued(() => void this.loadOutbox());
    this.#unsubscribe?.();
    this.#unsubscribe = this.backend.onSignedOut((code) => {
      this.profile = null;
      this.elevations = [];
      this.endedBecause = code;
    });
  }
}

export const app = new AppState();
