// Form rules, checked before anything is sent. Each rule returns the id of the message to show
// under the field, or null when the value is fine. The backend checks again; these only spare
// people a round trip and keep bad input off the wire.
import type { MessageId } from './i18n/messages';

export type Rule = (value: string) => MessageId | null;

export const required: Rule = (value) => (value.trim() === '' ? 'v.required' : null);

/** Sign-in names as the backend accepts them: 3–64 of letters, digits and `. _ - @`. */
export const username: Rule = (value) => {
  if (value.trim() === '') return 'v.required';
  return /^[A-Za-z0-9._@-]{3,64}$/.test(value) ? null : 'v.username';
};

/** A new password: at least 12 characters (the backend also checks its strength). */
export const newPassword: Rule = (value) => {
  if (value === '') return 'v.required';
  if ([...value].length < 12) return 'v.password_short';
  return new TextEncoder().encode(value).length > 1024 ? 'v.too_long' : null;
};

/** A vault passphrase: at least 12 characters. */
export const passphrase: Rule = (value) => {
  if (value === '') return 'v.required';
  return [...value].length < 12 ? 'v.passphrase_short' : null;
};

/** A rule that the value equals `other` (a repeated passphrase). */
export function sameAs(other: string): Rule {
  return (value) => (value === other ? null : 'v.mismatch');
}

export const totpCode: Rule = (value) => {
  const code = value.replace(/\s+/g, '');
  if (code === '') return 'v.required';
  return /^\d{6}$/.test(code) ? null : 'v.totp';
};

export const backupCode: Rule = (value) => {
  const code = value.trim();
  if (code === '') return 'v.required';
  return /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/.test(code) ? null : 'v.backup_code';
};

/** '' (this page's own origin) or an http(s) origin without a path. */
export const backendUrl: Rule = (value) => {
  const text = value.trim();
  if (text === '') return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'v.url';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'v.url';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return 'v.url_origin';
  return null;
};

export const reason: Rule = (value) => {
  if (value.trim() === '') return 'v.required';
  return [...value].length > 2000 ? 'v.too_long' : null;
};

/** A whole number within [min, max]. */
export function wholeNumber(min: number, max: number): Rule {
  return (value) => {
    const text = value.trim();
    if (text === '') return 'v.required';
    if (!/^\d+$/.test(text)) return 'v.number';
    const n = Number(text);
    return n < min || n > max ? 'v.range' : null;
  };
}

/**
 * A security key's PIN: at least 4 characters (Unicode code points) and at most 63 bytes of
 * UTF-8 (CTAP 2.1 §6.5.1); the key may ask for more.
 */
export const keyPin: Rule = (value) => {
  if (value === '') return 'v.required';
  if ([...value].length < 4) return 'v.pin_short';
  return new TextEncoder().encode(value).length > 63 ? 'v.pin_long' : null;
};

/** A short label (a key's or fingerprint's name): not blank, at most `max` characters, no control characters. */
export function label(max: number): Rule {
  return (value) => {
    if (value.trim() === '') return 'v.required';
    return optionalLabel(max)(value);
  };
}

/** As `label`, but may stay empty. */
export function optionalLabel(max: number): Rule {
  return (value) => {
    if ([...value.trim()].length > max) return 'v.too_long';
    return /[\u0000-\u001f\u007f]/.test(value) ? 'v.control' : null;
  };
}

/** The typed confirmation of a destructive action must match exactly. */
export function confirmation(expected: string): Rule {
  return (value) => (value.trim() === expected ? null : 'v.confirm');
}

/**
 * Checks every field; returns the failures by field name. An empty result means the form may
 * be sent.
 */
export function check<K extends string>(fields: Record<K, [string, Rule]>): Partial<Record<K, MessageId>> {
  const errors: Partial<Record<K, MessageId>> = {};
  for (const key of Object.keys(fields) as K[]) {
    const [value, rule] = fields[key];
    const message = rule(value);
    if (message !== null) errors[key] = message;
  }
  return errors;
}

export function isValid(errors: Partial<Record<string, MessageId>>): boolean {
  return Object.keys(errors).length === 0;
}
