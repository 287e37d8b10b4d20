import type { Executor } from '../store/store.js';
import { readSegment, segmentFiles } from './intent-log.js';

/**
 * The crash guarantee, checked after the fact: every statement put on record
 * as an intent before it was forwarded has, in the chain, its outcome or its
 * closure as "may or may not have run". Intents are numbered from 1 in each
 * process run with no gap, so a number that never appears is an intent whose
 * record is missing — unless it is still open (in a segment on disk: in
 * flight on a running server, or left by a crash the next start closes).
 */

export interface IntentCoverageResult {
  readonly ok: boolean;
  /** Intents closed in the chain. */
  readonly closed: number;
  /** Intents still open on disk (in flight, or awaiting recovery at the next start). */
  readonly open: number;
  /** Intents neither closed in the chain nor open: the first few, as `run.n`. */
  readonly missing: readonly string[];
  readonly missingCount: number;
  /** Intents closed more than once (a statement recorded twice). */
  readonly duplicated: readonly string[];
}

interface Run {
  /** Every number up to here has been seen. */
  contiguous: number;
  max: number;
  /** Numbers seen above `contiguous` (outcomes arrive a little out of order). */
  readonly ahead: Set<number>;
}

/** Parses `run.segment.n`. */
function parseIntent(id: string): { run: string; n: number } | null {
  const parts = id.split('.');
  if (parts.length !== 3) return null;
  const n = Number(parts[2]);
  return Number.isInteger(n) && n > 0 ? { run: parts[0]!, n } : null;
}

export async function checkIntentCoverage(db: Executor, intentDir: string | null): Promise<IntentCoverageResult> {
  const runs = new Map<string, Run>();
  const duplicated: string[] = [];
  let closed = 0;
  const see = (id: string) => {
    const p = parseIntent(id);
    if (!p) return;
    let run = runs.get(p.run);
    if (!run) runs.set(p.run, (run = { contiguous: 0, max: 0, ahead: new Set() }));
    if (p.n <= run.contiguous || run.ahead.has(p.n)) {
      if (duplicated.length < 10) duplicated.push(`${p.run}.${p.n}`);
      return;
    }
    closed++;
    run.max = Math.max(run.max, p.n);
    if (p.n !== run.contiguous + 1) return void run.ahead.add(p.n);
    run.contiguous = p.n;
    while (run.ahead.delete(run.contiguous + 1)) run.contiguous++;
  };

  const pageSize = 5000;
  for (let seq = 1; ; ) {
    const page = await db
      .selectFrom('audit_events')
      .select(['seq', 'details'])
      .where('seq', '>=', seq)
      .where('action', '=', 'statement')
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of page) {
      if (!row.details.includes('"intent"')) continue;
      const intent = (JSON.parse(row.details) as { intent?: unknown }).intent;
      if (typeof intent === 'string') see(intent);
    }
    if (page.length < pageSize) break;
    seq = page[page.length - 1]!.seq + 1;
  }

  const open = new Set<string>();
  for (const file of intentDir ? segmentFiles(intentDir) : []) {
    for (const intent of readSegment(file).intents) {
      const p = parseIntent(intent.id);
      if (p) open.add(`${p.run}.${p.n}`);
    }
  }
  const missing: string[] = [];
  let missingCount = 0;
  for (const [name, run] of runs) {
    for (let n = run.contiguous + 1; n < run.max; n++) {
      if (run.ahead.has(n) || open.has(`${name}.${n}`)) continue;
      missingCount++;
      if (missing.length < 10) missing.push(`${name}.${n}`);
    }
  }
  return { ok: missingCount === 0 && duplicated.length === 0, closed, open: open.size, missing, missingCount, duplicated };
}
