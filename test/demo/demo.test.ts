import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { createApiClient } from '../../src/server/api-client.js';
import { runCli } from '../support/cli.js';

let demo: Awaited<ReturnType<typeof runDemo>>;
let home: string;
let dir: string;
const printed: string[] = [];
const start = (fresh = false) => runDemo({ dir, apiPort: 0, gatewayPort: 0, fresh, log: (l) => printed.push(l) });

beforeAll(async () => {
  // Where `npm start` puts it: ./.airlock/demo under the folder it runs in.
  home = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
  dir = join(home, '.airlock', 'demo');
  demo = await start();
}, 180_000);

afterAll(async () => {
  await demo?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('airlock demo (the README main command)', () => {
  it('prints working next steps with a token per demo user', () => {
    const text = printed.join('\n');
    expect(text).toContain(`export AIRLOCK_SERVER=${demo.airlock.url} AIRLOCK_TOKEN=${demo.tokens.alice}`);
    expect(text).toContain('connect orders-db');
  });

  it('lets alice request read access and query the sample data with psql through the gateway, refusing a write', async () => {
    const alice = createApiClient(demo.airlock.url, demo.tokens.alice!);
    const { grant } = await alice.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-4411 slow checkout' });
    const { secret } = await alice.credentials(grant!.id);
    const gw = demo.airlock.gateways.postgres!;
    const env = { ...process.env, PGHOST: gw.host, PGPORT: String(gw.port), PGUSER: 'alice', PGDATABASE: 'orders-db', PGPASSWORD: secret };
    // Async: the gateway answering psql runs in this very process.
    const r = await promisify(execFile)('psql', ['-X', '-A', '-t', '-c', 'select count(*) from orders', '-c', 'delete from orders', '-c', 'select * from payment_tokens'], { env, encoding: 'utf8' }).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(r.stdout.trim()).toBe('200');
    expect(r.stderr).toContain('airlock: role "read" on orders-db does not allow DELETE');
    expect(r.stderr).toContain('does not allow table public.payment_tokens');
  });

  it('keeps its embedded PostgreSQL reachable only through the gateway', async () => {
    const port = /port: (\d+), database: postgres/.exec(readFileSync(demo.configPath, 'utf8'))![1]!;
    const direct = await promisify(execFile)('psql', ['-X', '-h', '127.0.0.1', '-p', port, '-U', 'postgres', '-d', 'postgres', '-c', 'select 1'], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: 'guess', PGSSLMODE: 'disable' },
    }).catch((err: { stderr: string }) => err);
    expect(direct.stderr).toContain('password authentication failed: the demo database is reached through the Airlock gateway');
  });

  it('`airlock audit verify` finds the demo\'s config by itself from the folder it ran in', async () => {
    const r = await runCli(['audit', 'verify'], { AIRLOCK_CONFIG: undefined }, home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('audit chain holds');
  });

  it('keeps its state across a restart (tokens, grants, data), and --fresh starts over', async () => {
    const alice = () => createApiClient(demo.airlock.url, demo.tokens.alice!);
    const before = await alice().who();
    expect(before.length).toBeGreaterThan(0);
    const token = demo.tokens.alice;
    await demo.close();
    demo = await start();
    expect(demo.tokens.alice).toBe(token);
    expect((await alice().who()).map((g) => g.id)).toEqual(before.map((g) => g.id));
    expect(printed.join('\n')).toContain('reopening the embedded sample database');
    await demo.close();
    demo = await start(true);
    expect(demo.tokens.alice).not.toBe(token);
    expect(await alice().who()).toEqual([]);
  }, 180_000);
});
