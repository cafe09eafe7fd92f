// The current language and the lookup. `t` reads reactive state, so text in templates follows
// a change of language at once.
import { messages, type MessageId, type Params } from './messages';
import type { Locale } from '../settings';

let current = $state<Locale>('en');

export const i18n = {
  get locale(): Locale {
    return current;
  },
  set locale(locale: Locale) {
    current = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
  },
};

export function t(id: MessageId, params?: Params): string {
  return messages(current, id, params);
}

export type { MessageId };
