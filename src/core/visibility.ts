import { isMember, type Directory, type Policy, type Selector, type User } from './model.js';
import { isAdmin, reviewsFor } from './policy.js';

/**
 * Who may read what. Everyone signed in sees who holds access (that is the
 * product's point); statement texts are more sensitive — they carry customer
 * data — so by default only the session's own user, the reviewers of its
 * policy, admins and auditors read them (`visibility.statements: own`).
 */
export interface VisibilityRules {
  /** See everything, change nothing. */
  readonly auditors: Selector;
  readonly statements: 'own' | 'all';
}

export const OWN_STATEMENTS: VisibilityRules = { auditors: {}, statements: 'own' };

export function isAuditor(rules: VisibilityRules, user: User): boolean {
  return isMember(user, rules.auditors);
}

/** Admins and auditors read every request, grant, session and audit event. */
export function seesEverything(dir: Directory, rules: VisibilityRules, user: User): boolean {
  return isAdmin(dir, user) || isAuditor(rules, user);
}

/** May `user` read the statements of a session `sessionUser` held under `policy`? */
export function mayReadStatements(dir: Directory, rules: VisibilityRules, user: User, sessionUser: string, policy: Policy | undefined): boolean {
  return rules.statements === 'all' || user.name === sessionUser || seesEverything(dir, rules, user) || reviewsFor(dir, user, policy);
}
