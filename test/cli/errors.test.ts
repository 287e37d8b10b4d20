import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverUrl } from '../../src/cli/server-url.js';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';

const run = promisify(execFile);

const CONFIG = (extra = '') => `
users: [{ name: alice, groups: [oncall] }]
resources:
  - name: shop-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles: { read: { credential: { user: postgres }, allow: [read] } }
policies:
  - { name: oncall-reads, who: { groups: [oncall] }, resources: { names: [shop-db] }, roles: [read], approval: none }
${extra}`;

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
let token: string;
let gatewayPort: number;

/** Holds a port, as another process would. */
function hold(): Promise<Server & { port: number }> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(Object.assign(s, { port: (s.address() as { port: number }).port })));
  });
}

beforeAll(async () => {
  config = tempConfig(CONFIG('gateway: { postgres: { listen: "127.0.0.1:0" } }'));
  token = (await runCli(['tokens', 'issue', 'alice', '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path);
  while (!/postgres gateway listening on 127\.0\.0\.1:\d+/.test(server.output())) await new Promise((r) => server.child.stdout!.once('data', r));
  gatewayPort = Number(/postgres gateway listening on 127\.0\.0\.1:(\d+)/.exec(server.output())![1]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
});

describe('errors that say the next step', () => {
  it('a wrong token is refused as such, naming where it came from, not "run airlock login"', async () => {
    const r = await runCli(['who'], { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: 'airlock_tok_000000000000_' + 'x'.repeat(43) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${server.url} refused the API token in AIRLOCK_TOKEN: missing or invalid API token`);
    expect(r.stderr).not.toContain('airlock login');
  });

  it('a revoked token says it was revoked', async () => {
    const issued = await runCli(['tokens', 'issue', 'alice', '--config', config.path, '--name', 'short', '--json']);
    const t = JSON.parse(issued.stdout) as { id: string; token: string };
    await runCli(['tokens', 'revoke', t.id], { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: token });
    const r = await runCli(['whoami'], { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: t.token });
    expect(r.stderr).toContain(`refused the API token in AIRLOCK_TOKEN: API token ${t.id} was revoked at`);
  });

  it('takes a server address without a scheme: http on loopback', async () => {
    const bare = server.url.replace(/^http:\/\//, '').replace('127.0.0.1', 'localhost');
    const r = await runCli(['whoami'], { AIRLOCK_SERVER: bare, AIRLOCK_TOKEN: token });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('alice');
    expect(serverUrl('airlock.example.com')).toBe('https://airlock.example.com');
    expect(serverUrl('127.0.0.1:8700/')).toBe('http://127.0.0.1:8700');
    expect(() => serverUrl('ftp://x')).toThrow(/Airlock's API is http:\/\/ \(on loopback\) or https:\/\//);
  });

  it('a refused connection names the server and says to check AIRLOCK_SERVER', async () => {
    const closed = await hold();
    await new Promise((r) => closed.close(r));
    const r = await runCli(['who'], { AIRLOCK_SERVER: `127.0.0.1:${closed.port}`, AIRLOCK_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing is listening at http://127.0.0.1:${closed.port} (from AIRLOCK_SERVER): the connection was refused`);
    expect(r.stderr).toContain('Check AIRLOCK_SERVER');
  });

  it('a busy port names the address and the config key that sets it', async () => {
    const busy = await hold();
    try {
      const api = tempConfig(CONFIG(`server: { listen: "127.0.0.1:${busy.port}" }`));
      const r1 = await runCli(['server', '--config', api.path]);
      expect(r1.code).toBe(1);
      expect(r1.stderr).toContain(`cannot listen on 127.0.0.1:${busy.port}: it is already in use (another airlock server or demo?); set server.listen in ${api.path} to another HOST:PORT`);
      api.cleanup();
      const gw = tempConfig(CONFIG(`gateway: { postgres: { listen: "127.0.0.1:${busy.port}" } }`));
      const r2 = await runCli(['server', '--config', gw.path, '--listen', '127.0.0.1:0']);
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain(`set gateway.postgres.listen in ${gw.path}`);
      expect(r2.stderr).not.toContain('    at ');
      gw.cleanup();
    } finally {
      busy.close();
    }
  });

  it("the gateway's ask-for-access hint names only resources that exist", async () => {
    const psql = (database: string) =>
      run('psql', ['-X', '-h', '127.0.0.1', '-p', String(gatewayPort), '-U', 'alice', '-d', database, '-c', 'select 1'], {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: 'wrong', PGCONNECT_TIMEOUT: '10' },
      }).catch((err: { stderr: string }) => err);
    const unknown = await psql('alice');
    expect(unknown.stderr).toContain('there is no postgres resource "alice" (the database name is the resource); `airlock resources` lists what you may request');
    expect(unknown.stderr).not.toContain('airlock request alice');
    const known = await psql('shop-db');
    expect(known.stderr).toContain('run `airlock request shop-db` to ask for access');
  });
});
