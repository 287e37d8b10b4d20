import type { ConfigFile } from '../config/schema.js';
import { parseDuration } from '../core/duration.js';
import type { Directory } from '../core/model.js';
import type { UserLookup } from '../core/tokens.js';
import { findIdentityUser } from '../store/identity-users.js';
import type { Store } from '../store/store.js';
import type { IdentityContext } from './context.js';
import type { OidcSettings } from './identity-provider.js';
import type { SignIn } from './sign-in.js';
import { AirlockError } from '../core/errors.js';

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

/** `identity.oidc` as the relying party needs it; the client secret is read from its environment variable here. */
export function oidcSettings(file: ConfigFile, env: NodeJS.ProcessEnv = process.env): OidcSettings | null {
  const o = file.identity.oidc;
  if (!o) return null;
  const secret = o.client_secret_env ? env[o.client_secret_env] : undefined;
  if (o.client_secret_env && !secret) {
    throw new AirlockError('missing_secret', 'invalid', `identity.oidc.client_secret_env names ${o.client_secret_env}, which is not set in the server's environment`);
  }
  return {
    issuer: o.issuer,
    clientId: o.client_id,
    clientSecret: secret,
    usernameClaim: o.username_claim,
    groupsClaim: o.groups_claim,
    groupsMap: new Map(Object.entries(o.groups_map).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
    scopes: o.scopes,
    sessionTtlSeconds: parseDuration(o.session_ttl),
    sessionMaxSeconds: parseDuration(o.session_max),
    displayName: o.display_name,
  };
}

export function identityContext(file: ConfigFile, dir: Directory, store: Store, signIn?: SignIn): IdentityContext {
  return {
    signIn,
    publicUrl: file.server.public_url,
    tokenTtlSeconds: parseDuration(file.identity.token_expiry),
    tokenMaxTtlSeconds: file.identity.token_max_expiry ? parseDuration(file.identity.token_max_expiry) : undefined,
    visibility: { auditors: file.auditors, statements: file.visibility.statements },
    users: knownUsers(store, dir),
  };
}
