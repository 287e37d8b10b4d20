import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { oidcSettings } from '../../src/server/identity-config.js';

/** airlock.yaml with an identity provider: users and reviewers come from the provider, so the file may list none. */

const WITH_PROVIDER = `
identity:
  oidc:
    issuer: https://idp.example.com
    client_id: airlock
    client_secret_env: AIRLOCK_OIDC_SECRET
    groups_map: { "eng-oncall": oncall, sre: sre-leads, platform: [engineering, oncall] }
admins: { groups: [airlock-admins] }
auditors: { groups: [compliance] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432 }
    roles:
      write: { credential: { user: orders_rw }, allow: [read, write] }
policies:
  - name: writes-need-a-lead
    who: { groups: [engineering] }
    resources: { names: [orders-db] }
    roles: [write]
    approval: { count: 1, from: { groups: [sre-leads] } }
`;

describe('identity settings in airlock.yaml', () => {
  it('accepts a file with no users and IdP-group reviewers when identity.oidc is set, with documented defaults', () => {
    const loaded = parseConfig(WITH_PROVIDER, 'airlock.yaml', '/tmp');
    expect(loaded.directory.users.size).toBe(0);
    expect(loaded.file.identity.token_expiry).toBe('90d');
    expect(loaded.file.visibility.statements).toBe('own');
    const settings = oidcSettings(loaded.file, { AIRLOCK_OIDC_SECRET: 's3cret' })!;
    expect(settings).toMatchObject({ usernameClaim: 'email', groupsClaim: 'groups', scopes: ['openid', 'email', 'profile'], sessionTtlSeconds: 3600, sessionMaxSeconds: 43_200, clientSecret: 's3cret' });
    expect(settings.groupsMap.get('platform')).toEqual(['engineering', 'oncall']);
    expect(settings.groupsMap.get('sre')).toEqual(['sre-leads']);
  });

  it('still needs users, and reviewers among them, without a provider', () => {
    const noProvider = WITH_PROVIDER.replace(/identity:[\s\S]*?admins:/, 'admins:');
    expect(() => parseConfig(noProvider, 'airlock.yaml', '/tmp')).toThrow(/users: needs at least one user, or identity.oidc/);
    const oneUser = `users:\n  - { name: alice, groups: [engineering] }\n${noProvider}`;
    expect(() => parseConfig(oneUser, 'airlock.yaml', '/tmp')).toThrow(/approval.from: selects no user/);
  });

  it('refuses to start when the client secret\'s environment variable is not set, naming it', () => {
    const loaded = parseConfig(WITH_PROVIDER, 'airlock.yaml', '/tmp');
    expect(() => oidcSettings(loaded.file, {})).toThrow('identity.oidc.client_secret_env names AIRLOCK_OIDC_SECRET, which is not set');
  });
});
