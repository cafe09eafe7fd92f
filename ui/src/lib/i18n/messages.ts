// Message lookup. `en` defines the ids; `nl` is typed as `Messages`, so a missing or extra Dutch
// key is a compile error (svelte-check / tsc), and a test checks the placeholders agree.
import { en } from './en';
import { nl } from './nl';
import type { Locale } from '../settings';

export type MessageId = keyof typeof en;
export type Messages = Record<MessageId, string>;
export type Params = Record<string, string | number>;

const dictionaries: Record<Locale, Messages> = { en, nl };

export function isMessageId(id: string): id is MessageId {
  return Object.prototype.hasOwnProperty.call(en, id);
}

/** The message in `locale` with `{name}` placeholders filled; unknown placeholders stay visible. */
export function messages(locale: Locale, id: MessageId, params?: Params): string {
  const text = dictionaries[locale][id] ?? en[id];
  if (params === undefined) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export { en, nl };
