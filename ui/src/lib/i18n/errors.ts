// Backend error codes to message ids: a title and a recommendation for each known code, and a
// generic pair for codes this build does not know yet.
import { BackendError } from '../backend/errors';
import { isMessageId, type MessageId } from './messages';

export interface Explained {
  code: string;
  title: MessageId;
  recommendation: MessageId;
  /** Seconds until a retry may work, when the backend said so. */
  retryAfter?: number;
  /** The permission a `forbidden` answer names, or a field a validation error names. */
  subject?: string;
}

export function explain(error: unknown): Explained {
  const code = error instanceof BackendError ? error.code : 'unexpected';
  const title = `e.${code}`;
  const recommendation = `r.${code}`;
  const known = isMessageId(title) && isMessageId(recommendation);
  const explained: Explained = {
    code,
    title: known ? (title as MessageId) : 'e.unexpected',
    recommendation: known ? (recommendation as MessageId) : 'r.unexpected',
  };
  if (error instanceof BackendError) {
    if (error.retryAfter !== undefined) explained.retryAfter = error.retryAfter;
    const permission = error.code === 'forbidden' ? error.detail?.match(/[a-z]+:[a-z]+/)?.[0] : undefined;
    const subject = permission ?? error.field;
    if (subject !== undefined) explained.subject = subject;
  }
  return explained;
}
