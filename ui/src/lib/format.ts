// Dates, times and durations for people, in the current language.
import type { Locale } from './settings';

const TAGS: Record<Locale, string> = { en: 'en-GB', nl: 'nl-NL' };

export function dateTime(iso: string | null | undefined, locale: Locale): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(TAGS[locale], { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function day(iso: string, locale: Locale): string {
  const date = new Date(iso);
  return new Intl.DateTimeFormat(TAGS[locale], { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(date);
}

/** `1:05:09` / `4:07` style time left, from milliseconds; 0 and below give `0:00`. */
export function timeLeft(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mm = hours > 0 ? String(minutes).padStart(2, '0') : String(minutes);
  return `${hours > 0 ? `${hours}:` : ''}${mm}:${String(seconds).padStart(2, '0')}`;
}

export function number(n: number, locale: Locale): string {
  return new Intl.NumberFormat(TAGS[locale]).format(n);
}
