import type { Generated } from 'kysely';

/** Table shapes. Times are ISO-8601 UTC text so they sort and compare as strings in every supported database. */
export interface RequestsTable {
  id: string;
  user: string;
  resource: string;
  role: string;
  duration_seconds: number;
  reason: string | null;
  ticket: string | null;
  policy: string;
  approvals_needed: number;
  state: string;
  created_at: string;
  review_deadline: string;
  decided_at: string | null;
  extends_grant_id: string | null;
  grant_id: string | null;
}

export interface ReviewsTable {
  request_id: string;
  reviewer: string;
  decision: string;
  comment: string | null;
  at: string;
}

export interface GrantsTable {
  id: string;
  request_id: string;
  user: string;
  resource: string;
  role: string;
  policy: string;
  reason: string | null;
  ticket: string | null;
  approved_by: string;
  starts_at: string;
  expires_at: string;
  state: string;
  ended_at: string | null;
  ended_by: string | null;
  end_reason: string | null;
  secret_verifier: string | null;
  /** `mysql$<SHA1(SHA1(secret))>$<SHA256(SHA256(secret))>` (core/mysql-verifiers.ts); null with the SCRAM verifier. */
  mysql_verifiers: string | null;
}

export interface SessionsTable {
  id: string;
  grant_id: string;
  user: string;
  resource: string;
  role: string;
  client_address: string;
  application_name: string | null;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
  statements: number;
  refused: number;
  bytes_in: number;
  bytes_out: number;
  /** The node that carries the session (0015_nodes); null for sessions from before. */
  node: string | null;
}

export interface ApiTokensTable {
  id: string;
  user: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  /** Added by 0013_identity: tokens issued before it got name `personal`, scope `admin` and 90 days from the migration. */
  name: string;
  scope: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_by: string | null;
  created_by: string | null;
}

/** A user who signed in through the identity provider: name and Airlock groups as of their last sign-in or refresh. */
export interface IdentityUsersTable {
  name: string;
  groups: string;
  subject: string;
  updated_at: string;
}

/** A signed-in dashboard or CLI session: short-lived, refreshed with the provider's refresh token. */
export interface SignInSessionsTable {
  id: string;
  hash: string;
  user: string;
  kind: string;
  created_at: string;
  expires_at: string;
  refresh_token: string | null;
  refreshed_at: string;
  ended_at: string | null;
}

export interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  subject_user: string | null;
  resource: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface OutboxTable {
  id: Generated<number>;
  audit_seq: number;
  sink: string;
  event_type: string;
  payload: string;
  attempts: number;
  next_attempt_at: string;
  delivered_at: string | null;
  last_error: string | null;
}

/** A node of a fleet and when it last said it was alive (0016_fleet_nodes). */
export interface NodesTable {
  name: string;
  started_at: string;
  last_seen: string;
}

export interface Database {
  requests: RequestsTable;
  reviews: ReviewsTable;
  grants: GrantsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  identity_users: IdentityUsersTable;
  sign_in_sessions: SignInSessionsTable;
  audit_events: AuditEventsTable;
  meta: MetaTable;
  outbox: OutboxTable;
  nodes: NodesTable;
}
