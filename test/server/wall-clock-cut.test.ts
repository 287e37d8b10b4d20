import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { startAirlock, type RunningAirlock } from '../../src/server/airlock.js';
import { findGrant } from '../../src/store/grants.js';
import { tempConfig } from '../support/cli.js';

/** A grant's end is a wall-clock time: a wall clock stepped forward past it cuts an open psql-protocol session within a second. */
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

describe('a wall-clock step forward past a grant end', () => {
  it('cuts the live session and expires the grant within a second of elapsed time', async () => {
    const alice = air.directory.users.get('alice')!;
    const { grant } = await air.lifecycle.request(alice, { resource: 'test-db', role: 'read', durationSeconds: 1800 });
    const { secret } = await air.lifecycle.issueSecret(alice, grant!.id);
    const gw = air.gateways.postgres!;
    const client = new pg.Client({ host: gw.host, port: gw.port, user: 'alice', database: 'test-db', password: secret });
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    expect((await client.query('select 1 as open')).rows).toEqual([{ open: 1 }]);
    await air.expiry.idle();

    clock.jumpWallClock(2 * 3600_000);
    expect((await client.query('select 1 as still_open_until_a_timer_reads_the_clock')).rowCount).toBe(1);
    clock.advance(1000);
    await air.expiry.idle();
    expect((await ended).message).toMatch(/airlock: access to test-db expired at/);
    expect((await findGrant(air.store.db, grant!.id))?.state).toBe('expired');
  });
});
