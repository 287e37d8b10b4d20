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
    expect(problem(EXAMPLE_CONFIG.replace('review_timeout: 30m', 'review_timeout: 30m\nreveiw: 1'))).toBe('airlock.yaml: top level: unknown key "reveiw"');
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

  it('reports YAML syntax errors with a line number', () => {
    expect(problem('users:\n  - { name: alice\n')).toMatch(/^airlock\.yaml: line \d+, column \d+: /);
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
