import type { ConfigFile } from '../config/schema.js';
import { parseDuration } from '../core/duration.js';
import type { Directory } from '../core/model.js';
import type { UserLookup } from '../core/tokens.js';
import { findIdentityUser } from '../store/identity-users.js';
import type { Store } from '../store/store.js';
import type { IdentityContext } from './context.js';

/**
 * Users the API knows: those in the YAML file (fixed groups), then those who
 * signed in through the identity provider (groups as of their last sign-in or
 * refresh). A YAML user of the same name wins, so a provider cannot take over
 * a configured account's groups.
 */
export function knownUsers(store: Store, dir: Directory): UserLookup {
  return async (name) => {
    const configured = dir.users.get(name);
    if (configured) return configured;
    const signedIn = await findIdentityUser(store.db, name);
    return signedIn && { name: signedIn.name, groups: signedIn.groups };
  };
}

export function identityContext(file: ConfigFile, dir: Directory, store: Store): IdentityContext {
  return {
    tokenTtlSeconds: parseDuration(file.identity.token_expiry),
    tokenMaxTtlSeconds: file.identity.token_max_expiry ? parseDuration(file.identity.token_max_expiry) : undefined,
    visibility: { auditors: file.auditors, statements: file.visibility.statements },
    users: knownUsers(store, dir),
  };
}
