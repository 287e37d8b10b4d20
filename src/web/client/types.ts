import type { AuditEvent, VerifyResult } from '../../audit/chain.js';
import type { GrantView, RequestView, SessionView } from '../../server/views.js';

/** The JSON the page reads; types only (erased), so the served script carries no imports. */
export type NowGrant = GrantView & { sessions: SessionView[]; can_release: boolean; can_revoke: boolean };
export type RequestRow = RequestView & { can_review: boolean };
export interface Me {
  user: string;
  groups: string[];
  admin: boolean;
  csrf: string;
}
export type { AuditEvent, GrantView, SessionView, VerifyResult };

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>;
