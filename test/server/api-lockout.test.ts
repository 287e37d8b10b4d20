import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

/**
 * The lock-out-someone-else attack on the HTTP API: whoever shares alice's
 * address (a NAT, a jump host, a CI runner) sends wrong tokens until the
 * address is held off. Alice's own token, from that address, must still work;
 * only the failures are turned away (429) and stop being audited.
 */

let cp: RunningControlPlane;
let cleanup: () => void;
let aliceToken: string;

beforeAll(async () => {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
  aliceToken = (await issueToken(cp.store, clock, cp.directory, 'alice')).token;
});

afterAll(async () => {
  await cp?.close();
  cleanup?.();
});

const whoami = (token: string) => fetch(`${cp.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });

describe('failed API tokens from an address', () => {
  it('never lock out a right token from the same address', async () => {
    const wrong = `${aliceToken.slice(0, -4)}xxxx`;
    for (let i = 0; i < 10; i++) expect((await whoami(wrong)).status).toBe(401);
    const held = await whoami(wrong);
    expect(held.status).toBe(429);
    expect(((await held.json()) as { error: { code: string } }).error.code).toBe('too_many_failures');
    const mine = await whoami(aliceToken);
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ user: 'alice' });
    const audited = await cp.store.db.selectFrom('audit_events').select('action').where('action', 'in', ['auth.failed', 'auth.locked_out']).execute();
    // Ten failures on record (the tenth as the lock-out); the held-off one is not written again.
    expect(audited).toHaveLength(10);
  });
});
