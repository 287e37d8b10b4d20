import { AirlockError } from './errors.js';
import type { User } from './model.js';

export interface ClaimRules {
  readonly usernameClaim: string;
  readonly groupsClaim: string;
  /** IdP group → Airlock groups. Empty: the provider's group names are used as they are. */
  readonly groupsMap: ReadonlyMap<string, readonly string[]>;
}

const refused = (code: string, message: string) => new AirlockError(code, 'unauthenticated', message);

// Printable and without spaces: the name reaches SQL clients as a login name and the audit log as an actor.
const USERNAME = /^[\p{L}\p{N}\p{P}\p{S}]{1,200}$/u;
const GROUP = /^[a-z0-9][a-z0-9_.-]*$/i;

function claimGroups(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const raw = claims[claim];
  if (raw === undefined || raw === null) {
    const overage = (claims._claim_names as Record<string, unknown> | undefined)?.[claim];
    if (overage !== undefined) {
      // Entra ID sends a pointer instead of the list above 200 groups; signing in without groups would look like a demotion.
      throw refused('oidc_groups_overage', `the identity provider sent a pointer (_claim_names) instead of the "${claim}" claim, as Entra ID does above 200 groups; emit only the groups assigned to the application (groupMembershipClaims: "ApplicationGroup")`);
    }
    return [];
  }
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  return list.filter((g): g is string => typeof g === 'string' && g.length > 0);
}

/**
 * The Airlock user a verified set of claims describes: the name from the
 * configured claim, the groups from the groups claim mapped through
 * `groups_map` (unmapped provider groups are dropped when a map is given),
 * so policies keep speaking of Airlock's own group names.
 */
export function userFromClaims(rules: ClaimRules, claims: Readonly<Record<string, unknown>>): User & { readonly subject: string } {
  const name = claims[rules.usernameClaim];
  if (typeof name !== 'string' || !USERNAME.test(name)) {
    throw refused('oidc_no_username', `the identity provider's answer has no usable "${rules.usernameClaim}" claim to name the user by; set identity.oidc.username_claim to one it sends`);
  }
  if (rules.usernameClaim === 'email' && claims.email_verified === false) {
    throw refused('oidc_email_unverified', `the identity provider says ${name} is not verified; an unverified email cannot name an Airlock user`);
  }
  const groups = new Set<string>();
  for (const g of claimGroups(claims, rules.groupsClaim)) {
    if (rules.groupsMap.size === 0) {
      if (GROUP.test(g)) groups.add(g);
    } else {
      for (const mapped of rules.groupsMap.get(g) ?? []) groups.add(mapped);
    }
  }
  return { name, groups: [...groups].sort(), subject: String(claims.sub ?? '') };
}
