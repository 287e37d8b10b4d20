import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

function problem(yaml: string): string {
  try {
    parseConfig(yaml, 'airlock.yaml', '/tmp');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('airlock.yaml', () => {
  it('accepts the documented example and applies defaults', () => {
    const { file, directory } = parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', '/tmp');
    expect(file.server.listen).toBe('127.0.0.1:8700');
    expect(file.store).toBe('sqlite:.airlock/airlock.db');
    expect(directory.reviewTimeoutSeconds).toBe(1800);
    expect(directory.resources.get('orders-db')?.roles.get('read')?.denyTables).toEqual(['public.payment_tokens']);
  });

  it('names the file, key path and problem for a role no selected resource defines', () => {
    const bad = EXAMPLE_CONFIG.replace('roles: [read]\n    max_duration: 1h', 'roles: [read, superuser]\n    max_duration: 1h');
    expect(problem(bad)).toBe('airlock.yaml: policies[0].roles[1]: role "superuser" is not defined on any resource the policy selects');
  });

  it('refuses a malformed duration with the accepted forms', () => {
    expect(problem(EXAMPLE_CONFIG.replace('review_timeout: 30m', 'review_timeout: 30 minutes'))).toBe(
      'airlock.yaml: review_timeout: must be a duration like 90s, 15m, 1h30m, 4h or 2d',
    );
  });

  it('refuses unknown keys, so typos do not silently do nothing', () => {
    expect(problem(EXAMPLE_CONFIG.replace('review_timeout: 30m', 'review_timeout: 30m\nzzz: 1'))).toMatch(
      /^airlock\.yaml: top level: unknown key "zzz" \(known here: server, store, .*review_timeout, .*users, /,
    );
  });

  it('suggests the closest known key for a typo, at any depth', () => {
    expect(problem(EXAMPLE_CONFIG.replace('review_timeout: 30m', 'reveiw_timeout: 30m'))).toBe('airlock.yaml: top level: unknown key "reveiw_timeout"; did you mean "review_timeout"?');
    expect(problem(`${EXAMPLE_CONFIG}gateway: { postgres: { listne: "127.0.0.1:15432" } }\n`)).toBe('airlock.yaml: gateway.postgres: unknown key "listne"; did you mean "listen"?');
    expect(problem(EXAMPLE_CONFIG.replace('deny_tables: ["public.payment_tokens"]', 'deny_table: ["public.payment_tokens"]'))).toBe(
      'airlock.yaml: resources[0].roles.read: unknown key "deny_table"; did you mean "deny_tables"?',
    );
    expect(problem(EXAMPLE_CONFIG.replace('approval: none', 'aproval: none'))).toContain('unknown key "aproval"; did you mean "approval"?');
  });

  it('names the expected form for a wrong type, not only the type', () => {
    expect(problem(`${EXAMPLE_CONFIG}gateway: { postgres: { listen: 15432 } }\n`)).toBe('airlock.yaml: gateway.postgres.listen: expected "HOST:PORT" like "127.0.0.1:15432", got 15432');
    expect(problem(`${EXAMPLE_CONFIG}server: { listen: "8700" }\n`)).toBe('airlock.yaml: server.listen: expected "HOST:PORT" like "127.0.0.1:15432"');
    expect(problem(EXAMPLE_CONFIG.replace('review_timeout: 30m', 'review_timeout: 30'))).toBe(
      'airlock.yaml: review_timeout: expected a duration like "15m" (90s, 15m, 1h30m, 4h, 2d), got 30',
    );
    expect(problem(EXAMPLE_CONFIG.replace('port: 5432,', 'port: "five",'))).toBe('airlock.yaml: resources[0].upstream.port: expected a port number like 5432, got "five"');
    expect(problem('users: alice\n')).toBe('airlock.yaml: users: expected a list of users like [{ name: alice, groups: [oncall] }], got "alice"');
  });

  it('refuses a policy naming an undefined user or resource', () => {
    expect(problem(EXAMPLE_CONFIG.replace('who: { groups: [oncall] }', 'who: { users: [mallory] }'))).toContain(
      'policies[0].who.users[0]: user "mallory" is not defined under users',
    );
    expect(problem(EXAMPLE_CONFIG.replace('names: [orders-db] }\n    roles: [write]', 'names: [billing-db] }\n    roles: [write]'))).toContain(
      'policies[1].resources.names[0]: resource "billing-db" is not defined under resources',
    );
  });

  it('refuses an approval no one could ever give', () => {
    expect(problem(EXAMPLE_CONFIG.replace('from: { groups: [sre-leads] } }\n    require', 'from: { groups: [nobody] } }\n    require'))).toContain(
      'policies[1].approval.from: selects no user',
    );
  });

  it('reports YAML syntax errors with their position, once', () => {
    const message = problem('users:\n  - { name: alice\n');
    expect(message).toMatch(/^airlock\.yaml: line \d+, column \d+: /);
    expect(message.match(/line \d+/g)).toHaveLength(1);
  });

  it('refuses a bad ticket pattern', () => {
    expect(problem(EXAMPLE_CONFIG.replace('"^(INC|CHG)-[0-9]+$"', '"^(INC"'))).toContain('policies[1].require.ticket: not a valid regular expression');
  });

  it('verifies upstream TLS by default and names an unreadable CA file', () => {
    const tls = EXAMPLE_CONFIG.replace('database: orders }', 'database: orders, tls: true }');
    expect(parseConfig(tls, 'airlock.yaml', '/tmp').directory.resources.get('orders-db')?.upstream).toMatchObject({ tls: true, tlsVerify: true });
    expect(problem(EXAMPLE_CONFIG.replace('database: orders }', 'database: orders, tls: true, tls_ca: no-such-ca.pem }'))).toBe(
      'airlock.yaml: resources[0].upstream.tls_ca: cannot read the CA certificate file "no-such-ca.pem"',
    );
  });
});
