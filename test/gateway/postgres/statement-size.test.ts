import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../src/gateway/postgres/backend.js';
import { Frontend, Limits } from '../../../src/gateway/postgres/protocol/codes.js';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { FrameReader } from '../../../src/gateway/postgres/protocol/reader.js';
import { CatalogFacts, checkSql, checkSqlNow, loadSqlParser, sqlDecisionCacheBytes } from '../../../src/gateway/postgres/sql/check.js';
import { Lru } from '../../../src/gateway/postgres/sql/lru.js';
import { DEFAULT_MEMO_BYTES, StatementCheck } from '../../../src/gateway/postgres/statement-check.js';
import { psql, startHarness, type Harness } from './harness.js';
import { errorOf, RawClient, types } from './raw-client.js';
import { bind, execute, raw, sync } from '../../security/wire.js';

/**
 * One read session sending distinct multi-megabyte statements once grew the
 * process by each text (a 512-entry memo of any size) until V8 ran out of
 * heap and every session went down. Caches are bounded by bytes, and a
 * statement over the role's size limit is refused before it is parsed.
 */

const READ: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
const upstream = { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE };

/** A distinct statement of about `bytes` bytes, cheap to parse: most of it is a comment. */
function bigStatement(i: number, bytes: number): string {
  const head = `select ${i} as n /* `;
  return `${head}${'x'.repeat(bytes - head.length - 3)} */`;
}

describe('statement memory is bounded by bytes', () => {
  beforeAll(() => loadSqlParser());

  it('keeps the session memo within its byte budget over 50 distinct 2 MB statements', async () => {
    // A stand-in classifier (parsing 100 MB of SQL would make this test slow): the memo is what is under test.
    const quoting = async (sql: string) => ({ allowed: false as const, reason: `airlock: refused ${sql.slice(0, 200)}` });
    const check = new StatementCheck(quoting, READ, upstream, undefined, { maxStatementBytes: 4 * 1024 * 1024 });
    for (let i = 0; i < 50; i++) {
      const decision = await check.decide(bigStatement(i, 2 * 1024 * 1024));
      expect(decision.allowed).toBe(false);
      expect(check.memoBytes).toBeLessThanOrEqual(DEFAULT_MEMO_BYTES);
    }
    // Before, the memo held every text: 50 × 2 MB.
    expect(check.memoBytes).toBeGreaterThan(0);
    // A long text is still remembered (by its hash): the second time costs no classification.
    const again = bigStatement(49, 2 * 1024 * 1024);
    let calls = 0;
    const counting = new StatementCheck(async (...a) => (calls++, checkSql(...a)), READ, upstream, undefined, { maxStatementBytes: 4 * 1024 * 1024 });
    await counting.decide(again);
    await counting.decide(again);
    expect(calls).toBe(1);
  });

  it('keeps the shared decision cache within its byte budget over many distinct mid-size statements', () => {
    const before = sqlDecisionCacheBytes();
    for (let i = 0; i < 800; i++) {
      // Just under the length the shared cache still keeps; distinct column names defeat the literal-shape cache.
      const text = `select 1 as c${i} /* ${'y'.repeat(16_000)} */`;
      checkSqlNow(text, READ, upstream);
    }
    // 800 × 16 KB texts, each held in an exact-text key and a shape key as UTF-16, would be ~50 MB; the budget is 40 MB for both.
    expect(sqlDecisionCacheBytes()).toBeLessThanOrEqual(40 * 1024 * 1024);
    expect(sqlDecisionCacheBytes()).toBeGreaterThan(before);
  });

  it('refuses a text over the limit with 54000, naming its size and the limit', async () => {
    let calls = 0;
    const check = new StatementCheck(async () => (calls++, { allowed: true, tags: [] }), READ, upstream, undefined, { maxStatementBytes: 1000 });
    const d = await check.decide('select 1 -- ' + 'é'.repeat(500));
    expect(d).toMatchObject({ allowed: false, sqlstate: '54000' });
    expect(!d.allowed && d.reason).toContain('1012 bytes');
    expect(!d.allowed && d.reason).toContain('1000 bytes');
    expect(check.now('select 1 -- ' + 'é'.repeat(400))).toBeNull();
    expect(calls).toBe(0);
  });
});

describe('Lru bounded by bytes', () => {
  it('evicts the oldest entries to stay within its bytes and never keeps an entry larger than the budget', () => {
    const lru = new Lru<string, string>(100, { maxBytes: 10, sizeOf: (_k, v) => v.length });
    lru.set('a', 'xxxx');
    lru.set('b', 'xxxx');
    expect(lru.get('a')).toBe('xxxx');
    lru.set('c', 'xxxx');
    expect(lru.get('b')).toBeUndefined();
    expect(lru.heldBytes).toBe(8);
    lru.set('huge', 'x'.repeat(11));
    expect(lru.get('huge')).toBeUndefined();
    lru.set('a', 'x');
    expect(lru.heldBytes).toBe(5);
  });
});

describe('maximum statement size through the gateway', () => {
  let h: Harness;
  let client: pg.Client;
  beforeAll(async () => {
    h = await startHarness();
    const alice = h.grant(['read']);
    client = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await h?.close();
  });

  it('refuses a 2 MB statement by default, simple and extended, and the session carries on', async () => {
    const text = bigStatement(1, 2 * 1024 * 1024);
    const simple = await client.query(text).then(() => null, (e: pg.DatabaseError) => e);
    expect(simple?.code).toBe('54000');
    expect(simple?.message).toContain(`${2 * 1024 * 1024} bytes`);
    expect(simple?.message).toContain('1048576 bytes');
    const extended = await client.query({ text, values: [] }).then(() => null, (e: pg.DatabaseError) => e);
    expect(extended?.code).toBe('54000');
    expect((await client.query('select 1 as one')).rows[0].one).toBe(1);
    // Just under the limit still runs.
    const fits = bigStatement(2, 1024 * 1024 - 100);
    expect((await client.query(fits)).rows[0].n).toBe(2);
    const refused = h.backend.statements.filter((r) => r.outcome === 'refused');
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });
});

const MiB = 1024 * 1024;
const HEAD = 'select 1 as n /* ';

/** A Query message whose text is `textBytes` bytes (`select 1` and a comment), whole, ready to send in parts. */
function queryMessage(textBytes: number): Buffer {
  const m = Buffer.alloc(5 + textBytes + 1, 'x');
  m.write('Q', 0, 'latin1');
  m.writeInt32BE(4 + textBytes + 1, 1);
  m.write(HEAD, 5);
  m.write(' */', 5 + textBytes - 3);
  m[5 + textBytes] = 0;
  return m;
}

/** A Parse message naming `name`, with a text of `textBytes` bytes and `paramTypes` declared int4 parameters. */
function parseMessage(name: string, textBytes: number, paramTypes = 0): Buffer {
  const nameBytes = Buffer.byteLength(name) + 1;
  const bodyBytes = nameBytes + textBytes + 1 + 2 + 4 * paramTypes;
  const m = Buffer.alloc(5 + bodyBytes, 'x');
  m.write('P', 0, 'latin1');
  m.writeInt32BE(4 + bodyBytes, 1);
  let at = 5 + m.write(name, 5);
  m[at++] = 0;
  m.write(HEAD, at);
  m.write(' */', at + textBytes - 3);
  at += textBytes;
  m[at++] = 0;
  at = m.writeInt16BE(paramTypes, at);
  for (let i = 0; i < paramTypes; i++) at = m.writeInt32BE(23, at);
  return m;
}

/**
 * `answer`, or a failure if it has not come after a generous bound: the
 * gateway is sent only part of a message, so an answer can come only from
 * its header (the old gateway waited for the whole body and never answered).
 */
async function fromHeader<T>(answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer to an oversized statement before the rest of its body was sent')), 15_000);
  });
  try {
    return await Promise.race([answer, never]);
  } finally {
    clearTimeout(timer);
  }
}

describe('an oversized statement is refused from its header, its body discarded unread', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('the frame reader hands a too-large Query over after its first bytes and holds none of the rest', () => {
    const reader = new FrameReader({ typed: true, maxLength: Limits.messageBytes });
    reader.refuseStatementsOver(MiB);
    const big = queryMessage(32 * MiB);
    const next = msg.query('select 2');
    let largest = 0;
    const frames = [];
    for (let at = 0; at < big.length; at += 64 * 1024) {
      reader.push(big.subarray(at, at + 64 * 1024));
      largest = Math.max(largest, reader.buffered());
      for (let f = reader.next(); f; f = reader.next()) frames.push(f);
    }
    reader.push(next);
    for (let f = reader.next(); f; f = reader.next()) frames.push(f);
    expect(frames.map((f) => f.type)).toEqual([Frontend.Query | 0x100, Frontend.Query]);
    // Its header and first bytes, the announced length in the header.
    expect(frames[0]!.body.toString('latin1').startsWith(HEAD)).toBe(true);
    expect(frames[0]!.raw.readInt32BE(1)).toBe(big.length - 1);
    expect(msg.parseQuery(frames[1]!.body)).toBe('select 2');
    // Before, the reader gathered the whole 32 MiB.
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  it('answers a Query announced as 32 MiB after 2 MiB of it, discards the rest, and the session carries on', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    const big = queryMessage(32 * MiB);
    c.socket.write(big.subarray(0, 5 + 2 * MiB));
    const refused = await fromHeader(c.untilReady());
    expect(types(refused)).toBe('EZ');
    const e = errorOf(refused)!;
    expect(e.sqlstate).toBe('54000');
    expect(e.message).toContain(`is ${32 * MiB} bytes`);
    expect(e.message).toContain(`the ${MiB} bytes this role allows`);
    expect(e.message).toContain('limits.max_statement');
    // The rest of the message is read and dropped; the next statement is answered as usual.
    c.socket.write(big.subarray(5 + 2 * MiB));
    c.socket.write(msg.query('select 1 as one'));
    const after = await c.untilReady();
    expect(types(after)).toBe('TDCZ');
    c.socket.end(msg.TERMINATE);
    const rec = h.backend.statements.find((s) => s.outcome === 'refused' && s.reason?.includes(`${32 * MiB} bytes`));
    expect(rec?.text.startsWith(HEAD)).toBe(true);
    expect(rec?.text.length).toBeLessThanOrEqual(16 * 1024);
    expect(rec?.extra).toMatchObject({ text_truncated: true, message_bytes: big.length, body_discarded: true });
  });

  it('answers a Parse announced as 32 MiB after 2 MiB of it, skips to Sync, and the session carries on', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    const big = parseMessage('big', 32 * MiB);
    c.socket.write(big.subarray(0, 5 + 2 * MiB));
    const error = await fromHeader(c.next());
    expect(String.fromCharCode(error.type)).toBe('E');
    const e = msg.parseErrorFields(error.body);
    expect(e.sqlstate).toBe('54000');
    expect(e.message).toContain(`the ${MiB} bytes this role allows`);
    // As PostgreSQL does after an error: the rest of the batch is skipped up to Sync.
    c.socket.write(big.subarray(5 + 2 * MiB));
    c.socket.write(Buffer.concat([bind('', 'big'), execute(''), sync()]));
    expect(types(await c.untilReady())).toBe('Z');
    c.socket.write(Buffer.concat([parseMessage('small', 100), bind('', 'small'), execute(''), sync()]));
    expect(types(await c.untilReady())).toBe('12DCZ');
    c.socket.end(msg.TERMINATE);
    const rec = h.backend.statements.find((s) => s.outcome === 'refused' && s.extra?.message_bytes === big.length);
    expect(rec?.text.startsWith(HEAD)).toBe(true);
  });

  it('runs a Query and a Parse whose texts are exactly at the limit', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    c.socket.write(queryMessage(MiB));
    expect(types(await c.untilReady())).toBe('TDCZ');
    // A long name and declared parameter types are the Parse's own, not the statement's.
    const name = 'p'.repeat(63);
    const bindNulls = raw('B', Buffer.from([0]), Buffer.from(`${name}\0`), Buffer.from([0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]));
    c.socket.write(Buffer.concat([parseMessage(name, MiB, 2), bindNulls, execute(''), sync()]));
    expect(types(await c.untilReady())).toBe('12DCZ');
    c.socket.write(queryMessage(MiB + 1));
    expect(errorOf(await c.untilReady())?.sqlstate).toBe('54000');
    c.socket.end(msg.TERMINATE);
  });

  it('gives psql the clear error for a too-large statement and runs the next one', async () => {
    const who = h.grant(['read']);
    // psql sends the text with its semicolon.
    const script = `${HEAD}${'x'.repeat(2 * MiB)} */;\nselect 2 as after;\n`;
    const r = await psql(h, who, ['-v', 'VERBOSITY=verbose'], script);
    expect(r.stdout.trim()).toBe('2');
    expect(r.stderr).toContain(`ERROR:  54000: airlock: the statement is ${HEAD.length + 2 * MiB + 4} bytes, larger than the ${MiB} bytes this role allows`);
    expect(r.stderr).toContain('limits.max_statement');
    // Refused from its header, as psql sends a statement in a single Query.
    const rec = h.backend.statements.find((s) => s.extra?.message_bytes === HEAD.length + 2 * MiB + 4 + 6);
    expect(rec).toMatchObject({ outcome: 'refused', extra: { body_discarded: true } });
  });

  it('follows the role: a role allowing 4 MiB runs a 3 MiB statement, one allowing 64 KiB refuses 100 KiB', async () => {
    const wide = h.grant(['read'], { limits: { maxStatementBytes: 4 * MiB } });
    const c = await RawClient.signIn(h.port, wide.user, h.resource, wide.secret);
    c.socket.write(queryMessage(3 * MiB));
    expect(types(await c.untilReady())).toBe('TDCZ');
    c.socket.end(msg.TERMINATE);
    const narrow = h.grant(['read'], { limits: { maxStatementBytes: 64 * 1024 } });
    const n = await RawClient.signIn(h.port, narrow.user, h.resource, narrow.secret);
    n.socket.write(queryMessage(100 * 1024));
    expect(errorOf(await n.untilReady())?.message).toContain(`the ${64 * 1024} bytes this role allows`);
    n.socket.end(msg.TERMINATE);
  });
});
