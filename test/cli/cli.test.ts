import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
const tokens: Record<string, string> = {};
const homes: string[] = [];

/** Each user gets their own config folder, as on their own laptop. */
function as(user: string) {
  const env = { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user] };
  return (...args: string[]) => runCli(args, env);
}

async function json<T>(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<T> {
  const r = await p;
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  config = tempConfig(EXAMPLE_CONFIG);
  for (const user of ['alice', 'bob', 'carol', 'root']) {
    const r = await runCli(['tokens', 'issue', user, '--config', config.path]);
    expect(r.code, r.stderr).toBe(0);
    tokens[user] = r.stdout.trim();
  }
  server = await startServerProcess(config.path);
});

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('the airlock CLI against a running server', () => {
  it('logs in, saving the token readable by the owner only', async () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-home-'));
    homes.push(home);
    const env = { XDG_CONFIG_HOME: home };
    const login = await runCli(['login', '--server', server.url, '--token', tokens.alice!], env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('as alice');
    expect(statSync(join(home, 'airlock/login.json')).mode & 0o777).toBe(0o600);
    const who = await runCli(['whoami'], env);
    expect(who.stdout).toContain('alice (groups: oncall, engineering)');
    const bad = await runCli(['login', '--server', server.url, '--token', 'airlock_tok_000000000000_' + 'x'.repeat(43)], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('missing or invalid API token');
  });

  it('lists what a user may request', async () => {
    const r = await as('alice')('resources');
    expect(r.stdout).toMatch(/orders-db\s+postgres\s+read\s+read\s+none\s+1h/);
    expect(r.stdout).toMatch(/orders-db\s+postgres\s+write\s+read,write\s+1 of @sre-leads\s+2h/);
  });

  it('grants at once under an approval-free policy, with the documented JSON', async () => {
    const out = await json<{ request: { id: string; state: string }; grant: { id: string; state: string; expires_at: string } }>(
      as('alice')('request', 'orders-db', '--role', 'read', '--for', '30m', '--reason', 'INC-4411 slow checkout', '--json'),
    );
    expect(out.request.state).toBe('approved');
    expect(out.grant.state).toBe('active');
    expect(Date.parse(out.grant.expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);
    const who = await json<Array<Record<string, unknown>>>(as('carol')('who', '--json'));
    const mine = who.find((g) => g.id === out.grant.id)!;
    expect(Object.keys(mine)).toEqual(expect.arrayContaining(['id', 'user', 'resource', 'role', 'reason', 'ticket', 'starts_at', 'expires_at']));
    expect(mine).toMatchObject({ user: 'alice', resource: 'orders-db', role: 'read', reason: 'INC-4411 slow checkout' });
    const table = await as('carol')('who');
    expect(table.stdout).toMatch(/alice\s+orders-db\s+read\s+INC-4411 slow checkout/);
  });

  it('takes a request through review: pending, approve by a lead, never by the requester', async () => {
    const asked = await json<{ request: { id: string; state: string } }>(
      as('bob')('request', 'orders-db', '--role', 'write', '--for', '1h', '--reason', 'hotfix', '--ticket', 'CHG-7', '--json'),
    );
    expect(asked.request.state).toBe('pending');
    const self = await as('bob')('approve', asked.request.id);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('you cannot approve your own request');
    const pending = await as('carol')('requests', '--pending');
    expect(pending.stdout).toContain(asked.request.id);
    expect(pending.stdout).toContain('may review');
    const approved = await json<{ grant: { state: string; approved_by: string[] } }>(as('carol')('approve', asked.request.id, '--comment', 'ok', '--json'));
    expect(approved.grant).toMatchObject({ state: 'active', approved_by: ['carol'] });
  });

  it('denies with a comment and cancels', async () => {
    const a = await json<{ request: { id: string } }>(as('alice')('request', 'orders-db', '--role', 'write', '--for', '10m', '--reason', 'x', '--ticket', 'INC-1', '--json'));
    const denied = await json<{ request: { state: string } }>(as('bob')('deny', a.request.id, '--comment', 'use read', '--json'));
    expect(denied.request.state).toBe('denied');
    const b = await json<{ request: { id: string } }>(as('alice')('request', 'orders-db', '--role', 'write', '--for', '10m', '--reason', 'x', '--ticket', 'INC-2', '--json'));
    const cancelled = await json<{ request: { state: string } }>(as('alice')('cancel', b.request.id, '--json'));
    expect(cancelled.request.state).toBe('cancelled');
  });

  it('extends, releases and revokes grants', async () => {
    const g1 = await json<{ grant: { id: string; expires_at: string } }>(as('alice')('request', 'orders-db', '--role', 'read', '--for', '10m', '--json'));
    const ext = await json<{ grant: { expires_at: string } }>(as('alice')('extend', g1.grant.id, '--for', '15m', '--json'));
    expect(Date.parse(ext.grant.expires_at) - Date.parse(g1.grant.expires_at)).toBe(15 * 60_000);
    const released = await json<{ grant: { state: string } }>(as('alice')('release', g1.grant.id, '--json'));
    expect(released.grant.state).toBe('released');
    const g2 = await json<{ grant: { id: string } }>(as('alice')('request', 'orders-db', '--role', 'read', '--for', '10m', '--json'));
    const notAllowed = await as('carol')('revoke', g2.grant.id, '--reason', 'no');
    expect(notAllowed.code).toBe(1);
    const revoked = await json<{ grant: { state: string; ended_by: string; end_reason: string } }>(
      as('root')('revoke', g2.grant.id, '--reason', 'incident closed', '--json'),
    );
    expect(revoked.grant).toMatchObject({ state: 'revoked', ended_by: 'root', end_reason: 'incident closed' });
    const all = await json<Array<{ id: string; state: string }>>(as('root')('grants', '--all', '--json'));
    expect(all.find((g) => g.id === g2.grant.id)?.state).toBe('revoked');
  });

  it('refuses an extension past the maximum, naming it, its source and the time used', async () => {
    const g = await json<{ grant: { id: string; expires_at: string } }>(as('alice')('request', 'orders-db', '--role', 'read', '--for', '30m', '--json'));
    const refused = await as('alice')('extend', g.grant.id, '--for', '1h', '--json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the maximum is 1h, set by policy "oncall-reads-prod", and it has already used 30m of it');
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'extension_too_long' } });
    const fits = await json<{ grant: { expires_at: string } }>(as('alice')('extend', g.grant.id, '--for', '30m', '--json'));
    expect(Date.parse(fits.grant.expires_at) - Date.parse(g.grant.expires_at)).toBe(30 * 60_000);
    expect((await as('alice')('extend', g.grant.id, '--for', '1m')).stderr).toContain('request new access when it ends');
    await as('alice')('release', g.grant.id);
  });

  it('exits 1 on a refused action and 2 on a usage error, saying why', async () => {
    const tooLong = await as('alice')('request', 'orders-db', '--role', 'read', '--for', '3h');
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('3h is longer than allowed for role "read" on orders-db: the maximum is 1h, set by policy "oncall-reads-prod"');
    const jsonErr = await as('alice')('request', 'orders-db', '--role', 'read', '--for', '3h', '--json');
    expect(JSON.parse(jsonErr.stdout)).toMatchObject({ error: { code: 'duration_too_long' } });
    const usage = await as('alice')('request', 'orders-db');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--role <role>' not specified");
    const unknown = await as('alice')('release', 'grt_nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('there is no grant grt_nope');
    const noLogin = await runCli(['who'], { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-empty-')) });
    expect(noLogin.code).toBe(1);
    expect(noLogin.stderr).toContain('not logged in');
  });

  it('lists, exports and verifies the audit trail', async () => {
    const events = await json<Array<{ seq: number; action: string; hash: string; prev_hash: string }>>(as('root')('audit', 'list', '--action', 'grant.*', '--limit', '100', '--json'));
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['grant.activated', 'grant.released', 'grant.revoked', 'grant.extended']));
    const exported = await as('root')('audit', 'export', '--format', 'jsonl');
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    const verify = await runCli(['audit', 'verify', '--config', config.path]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('audit chain holds');
  });
});
