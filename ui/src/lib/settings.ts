// Preferences kept in the browser's local storage: never secrets, only where the backend is, the
// language, the theme and (in the desktop app) the PKCS#11 module of the HSM.
export type Theme = 'system' | 'light' | 'dark';
export type Locale = 'en' | 'nl';

export interface Settings {
  backendUrl: string;
  locale: Locale;
  theme: Theme;
  /** The PKCS#11 module new HSM unlock methods use (desktop app). */
  hsmModule: string;
}

/** The module Debian's SoftHSM2 installs; real HSMs bring their own (OpenSC, YubiHSM, …). */
export const DEFAULT_HSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

const KEY = 'schild.settings';

export function defaultSettings(languages: readonly string[] = []): Settings {
  const dutch = languages.some((language) => language.toLowerCase().startsWith('nl'));
  return { backendUrl: '', locale: dutch ? 'nl' : 'en', theme: 'system', hsmModule: DEFAULT_HSM_MODULE };
}

/** Reads stored settings, keeping only well-formed values. */
export function parseSettings(raw: string | null, fallback: Settings): Settings {
  if (raw === null) return fallback;
  try {
    const value = JSON.parse(raw) as Partial<Record<keyof Settings, unknown>>;
    return {
      backendUrl: typeof value.backendUrl === 'string' ? value.backendUrl : fallback.backendUrl,
      locale: value.locale === 'en' || value.locale === 'nl' ? value.locale : fallback.locale,
      theme: value.theme === 'light' || value.theme === 'dark' || value.theme === 'system' ? value.theme : fallback.theme,
      hsmModule: typeof value.hsmModule === 'string' && value.hsmModule.startsWith('/') ? value.hsmModule : fallback.hsmModule,
    };
  } catch {
    return fallback;
  }
}

export function loadSettings(): Settings {
  const fallback = defaultSettings(globalThis.navigator?.languages ?? []);
  try {
    return parseSettings(globalThis.localStorage?.getItem(KEY) ?? null, fallback);
  } catch {
    return fallback;
  }
}

export function saveSettings(settings: Settings): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(settings));
  } catch {
    // storage refused (private mode): the settings last for this page only
  }
}
