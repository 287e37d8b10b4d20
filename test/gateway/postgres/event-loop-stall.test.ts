import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresGateway, type PostgresGateway } from '../../../src/gateway/postgres/index.js';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { CatalogFacts, checkSql, checkSqlNow, loadSqlParser } from '../../../src/gateway/postgres/sql/check.js';
import { FakeBackend } from './fake-backend.js';
import { admin, scratch, uniqueName } from './pg-fixture.js';
import { RawClient } from './raw-client.js';

/**
 * One session's statements must not stall the others: eight 4 MB wide
 * selects in one message once held the event loop (every session, the API,
 * revoke) for 8.8 s while they were parsed on the main thread. Here one
 * session sends large or many mid-size statements while another runs
 * `select 1` in a loop; the worst latency the bystander saw is the measure.
 *
 * The bound is generous for a loaded CI machine: on the old code the two
 * ~400 KB statements held the loop for about 3 s here (worst bystander
 * round trip 3,183 ms with two 500 KB ones); with large texts parsed on the
 * classifier thread the worst was 68 ms.
 */
const WORST_ADDED_MS = 400;

/** A distinct wide select of about `bytes` characters over the scratch table. */
function wideSelect(salt: number, bytes: number): string {
  const cols: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const col = `coalesce(id, ${salt}) + ${i} as c${i}`;
    cols.push(col);
    length += col.length + 2;
  }
  return `select ${cols.join(', ')} from orders`;
}

describe('a session sending large statements does not stall the others', () => {
  let gateway: PostgresGateway;
  let db: Awaited<ReturnType<typeof scratch>>;
  let bystander: pg.Client;
  let attacker: RawClient;

  beforeAll(async () => {
    await loadSqlParser();
    db = await scratch();
    // User code the policy learns of from the catalog: the classifier thread must see it too.
    await admin((c) => c.query(`create function ${db.schema}.leak(o ${db.schema}.orders) returns text language sql as $$select 'x'$$`));
    const backend = new FakeBackend();
    const resource = uniqueName('orders-db').replace('_', '-');
    gateway = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 } });
    const port = gateway.address().port;
    const issue = () => {
      const user = uniqueName('u');
      return { user, ...backend.issue({ user, resource, allow: ['read'], target: db.target }) };
    };
    const a = issue();
    const b = issue();
    attacker = await RawClient.signIn(port, a.user, resource, a.secret);
    bystander = new pg.Client({ host: '127.0.0.1', port, user: b.user, password: b.secret, database: resource });
    await bystander.connect();
  }, 60_000);

  afterAll(async () => {
    attacker?.socket.destroy();
    await bystander?.end();
    await gateway?.close();
    await db?.drop();
  });

  /** Runs `select 1` back to back until `attack` settles; returns the worst round trip in ms. */
  async function worstLatencyDuring<T>(attack: Promise<T>): Promise<{ worst: number; pings: number; result: T }> {
    let done = false;
    void attack.finally(() => (done = true));
    let worst = 0;
    let pings = 0;
    while (!done) {
      const started = performance.now();
      await bystander.query('select 1');
      worst = Math.max(worst, performance.now() - started);
      pings++;
    }
    return { worst, pings, result: await attack };
  }

  async function answers(n: number): Promise<string[]> {
    const errors: string[] = [];
    for (let i = 0; i < n; i++) {
      const frames = await attacker.untilReady();
      const e = frames.find((f) => f.type === 0x45);
      errors.push(e ? msg.parseErrorFields(e.body).message : 'ok');
    }
    return errors;
  }

  it('keeps select 1 answering while another session sends two ~400 KB wide selects', async () => {
    for (let i = 0; i < 20; i++) await bystander.query('select 1');
    const texts = [1, 2].map((salt) => wideSelect(salt, 400 * 1024));
    attacker.socket.write(Buffer.concat(texts.map((t) => msg.query(t))));
    const { worst, pings, result } = await worstLatencyDuring(answers(texts.length));
    // The gateway checked and allowed them (on its classifier thread); PostgreSQL then refuses that many columns.
    expect(result).toEqual(texts.map(() => 'target lists can have at most 1664 entries'));
    expect(pings).toBeGreaterThan(1);
    expect(worst).toBeLessThan(WORST_ADDED_MS);
  }, 60_000);

  it('applies the same policy, catalog facts included, to a statement checked on the classifier thread', async () => {
    const padding = ` /* ${'p'.repeat(20 * 1024)} */`;
    attacker.socket.write(Buffer.concat([msg.query(`select o.id from orders o where o.id = 7${padding}`), msg.query(`select o.leak from orders o${padding}`)]));
    const allowed = await attacker.untilReady();
    expect(allowed.filter((f) => f.type === 0x44)).toHaveLength(1);
    const refused = await answers(1);
    expect(refused[0]).toMatch(/^airlock: /);
    expect(refused[0]).toContain('leak');
  });

  it('yields the event loop once a burst of synchronous checks has used its slice', async () => {
    // Statements under the thread's threshold are checked on the main thread; a pipelined burst of them
    // must still let other sessions' I/O through. checkSqlNow answers null (take the async path) once
    // this turn of the event loop has spent its budget, and answers again after other callbacks ran.
    const scope = { resource: 'r', role: 'read', allow: ['read' as const] };
    const opts = { searchPath: ['public'], catalog: CatalogFacts.NONE };
    let answered = 0;
    let declined = false;
    for (let i = 0; i < 2000 && !declined; i++) {
      if (checkSqlNow(wideSelect(5000 + i, 8 * 1024), scope, opts) === null) declined = true;
      else answered++;
    }
    expect(declined).toBe(true);
    expect(answered).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(checkSqlNow(wideSelect(9999, 8 * 1024), scope, opts)).not.toBeNull();
    // And the async path (what a declined statement takes) still decides.
    expect((await checkSql(wideSelect(9998, 8 * 1024), scope, opts)).allowed).toBe(true);
  });
});
