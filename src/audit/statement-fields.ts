import { hash as digest } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { GENESIS_HASH, type AuditEntry } from './chain.js';
import type { SessionCounts } from './statement-batch.js';

/**
 * A batch of statement records as the recorder queues them and the writer
 * thread is sent them: one flat array, `STRIDE` slots per statement, holding
 * strings, numbers and undefined only. Queuing a statement allocates nothing
 * on the sessions' thread, and the structured clone that carries a batch to
 * the writer thread copies plain values instead of two objects per statement
 * (keys and all). The details JSON and the chained row are made from the slots
 * by the writer; `entryAt` makes the same `AuditEntry` the generic append path
 * (chain.ts) would have been given, and the tests hold the two to one output.
 */
export type StatementFields = unknown[];

export const STRIDE = 13;
// Slot numbers within a statement's STRIDE.
const SESSION = 0;
/** The statement's outcome; `GENERIC` marks a slot group that carries a whole `AuditEntry` (in `EXTRA`) instead. */
const OUTCOME = 1;
const USER = 2;
const RESOURCE = 3;
const GRANT = 4;
const TEXT = 5;
const TAG = 6;
const DURATION = 7;
const ROWS = 8;
const SQLSTATE = 9;
const REASON = 10;
const INTENT = 11;
const EXTRA = 12;
const GENERIC = 0;

export type StatementOutcome = 'ok' | 'error' | 'refused' | 'unknown';

/** What one audited statement says: the port's StatementRecord (see gateway/kernel/port.ts). */
export interface StatementFacts {
  readonly sessionId: string;
  readonly outcome: StatementOutcome;
  readonly text: string | undefined;
  readonly commandTag?: string;
  readonly durationMs: number;
  readonly rows?: number;
  readonly sqlstate?: string;
  readonly reason?: string;
  readonly intent?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Queues statement `s` of a session of `user`'s on `resource` through `grant`. */
export function pushStatement(fields: StatementFields, s: StatementFacts, user: string, resource: string, grant: string): void {
  fields.push(s.sessionId, s.outcome, user, resource, grant, s.text, s.commandTag, s.durationMs, s.rows, s.sqlstate, s.reason, s.intent, s.extra);
}

/** Queues any audit entry (the gap record, tests) in a statement's slots. */
export function pushEntry(fields: StatementFields, sessionId: string, refused: boolean, entry: AuditEntry, intent?: string): void {
  fields.push(sessionId, GENERIC, refused ? 1 : 0, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, intent, entry);
}

export const sessionAt = (fields: StatementFields, i: number): string => fields[i * STRIDE + SESSION] as string;
export const intentAt = (fields: StatementFields, i: number): string | undefined => fields[i * STRIDE + INTENT] as string | undefined;

function refusedAt(fields: StatementFields, o: number): boolean {
  const outcome = fields[o + OUTCOME];
  return outcome === GENERIC ? fields[o + USER] === 1 : outcome === 'refused';
}

/** The statement's details object, built as the port always built it (keys in sorted order, so canonicalJson skips its sort). */
function statementDetails(fields: StatementFields, o: number): Record<string, unknown> {
  const extra = fields[o + EXTRA] as Record<string, unknown> | undefined;
  return {
    ...extra,
    command_tag: fields[o + TAG],
    duration_ms: Math.round((fields[o + DURATION] as number) * 1000) / 1000,
    grant: fields[o + GRANT],
    intent: fields[o + INTENT],
    outcome: fields[o + OUTCOME],
    reason: fields[o + REASON],
    rows: fields[o + ROWS],
    sqlstate: fields[o + SQLSTATE],
    text: fields[o + TEXT],
  };
}

/** `statementDetails` for a statement without extra fields: an object literal V8 builds without a spread. */
function plainDetails(fields: StatementFields, o: number): Record<string, unknown> {
  return {
    command_tag: fields[o + TAG],
    duration_ms: Math.round((fields[o + DURATION] as number) * 1000) / 1000,
    grant: fields[o + GRANT],
    intent: fields[o + INTENT],
    outcome: fields[o + OUTCOME],
    reason: fields[o + REASON],
    rows: fields[o + ROWS],
    sqlstate: fields[o + SQLSTATE],
    text: fields[o + TEXT],
  };
}

/** The audit entry statement `i` stands for: what the generic append path (writeStatementBatch) writes. */
export function entryAt(fields: StatementFields, i: number): AuditEntry {
  const o = i * STRIDE;
  if (fields[o + OUTCOME] === GENERIC) return fields[o + EXTRA] as AuditEntry;
  const user = fields[o + USER] as string;
  const sessionId = fields[o + SESSION] as string;
  return {
    actor: user,
    action: fields[o + OUTCOME] === 'refused' ? 'statement.refused' : 'statement',
    target: sessionId,
    subjectUser: user,
    resource: fields[o + RESOURCE] as string,
    details: statementDetails(fields, o),
  };
}

export function entriesOf(fields: StatementFields): AuditEntry[] {
  const n = fields.length / STRIDE;
  const out = new Array<AuditEntry>(n);
  for (let i = 0; i < n; i++) out[i] = entryAt(fields, i);
  return out;
}

/** Statements and refusals per session, in the order the sessions first appear. */
export function countsOf(fields: StatementFields): SessionCounts[] {
  const perSession = new Map<string, [string, number, number]>();
  for (let o = 0; o < fields.length; o += STRIDE) {
    const id = fields[o + SESSION] as string;
    let c = perSession.get(id);
    if (!c) perSession.set(id, (c = [id, 0, 0]));
    c[1] += 1;
    if (refusedAt(fields, o)) c[2] += 1;
  }
  return [...perSession.values()];
}

/**
 * One chained audit row, in column order: seq, at, actor, action, target,
 * subject_user, resource, details, prev_hash, hash.
 */
export type ChainedRow = [number, string, string, string, string, string | null, string | null, string, string, string];

/**
 * The rows that append the batch after the chain head `headValue` (as kept in
 * `meta`; undefined for an empty chain), the new head, and with `asJson` the
 * rows as one JSON array (for a store that takes them as one parameter). The same bytes as
 * `chainRows(headValue, at, entriesOf(fields))`: the row hash is `hashRow`'s
 * (JSON of the first nine columns), the details `canonicalJson`'s.
 */
export function chainStatementRows(
  headValue: string | undefined,
  iso: string,
  fields: StatementFields,
  asJson = false,
): { rows: ChainedRow[]; head: string; json: string } {
  let seq = 0;
  let prev = GENESIS_HASH;
  if (headValue !== undefined) {
    const colon = headValue.indexOf(':');
    seq = Number(colon < 0 ? headValue : headValue.slice(0, colon));
    if (colon >= 0) prev = headValue.slice(colon + 1);
  }
  const n = fields.length / STRIDE;
  const rows = new Array<ChainedRow>(n);
  const bodies = asJson ? new Array<string>(n) : null;
  for (let i = 0, o = 0; i < n; i++, o += STRIDE) {
    seq += 1;
    let row: unknown[];
    const outcome = fields[o + OUTCOME];
    if (outcome === GENERIC) {
      const e = fields[o + EXTRA] as AuditEntry;
      row = [seq, iso, e.actor, e.action, e.target, e.subjectUser ?? null, e.resource ?? null, canonicalJson(e.details ?? {}), prev];
    } else {
      const user = fields[o + USER] as string;
      // Without extra fields the details are a flat record with sorted keys: canonicalJson's output is JSON.stringify's.
      const details = fields[o + EXTRA] === undefined ? JSON.stringify(plainDetails(fields, o)) : canonicalJson(statementDetails(fields, o));
      const action = outcome === 'refused' ? 'statement.refused' : 'statement';
      row = [seq, iso, user, action, fields[o + SESSION], user ?? null, fields[o + RESOURCE] ?? null, details, prev];
    }
    const body = JSON.stringify(row);
    prev = digest('sha256', body, 'hex');
    row.push(prev);
    rows[i] = row as ChainedRow;
    // The row's JSON with its hash: the body less its closing bracket, then the hash (hex needs no escaping).
    if (bodies) bodies[i] = `${body.slice(0, -1)},"${prev}"]`;
  }
  return { rows, head: `${seq}:${prev}`, json: bodies ? `[${bodies.join(',')}]` : '' };
}
