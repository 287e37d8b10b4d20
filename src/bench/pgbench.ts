import { execFile } from 'node:child_process';
import { libpqEnv, type Endpoint } from './endpoints.js';

export type PgbenchScript = 'select-only' | 'tpcb';
export type PgbenchProtocol = 'simple' | 'extended' | 'prepared';

export interface PgbenchRun {
  readonly clients: number;
  readonly seconds: number;
  /** Transactions per client (pgbench's `-t`) instead of `seconds`: the smoke run's short, never-empty runs. */
  readonly transactions?: number;
  /** pgbench's `-M`: one Query per statement, Parse/Bind/Execute each time, or a statement prepared once and run by Bind/Execute. */
  readonly protocol: PgbenchProtocol;
  readonly script: PgbenchScript;
  /** Transactions per second to hold (pgbench's `-R`), instead of as many as the path carries. */
  readonly rate?: number;
  /** Prefix such as ['taskset', '-c', '0'] to pin pgbench. */
  readonly wrap?: readonly string[];
}

/**
 * One pgbench run; returns transactions per second excluding connection
 * time. `-n` skips the initial VACUUM (a read role may not run it, and the
 * paths must all do the same work).
 */
export async function pgbench(e: Endpoint, r: PgbenchRun): Promise<number> {
  return (await pgbenchCounted(e, r)).tps;
}

/** Statements each transaction of a script sends (TPC-B-like: BEGIN, 3 UPDATEs, SELECT, INSERT, END). */
export const STATEMENTS_PER_TRANSACTION: Record<PgbenchScript, number> = { 'select-only': 1, tpcb: 7 };

/** One pgbench run: its tps, and the transactions it completed (for a cost per statement). */
export function pgbenchCounted(e: Endpoint, r: PgbenchRun): Promise<{ tps: number; transactions: number }> {
  const args = ['-n', '-h', e.host, '-p', String(e.port), '-U', e.user, '-c', String(r.clients), '-j', String(Math.min(r.clients, 2))];
  if (r.transactions !== undefined) args.push('-t', String(r.transactions));
  else args.push('-T', String(Math.max(1, Math.round(r.seconds))));
  args.push('-M', r.protocol);
  if (r.rate !== undefined) args.push('-R', String(Math.round(r.rate)));
  if (r.script === 'select-only') args.push('-S');
  args.push(e.database);
  const [cmd, ...rest] = [...(r.wrap ?? []), 'pgbench', ...args];
  return new Promise((resolve, reject) => {
    execFile(cmd!, rest, { env: libpqEnv(e), timeout: (r.seconds + 60) * 1000 }, (err, stdout, stderr) => {
      const m = /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(stdout);
      const failed = /number of failed transactions: (\d+)/.exec(stdout);
      if (err || !m) return reject(new Error(`pgbench against ${e.label} failed: ${(stderr || stdout || String(err)).trim().slice(0, 600)}`));
      if (failed && Number(failed[1]) > 0) return reject(new Error(`pgbench against ${e.label}: ${failed[1]} failed transactions`));
      const done = /number of transactions actually processed: (\d+)/.exec(stdout);
      resolve({ tps: Number(m[1]), transactions: done ? Number(done[1]) : 0 });
    });
  });
}
