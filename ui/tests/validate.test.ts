import { describe, expect, it } from 'vitest';
import { backendUrl, backupCode, check, confirmation, isValid, keyPin, label, newPassword, optionalLabel, totpCode, username, wholeNumber } from '../src/lib/validate';

describe('form rules', () => {
  it('takes a key PIN of 4 characters up to 63 bytes (CTAP 2.1 §6.5.1)', () => {
    expect(keyPin('')).toBe('v.required');
    expect(keyPin('123')).toBe('v.pin_short');
    expect(keyPin('1234')).toBeNull();
    expect(keyPin('ééé')).toBe('v.pin_short');
    expect(keyPin('x'.repeat(63))).toBeNull();
    expect(keyPin('x'.repeat(64))).toBe('v.pin_long');
    expect(keyPin('é'.repeat(32))).toBe('v.pin_long');
  });

  it('takes short labels without control characters', () => {
    expect(label(64)('  ')).toBe('v.required');
    expect(label(64)('blue key')).toBeNull();
    expect(label(4)('abcde')).toBe('v.too_long');
    expect(label(64)('tab\there')).toBe('v.control');
    expect(optionalLabel(128)('')).toBeNull();
    expect(optionalLabel(3)('SN-42')).toBe('v.too_long');
  });

  it('checks usernames as the backend does', () => {
    expect(username('ada.admin@example')).toBeNull();
    expect(username('')).toBe('v.required');
    expect(username('ab')).toBe('v.username');
    expect(username('has space')).toBe('v.username');
    expect(username('x'.repeat(65))).toBe('v.username');
  });

  it('wants 12 characters for a new password, counted as characters', () => {
    expect(newPassword('short')).toBe('v.password_short');
    expect(newPassword('ééééééééééé')).toBe('v.password_short');
    expect(newPassword('correct horse battery')).toBeNull();
  });

  it('accepts six-digit codes and backup codes in their shape', () => {
    expect(totpCode('123 456')).toBeNull();
    expect(totpCode('12345')).toBe('v.totp');
    expect(totpCode('12345a')).toBe('v.totp');
    expect(backupCode('abcd-efgh-jkmn')).toBeNull();
    expect(backupCode('abcdefghjkmn')).toBeNull();
    expect(backupCode('abcd-efgh')).toBe('v.backup_code');
  });

  it('takes an origin or nothing as the backend address', () => {
    expect(backendUrl('')).toBeNull();
    expect(backendUrl('https://schild.example:8700')).toBeNull();
    expect(backendUrl('ftp://x')).toBe('v.url');
    expect(backendUrl('not a url')).toBe('v.url');
    expect(backendUrl('https://schild.example/api')).toBe('v.url_origin');
  });

  it('checks numbers and typed confirmations', () => {
    expect(wholeNumber(1, 1440)('60')).toBeNull();
    expect(wholeNumber(1, 1440)('0')).toBe('v.range');
    expect(wholeNumber(1, 1440)('1.5')).toBe('v.number');
    expect(confirmation('REVOKE')('revoke')).toBe('v.confirm');
    expect(confirmation('REVOKE')(' REVOKE ')).toBeNull();
  });

  it('reports every failing field, and nothing for a valid form', () => {
    const errors = check({ user: ['', username], code: ['12', totpCode], ok: ['123456', totpCode] });
    expect(errors).toEqual({ user: 'v.required', code: 'v.totp' });
    expect(isValid(errors)).toBe(false);
    expect(isValid(check({ code: ['123456', totpCode] }))).toBe(true);
  });
});
