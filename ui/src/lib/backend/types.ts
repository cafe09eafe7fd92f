// Names for the API's schemas, generated from the backend's OpenAPI document (api.gen.ts).
import type { components } from './api.gen';
import type { AssertionJson, CreationOptionsJson, RegistrationJson, RequestOptionsJson } from './webauthn';

type S = components['schemas'];

export type Profile = S['Profile'];
export type TokenPair = S['TokenPair'];
export type UserView = S['UserView'];
export type AdminUserView = S['AdminUserView'];
export type SessionView = S['SessionView'];
export type TotpEnrollment = S['TotpEnrollment'];
export type BackupCodeSet = S['BackupCodeSet'];
export type IpBlockView = S['IpBlockView'];
export type Dashboard = S['Dashboard'];
export type SecurityKeyView = S['SecurityKeyView'];
export type SecurityKeyList = S['SecurityKeyList'];
export type HardwareKeyView = S['HardwareKeyView'];
export type RequestView = S['RequestView'];
export type GrantView = S['GrantView'];
export type StateView = S['StateView'];
export type CampaignSummaryView = S['CampaignSummaryView'];
export type CampaignView = S['CampaignView'];
export type ItemView = S['ItemView'];
export type StartCampaignRequest = S['StartCampaignRequest'];
export type VerdictDto = S['VerdictDto'];
export type RoleView = S['RoleView'];
export type RoleDetail = S['RoleDetail'];
export type AssignmentView = S['AssignmentView'];
export type CreateUserRequest = S['CreateUserRequest'];
export type NewRequestBody = S['NewRequestBody'];
export type RegisteredView = S['RegisteredView'];

/** A WebAuthn ceremony opened by the backend (`CeremonyView`), with its options typed: the
 *  document declares them a free-form object. */
export interface Ceremony<O> {
  ceremony_id: string;
  expires_at: string;
  options: O;
}
export type RegistrationCeremony = Ceremony<CreationOptionsJson>;
export type SignInCeremony = Ceremony<RequestOptionsJson>;

/** What an enrollment station records with a new key. */
export interface StationRegistration {
  ceremonyId: string;
  name: string;
  credential: RegistrationJson;
  serial?: string;
  station?: string;
}

/** One audit event as the backend lists it: the sequence number and the record. The document
 *  declares the record as a free-form object; this is its shape (schild-core `AuditRecord`). */
export interface AuditEntry {
  id: number;
  at: string;
  actor?: string | null;
  source_ip?: string | null;
  event: { kind: string } & Record<string, unknown>;
}

export interface AuditQuery {
  kind?: string;
  subject?: string;
  before?: number;
  limit?: number;
}

/** The result of the password step. */
export type PasswordStep =
  | { status: 'signed_in' }
  | { status: 'mfa_required'; mfaToken: string; methods: string[]; expiresAt: string };

/** The second factor the person offers. */
export type SecondFactor =
  | { totp: string }
  | { backupCode: string }
  | { securityKey: { ceremonyId: string; credential: AssertionJson } };
