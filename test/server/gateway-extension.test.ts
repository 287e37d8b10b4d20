import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { startAirlock, type RunningAirlock } from '../../src/server/airlock.js';
import { tempConfig } from '../support/cli.js';

/** Time-limited means the grant's end, whatever moved it: an approved extension reaches open sessions. */
const YAML = `
users:
  - { name: alice, groups: [oncall] }
resources:
  - name: test-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: postgres }, allow: [read] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [test-db] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  postgres: { listen: 127.0.0.1:0 }
`;

let air: RunningAirlock;
let cleanup: () => void;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  const tmp = tempConfig(YAML);
  cleanup = tmp.cleanup;
  air = await startAirlock(parseConfig(YAML, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0', postgresListen: '127.0.0.1:0' });
});

afterAll(async () => {
  await air?.close();
  cleanup?.();
});

describe('extending a grant with a session open', () => {
  it('keeps the session past the old end and cuts it at the new one', async () => {
    const alice = air.directory.users.get('alice')!;
    const { grant } = await air.lifecycle.request(alice, { resource: 'test-db', role: 'read', durationSeconds: 600 });
    const { secret } = await air.lifecycle.issueSecret(alice, grant!.id);
    const gw = air.gateways.postgres!;
    const client = new pg.Client({ host: gw.host, port: gw.port, user: 'alice', database: 'test-db', password: secret });
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    await air.lifecycle.extend(alice, grant!.id, 600);

    clock.advance(10 * 60_000 + 1000);
    await air.expiry.idle();
    expect((await client.query('select 1 as still_here')).rows).toEqual([{ still_here: 1 }]);

    clock.advance(10 * 60_000);
    await air.expiry.idle();
    const err = await ended;
    expect(err.message).toMatch(/airlock: access to test-db expired at/);
  });
});
