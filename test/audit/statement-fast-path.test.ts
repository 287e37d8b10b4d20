import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, chainRows, verifyAudit, type AuditEntry } from '../../src/audit/chain.js';
import { createBatchWriter } from '../../src/audit/batch-writer.js';
import { writeStatementBatch } from '../../src/audit/statement-batch.js';
import { chainStatementRows, countsOf, entriesOf, pushEntry, pushStatement, type StatementFacts, type StatementFields } from '../../src/audit/statement-fields.js';
import { connectStore, type StoreConnection } from '../../src/store/connection.js';
import { insertSession } from '../../src/store/sessions.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../support/stores.js';

const AT = new Date('2026-03-04T05:06:07.089Z');

/** What the port wrote for a statement before statements were queued as plain values (kept here as the reference). */
function referenceEntry(r: StatementFacts, user: string, resource: string, grant: string): AuditEntry {
  return {
    actor: user,
    action: r.outcome === 'refused' ? 'statement.refused' : 'statement',
    target: r.sessionId,
    subjectUser: user,
    resource,
    details: {
      ...r.extra,
      command_tag: r.commandTag,
      duration_ms: Math.round(r.durationMs * 1000) / 1000,
      grant,
      intent: r.intent,
      outcome: r.outcome,
      reason: r.reason,
      rows: r.rows,
      sqlstate: r.sqlstate,
      text: r.text,
    },
  };
}

/** Statements that exercise the encoding: escapes, non-BMP and lone surrogates, missing fields, extra fields that sort before and after. */
function statements(session: (i: number) => string): Array<[StatementFacts, string, string, string]> {
  const texts = ['select 1', 'select \'"quoted"\\ \n\t\u0001 é 日本 😀', '\ud800 lone', '', undefined];
  const out: Array<[StatementFacts, string, string, string]> = [];
  for (let i = 0; i < 25; i++) {
    const outcome = (['ok', 'error', 'refused', 'unknown'] as const)[i % 4]!;
    const r: StatementFacts = {
      sessionId: session(i % 3),
      outcome,
      text: texts[i % texts.length],
      commandTag: outcome === 'ok' ? `SELECT ${i}` : undefined,
      durationMs: i === 7 ? 0 : 0.1234567 * i + 1e-9,
      rows: outcome === 'ok' ? i : undefined,
      sqlstate: outcome === 'error' ? '42P01' : undefined,
      reason: outcome === 'refused' ? 'policy: "no" \u2028' : undefined,
      intent: i % 2 === 0 ? `int_${i}` : undefined,
      extra:
        i % 5 === 0
          ? { zeta: 1, alpha: 'a', params: [1, 'two', null, { b: 2, a: [3] }], text_bytes: 9, text: 'overridden by the text' }
          : i % 5 === 1
            ? { status: 200, skipped: undefined }
            : undefined,
    };
    out.push([r, `user-${i % 2}`, i % 4 === 3 ? 'orders-db' : 'web', `gr_${i % 3}`]);
  }
  return out;
}

function fieldsOf(list: ReadonlyArray<[StatementFacts, string, string, string]>, extra?: AuditEntry): StatementFields {
  const fields: StatementFields = [];
  for (const [r, user, resource, grant] of list) pushStatement(fields, r, user, resource, grant);
  if (extra) pushEntry(fields, '', false, extra);
  return fields;
}

const GAP: AuditEntry = { actor: 'airlock', action: 'audit.gap', target: 'gateway:postgres', details: { sessions: ['b', 'a'], lost_statements: 3 } };

describe('statement rows from queued fields', () => {
  it('are byte for byte the rows the generic append path chains from the port\'s old entries', () => {
    const list = statements((i) => `ses_${i}`);
    const fields = fieldsOf(list, GAP);
    const reference = [...list.map(([r, u, res, g]) => referenceEntry(r, u, res, g)), GAP];
    expect(entriesOf(fields)).toEqual(reference);
    for (const head of [undefined, `41:${'ab'.repeat(32)}`]) {
      const old = chainRows(head, AT, reference);
      const fast = chainStatementRows(head, AT.toISOString(), fields, true);
      expect(fast.head).toBe(old.head);
      expect(fast.rows).toEqual(old.rows.map((r) => [r.seq, r.at, r.actor, r.action, r.target, r.subject_user, r.resource, r.details, r.prev_hash, r.hash]));
      expect(JSON.parse(fast.json)).toEqual(fast.rows);
    }
  });

  it('counts statements and refusals per session', () => {
    const fields = fieldsOf(statements((i) => `ses_${i}`), GAP);
    const counts = countsOf(fields);
    expect(counts.map(([id]) => id)).toEqual(['ses_0', 'ses_1', 'ses_2', '']);
    expect(counts.reduce((n, [, s]) => n + s, 0)).toBe(26);
    expect(counts.reduce((n, [, , r]) => n + r, 0)).toBe(6);
  });
});

describeEachStore('statement batch fast path', (stores) => {
  let store: Store;
  let conn: StoreConnection;
  const ids = ['ses_fast_a', 'ses_fast_b', 'ses_fast_c'];

  beforeEach(async () => {
    const location = await stores.fresh();
    store = await location.open();
    conn = connectStore(store.target, { poolSize: 1 });
    await store.transaction(async (tx) => {
      for (const id of ids) {
        await insertSession(tx, {
          id,
          grantId: 'gr_x',
          user: 'u',
          resource: 'web',
          role: 'read',
          clientAddress: '127.0.0.1:1',
          applicationName: null,
          startedAt: AT,
          endedAt: null,
          endReason: null,
          statements: 0,
          refused: 0,
          bytesIn: 0,
          bytesOut: 0,
        });
      }
    });
  });
  afterEach(async () => {
    await conn.close();
    await store.close();
  });

  it('writes rows that chain with the generic path\'s in one verifying chain, with the same details', async () => {
    const fields = fieldsOf(statements((i) => ids[i]!), GAP);
    const writer = createBatchWriter(conn.native);
    const tick = (n: number) => store.transaction((tx) => appendAudit(tx, AT, [{ actor: 't', action: 'test.tick', target: `tick-${n}` }]));

    await tick(0);
    await store.transaction((tx) => writeStatementBatch(tx, { at: AT, entries: entriesOf(fields), counts: countsOf(fields), marker: ['statement_batch:generic', 1] }));
    await tick(1);
    await writer.write(AT.toISOString(), fields, ['statement_batch:fast', 1]);
    await tick(2);
    await writer.write(AT.toISOString(), fields, ['statement_batch:fast', 2]);
    await tick(3);

    const verdict = await verifyAudit(store.db);
    const n = fields.length / 13;
    expect(verdict).toMatchObject({ ok: true, events: 4 + 3 * n });

    const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    const generic = rows.slice(1, 1 + n);
    const fast = rows.slice(2 + n, 2 + 2 * n);
    const fastAgain = rows.slice(3 + 2 * n, 3 + 3 * n);
    const strip = (r: (typeof rows)[number]) => [r.at, r.actor, r.action, r.target, r.subject_user, r.resource, r.details];
    expect(fast.map(strip)).toEqual(generic.map(strip));
    expect(fastAgain.map(strip)).toEqual(generic.map(strip));
    expect(fast.every((r) => r.target !== 'tick-1')).toBe(true);

    // Three batches' counts on each session, statements and refusals.
    const sessions = await store.db.selectFrom('sessions').select(['id', 'statements', 'refused']).orderBy('id').execute();
    const once = new Map(countsOf(fields).map(([id, s, r]) => [id, [s, r]]));
    expect(sessions.map((s) => [s.id, Number(s.statements), Number(s.refused)])).toEqual(ids.map((id) => [id, 3 * once.get(id)![0]!, 3 * once.get(id)![1]!]));
  });

  it('does not write a batch twice: a batch whose marker is in the store is skipped', async () => {
    const fields = fieldsOf(statements((i) => ids[i]!));
    const writer = createBatchWriter(conn.native);
    await writer.write(AT.toISOString(), fields, ['statement_batch:m', 1]);
    // A retry of the same batch, on the thread or (after a crash) through the generic path.
    await writer.write(AT.toISOString(), fields, ['statement_batch:m', 1]);
    await store.transaction((tx) => writeStatementBatch(tx, { at: AT, entries: entriesOf(fields), counts: countsOf(fields), marker: ['statement_batch:m', 1] }));
    const count = await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(fields.length / 13);
    const marker = await store.db.selectFrom('meta').select('value').where('key', '=', 'statement_batch:m').executeTakeFirstOrThrow();
    expect(marker.value).toBe('1');
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('writes nothing of a batch that fails, and the chain still verifies', async () => {
    const writer = createBatchWriter(conn.native);
    await writer.write(AT.toISOString(), fieldsOf(statements((i) => ids[i]!)), ['statement_batch:f', 1]);
    // A row whose actor is missing breaks the NOT NULL constraint half-way through the batch.
    const bad = fieldsOf(statements((i) => ids[i]!));
    pushEntry(bad, ids[0]!, false, { actor: null as unknown as string, action: 'statement', target: 'x' });
    await expect(writer.write(AT.toISOString(), bad, ['statement_batch:f', 2])).rejects.toThrow();
    const marker = await store.db.selectFrom('meta').select('value').where('key', '=', 'statement_batch:f').executeTakeFirstOrThrow();
    expect(marker.value).toBe('1');
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true, events: 25 });
    // The connection is usable again after the rollback.
    await writer.write(AT.toISOString(), fieldsOf(statements((i) => ids[i]!)), ['statement_batch:f', 2]);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true, events: 50 });
  });
});
