import type { AuditEvent, VerifyResult } from '../../audit/chain.js';
import type { GrantView, RequestView, SessionView } from '../../server/views.js';

/** The JSON the page reads; types only (erased), so the served script carries no imports. */
export type NowGrant = GrantView & { sessions: SessionView[]; can_release: boolean; can_revoke: boolean; original_expires_at: string | null };
export type RequestRow = RequestView & { can_review: boolean };
export interface Gateway {
  host: string;
  port: number;
}
export interface NowData {
  now: string;
  grants: NowGrant[];
  waiting: number;
  ticket_url: string | null;
  gateways: Partial<Record<string, Gateway>>;
  kinds: Record<string, string | null>;
}
export type RoleScope = { kind: 'http'; allow: string[]; deny: string[] } | { kind: 'sql'; classes: string[]; tables: string[]; deny_tables: string[] };
export interface PolicyFacts {
  name: string;
  approval: string;
  max_duration: string | null;
  requires: { reason: boolean; ticket: string | null };
}
export interface RecentGrant {
  id: string;
  role: string;
  state: string;
  reason: string | null;
  starts_at: string;
  ended_at: string;
}
export type ReviewRow = RequestRow & { scope: RoleScope | null; policy_facts: PolicyFacts | null; other_reviewers: string[]; recent_grants: RecentGrant[] };
export interface RequestsData {
  to_review: ReviewRow[];
  mine: RequestRow[];
  decided: RequestRow[];
}
/** One row of `GET /api/resources`: a role the caller may ask for. */
export interface Requestable {
  resource: string;
  kind: string;
  role: string;
  allow: string[];
  approval: string;
  approval_needed: boolean;
  max_duration: string;
  policies: string[];
  requires: { reason: boolean; ticket: string | null };
}
export interface GrantPage {
  grant: GrantView & { sessions: SessionView[] };
  request: RequestView | null;
  extensions: RequestView[];
  details_hidden: boolean;
}
export interface Me {
  user: string;
  groups: string[];
  admin: boolean;
  csrf: string;
}
export type { AuditEvent, GrantView, RequestView, SessionView, VerifyResult };

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>;
