import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { createApiClient } from '../../src/server/api-client.js';

let demo: Awaited<ReturnType<typeof runDemo>>;
let dir: string;
const printed: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
  demo = await runDemo({ dir, apiPort: 0, gatewayPort: 0, log: (l) => printed.push(l) });
}, 120_000);

afterAll(async () => {
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
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
});
