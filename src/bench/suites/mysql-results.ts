import type { Quantiles, TargetCheck } from '../results.js';
import type { Summary } from '../stats.js';
import type { MysqlProtocol } from './mysql-load.js';

/** The MySQL section of bench/results/latest.json (`mysql`), its table and its targets (issue 10). */

export type MysqlPath = 'direct' | 'airlock' | 'relay';

export interface MysqlThroughput {
  readonly name: string;
  readonly protocol: MysqlProtocol;
  readonly clients: number;
  /** Statements per second. */
  readonly qps: Partial<Record<MysqlPath, Summary>>;
  /** Per interleaved round: path ÷ direct, and airlock ÷ relay (the goal's ratio). */
  readonly ratio: { readonly airlock?: Summary; readonly relay?: Summary; readonly airlockToRelay?: Summary };
}

export interface MysqlBenchResult {
  readonly server: string;
  readonly throughput: MysqlThroughput[];
  /** One client, point selects (text), alternating blocks between the paths; µs. */
  readonly latency?: { readonly us: Partial<Record<MysqlPath, Quantiles>>; readonly addedUs: Partial<Record<'airlock' | 'relay', { readonly p50: number; readonly p99: number }>> };
  /** Idle sessions through the gateway, each with its own upstream connection. */
  readonly idle?: { readonly steps: readonly { readonly sessions: number; readonly rssBytes: number; readonly heapBytes: number; readonly perSessionBytes: number }[]; readonly answered: number };
}

const ratio = (s: Summary | undefined) => (s ? `×${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]` : 'n/a');
const rate = (s: Summary | undefined) => (s ? `${s.median.toFixed(0)} ±${(s.spread * 50).toFixed(0)}%` : 'n/a');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderMysqlTable(r: MysqlBenchResult): string {
  const out: string[] = ['', `MySQL gateway (${r.server}; sysbench-style point selects through mysql2; statements/s median ±half-spread; ratios per round)`];
  out.push('relay = a bare Node.js TCP byte relay in front of MariaDB: the floor one more Node hop sets');
  if (r.throughput.length > 0) {
    out.push(
      table(
        ['workload', 'direct', 'airlock', 'relay', 'airlock/direct', 'relay/direct', 'airlock/relay'],
        r.throughput.map((t) => [t.name, rate(t.qps.direct), rate(t.qps.airlock), rate(t.qps.relay), ratio(t.ratio.airlock), ratio(t.ratio.relay), ratio(t.ratio.airlockToRelay)]),
      ),
    );
  }
  if (r.latency) {
    const l = r.latency;
    out.push('', 'MySQL point select (text) round trip at c=1 (p50 / p99)');
    out.push(
      table(
        ['path', 'round trip', 'added vs direct'],
        (['direct', 'airlock', 'relay'] as const).flatMap((p) => {
          const q = l.us[p];
          const added = p === 'direct' ? undefined : l.addedUs[p];
          return q ? [[p, `${q.p50.toFixed(0)} / ${q.p99.toFixed(0)} µs`, added ? `${added.p50.toFixed(0)} / ${added.p99.toFixed(0)} µs` : '—']] : [];
        }),
      ),
    );
  }
  if (r.idle) {
    out.push('', 'MySQL idle sessions (gateway RSS after GC; each holds an upstream MariaDB connection)');
    out.push(table(['sessions', 'per session (since step before)', 'heap'], r.idle.steps.map((s) => [String(s.sessions), `${(s.perSessionBytes / 1024).toFixed(1)} KiB`, `${(s.heapBytes / 2 ** 20).toFixed(1)} MiB`])));
    out.push(`answered SELECT 1 at the top step: ${r.idle.answered}`);
  }
  return out.join('\n');
}

/** Issue 10's goals. Reported, never asserted: speed depends on the machine. */
export function checkMysqlTargets(r: MysqlBenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const t of r.throughput) {
    const a = t.ratio.airlockToRelay;
    if (a) checks.push({ target: `mysql ${t.name}: within 15% of the Node relay (issue 10)`, measured: `airlock/relay ×${a.median.toFixed(2)} (airlock/direct ${ratio(t.ratio.airlock)})`, met: a.median >= 0.85 });
  }
  const added = r.latency?.addedUs.airlock;
  if (added) checks.push({ target: 'mysql added p50 at c=1 ≤ 100 µs (issue 10)', measured: `${added.p50.toFixed(0)} µs (p99 ${added.p99.toFixed(0)} µs)`, met: added.p50 <= 100 });
  const top = r.idle?.steps[r.idle.steps.length - 1];
  if (top) checks.push({ target: 'mysql ≤ 64 KiB per idle session (issue 10)', measured: `${(top.perSessionBytes / 1024).toFixed(1)} KiB at ${top.sessions}`, met: top.perSessionBytes <= 64 * 1024 });
  return checks;
}
