import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const base = (resource: string) => `
users: [{ name: alice, groups: [oncall] }]
resources:
${resource}
policies:
  - name: oncall
    who: { groups: [oncall] }
    resources: { names: [rabbit-admin] }
    roles: [read]
    approval: none
`;

const RABBIT = `
  - name: rabbit-admin
    kind: http
    upstream: { url: "https://rabbit.internal:15671/mgmt/", tls_verify: false }
    roles:
      read:
        credential: { user: monitoring, password_env: RABBIT_RO_PASSWORD }
        http:
          allow: ["GET /api/**", "WEBSOCKET /ws"]
          deny: ["GET /api/definitions/**"]
          audit_query_values: [page, columns]
      purge:
        credential: { header: X-Api-Key, value_env: RABBIT_KEY }
        http:
          allow: ["DELETE /api/queues/*/orders/contents"]
          max_body: 64kb
          content_types: [application/json]
          record_body: 1kib
      ops:
        credential: { bearer_env: RABBIT_TOKEN }
        http: { allow: ["* /**"] }`;

function problem(yaml: string): string {
  try {
    parseConfig(yaml, 'airlock.yaml', '/tmp');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('http resources in airlock.yaml', () => {
  it('reads the base URL, rules, limits and each kind of credential', () => {
    const r = parseConfig(base(RABBIT), 'airlock.yaml', '/tmp').directory.resources.get('rabbit-admin')!;
    expect(r.upstream).toMatchObject({ url: 'https://rabbit.internal:15671/mgmt/', host: 'rabbit.internal', port: 15671, tls: true, tlsVerify: false, encodedSlash: 'segment' });
    expect(r.roles.get('read')!.http).toEqual({
      allow: [{ methods: ['GET'], path: '/api/**' }, { methods: ['WEBSOCKET'], path: '/ws' }],
      deny: [{ methods: ['GET'], path: '/api/definitions/**' }],
      credential: { kind: 'basic', user: 'monitoring', passwordEnv: 'RABBIT_RO_PASSWORD' },
      auditQueryValues: ['page', 'columns'],
      maxBodyBytes: undefined,
      contentTypes: undefined,
      recordBodyBytes: undefined,
    });
    expect(r.roles.get('read')!.credential).toEqual({ user: 'monitoring', passwordEnv: 'RABBIT_RO_PASSWORD' });
    expect(r.roles.get('ops')!.credential).toEqual({ user: 'bearer token', passwordEnv: 'RABBIT_TOKEN' });
    expect(r.roles.get('purge')!.http).toMatchObject({
      credential: { kind: 'header', header: 'X-Api-Key', valueEnv: 'RABBIT_KEY' },
      maxBodyBytes: 64_000,
      contentTypes: ['application/json'],
      recordBodyBytes: 1024,
    });
    expect(r.roles.get('ops')!.http!.credential).toEqual({ kind: 'bearer', tokenEnv: 'RABBIT_TOKEN' });
  });

  it('derives port 80 or 443 from the scheme', () => {
    const r = parseConfig(base(RABBIT.replace('https://rabbit.internal:15671/mgmt/', 'http://rabbit.internal')), 'airlock.yaml', '/tmp');
    expect(r.directory.resources.get('rabbit-admin')!.upstream).toMatchObject({ port: 80, tls: false });
  });

  it('names the key path of each mistake', () => {
    expect(problem(base(RABBIT.replace('url: "https://rabbit.internal:15671/mgmt/"', 'host: rabbit, port: 15672')))).toBe(
      'airlock.yaml: resources[0].upstream.url: an http upstream needs url, e.g. http://127.0.0.1:15672',
    );
    expect(problem(base(RABBIT.replace('"GET /api/**"', '"get /api/**"')))).toContain('resources[0].roles.read.http.allow[0]: must be "METHODS /path"');
    expect(problem(base(RABBIT.replace('"GET /api/**"', '"GET /api/q*"')))).toContain('resources[0].roles.read.http.allow[0]: a path pattern has literal segments');
    expect(problem(base(RABBIT.replace('"GET /api/**"', '"GET /api/%2F/**"')))).toContain('a path pattern has literal segments');
    expect(problem(base(RABBIT.replace('max_body: 64kb', 'max_body: lots')))).toBe('airlock.yaml: resources[0].roles.purge.http.max_body: must be a size like 4096, 64kb or 1mb');
    expect(problem(base(RABBIT.replace('url: "https://rabbit.internal:15671/mgmt/"', 'url: "ftp://x"')))).toContain('resources[0].upstream.url: must be an http:// or https:// base URL');
    expect(problem(base(RABBIT.replace('{ bearer_env: RABBIT_TOKEN }', '{ token: abc }')))).toContain('resources[0].roles.ops.credential: must be { user, password_env }');
    expect(problem(base(RABBIT.replace(', password_env: RABBIT_RO_PASSWORD', '')))).toBe(
      'airlock.yaml: resources[0].roles.read.credential.password_env: Basic auth to an http upstream needs password_env',
    );
    expect(problem(base(RABBIT.replace('http: { allow: ["* /**"] }', 'allow: [read]')))).toContain('resources[0].roles.ops');
  });

  it('keeps http settings off SQL resources', () => {
    const pg = `
  - name: rabbit-admin
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, url: "http://x" }
    roles:
      read: { credential: { user: u }, allow: [read] }`;
    expect(problem(base(pg))).toBe('airlock.yaml: resources[0].upstream.url: url is for http upstreams; a postgres upstream names host and port');
    const bearer = pg.replace(', url: "http://x"', '').replace('{ user: u }', '{ bearer_env: T }');
    expect(problem(base(bearer))).toBe('airlock.yaml: resources[0].roles.read.credential: a postgres credential is { user, password_env }');
  });
});
