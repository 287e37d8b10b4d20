import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

/** On the embedded SQLite store there is no fleet: one node, the in-process bus, nothing listening on PostgreSQL. */
let cp: RunningControlPlane;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(`${EXAMPLE_CONFIG}\nnode: { name: solo }\n`, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
});

afterAll(async () => {
  await cp.close();
  cleanup();
});

describe('a single node on SQLite', () => {
  it('joins no fleet, answers health, and lists itself as the one node', async () => {
    expect(cp.fleet).toBeNull();
    expect((await fetch(`${cp.url}/api/health`)).status).toBe(200);
    const alice = createApiClient(cp.url, (await issueToken(cp.store, cp.clock, cp.directory, 'alice')).token);
    expect(await alice.nodes()).toEqual([{ name: 'solo', started_at: null, last_seen: '2026-03-01T12:00:00.000Z', live: true, sessions: 0, this_node: true }]);
  });
});
