import { describe, expect, it } from 'vitest';
import { en, nl, messages, isMessageId, type MessageId } from '../src/lib/i18n/messages';
import { CLIENT_CODES } from '../src/lib/backend/errors';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Every code the backend can answer with (crates/server/src/error.rs and access/errors.rs). */
const BACKEND_CODES = [
  'invalid_credentials', 'invalid_second_factor', 'challenge_expired', 'ip_blocked', 'unauthenticated',
  'token_expired', 'session_ended', 'refresh_invalid', 'refresh_reused', 'forbidden', 'not_found',
  'method_not_allowed', 'malformed_json', 'invalid_body', 'unsupported_media_type', 'payload_too_large',
  'validation_failed', 'weak_password', 'username_taken', 'setup_done', 'setup_token_invalid',
  'totp_already_enabled', 'totp_not_enrolled', 'unavailable', 'internal', 'already_approved',
  'already_assigned', 'already_decided', 'already_held', 'already_revoked', 'campaign_completed',
  'ceremony_expired', 'changed_concurrently', 'expired', 'hold_released', 'last_admin', 'no_security_key',
  'not_active', 'not_assigned', 'role_builtin', 'role_in_use', 'role_name_taken', 'scope_not_held',
  'security_key_already_registered', 'security_key_model_not_allowed', 'security_key_rejected',
  'security_key_state', 'self_approval', 'self_assignment', 'self_review', 'separation_of_duties',
  'user_verification_required',
];

describe('messages', () => {
  it('has the same keys in English and Dutch', () => {
    expect(Object.keys(nl).sort()).toEqual(Object.keys(en).sort());
  });

  it('has the same placeholders in both languages, and no empty text', () => {
    for (const id of Object.keys(en) as MessageId[]) {
      expect(placeholders(nl[id]), id).toEqual(placeholders(en[id]));
      expect(en[id].trim(), id).not.toBe('');
      expect(nl[id].trim(), id).not.toBe('');
    }
  });

  it('has a title and a recommendation for every backend and client error code', () => {
    for (const code of [...BACKEND_CODES, ...CLIENT_CODES]) {
      expect(isMessageId(`e.${code}`), `e.${code}`).toBe(true);
      expect(isMessageId(`r.${code}`), `r.${code}`).toBe(true);
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(messages('nl', 'perm.needs', { permission: 'audit:read' })).toBe('Hiervoor is de bevoegdheid audit:read nodig.');
    expect(messages('en', 'dash.days')).toBe('Last {days} days');
  });
});
