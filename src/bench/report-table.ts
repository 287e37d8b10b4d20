import type { BenchResults, Quantiles } from './results.js';
import type { FleetCutResult } from './suites/fleet-cut.js';
import type { Summary } from './stats.js';

/** The run as a plain-text table for stdout. */

const tps = (s: Summary | undefined) => (s ? `${s.median.toFixed(0)} ±${(s.spread * 50).toFixed(0)}%` : 'n/a');
const ratio = (s: Summary | undefined) => (s ? `×${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]` : 'n/a');
const q = (v: Quantiles | undefined, unit: string, digits = 0) => (v ? `${v.p50.toFixed(digits)} / ${v.p99.toFixed(digits)} ${unit}` : 'n/a');

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderTable(r: BenchResults): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`Airlock bench (${m.mode}): ${m.rounds} interleaved round(s) × ${m.secondsPerRun} s, node ${m.node}, ${m.pgbench}, ${m.cpus} × ${m.cpuModel}`);
  for (const n of m.notes) out.push(`note: ${n}`);
  // `--only` without throughput: no empty table.
  if (r.throughput.length > 0) out.push('', 'Throughput (tps median ±half-spread; ratio to direct: median [min–max] of per-round ratios)');
  // Said once under the heading, so a reader does not take the relay for a product someone might deploy.
  if (r.throughput.some((t) => t.tps.relay)) out.push('relay = a bare Node.js TCP byte relay in front of PostgreSQL: what one more Node hop costs, before any of Airlock\'s work');
  if (r.throughput.length > 0) {
    out.push(
      table(
        ['workload', 'direct', 'airlock', 'pgbouncer', 'relay', 'airlock/direct', 'pgbouncer/direct', 'relay/direct'],
        r.throughput.map((t) => [
          t.name,
          tps(t.tps.direct),
          tps(t.tps.airlock),
          tps(t.tps.pgbouncer),
          tps(t.tps.relay),
          ratio(t.ratio.airlock),
          ratio(t.ratio.pgbouncer),
          ratio(t.ratio.relay),
        ]),
      ),
    );
    const cpu = (s: Summary | undefined) => (s ? `${s.median.toFixed(1)} µs` : 'n/a');
    const perRelay = (a: Summary | undefined, b: Summary | undefined) => (a && b && b.median > 0 ? `×${(a.median / b.median).toFixed(2)}` : 'n/a');
    if (r.throughput.some((t) => t.cpuUsPerStatement)) {
      out.push('', 'Proxy CPU per statement (user + system of all its threads ÷ statements; median of rounds)');
      out.push(
        table(
          ['workload', 'airlock', 'pgbouncer', 'relay', 'airlock/relay'],
          r.throughput.map((t) => {
            const c = t.cpuUsPerStatement ?? {};
            return [t.name, cpu(c.airlock), cpu(c.pgbouncer), cpu(c.relay), perRelay(c.airlock, c.relay)];
          }),
        ),
      );
    }
  }
  if (r.cost) {
    const c = r.cost;
    const names = ['airlock', 'airlock (audit off)', 'pgbouncer', 'relay'];
    out.push('', `Proxy CPU per statement at the same load: ${c.rate} statements/s held by pgbench -R, c=${c.clients} (user + system of all its threads ÷ statements; median of rounds)`);
    out.push(
      table(
        ['workload', ...names, 'airlock/relay', 'held tps (airlock)'],
        c.rows.map((row) => [
          row.name,
          ...names.map((n) => (row.cpuUs[n] ? `${row.cpuUs[n].median.toFixed(1)} µs` : 'n/a')),
          row.cpuUs.airlock && row.cpuUs.relay ? `×${(row.cpuUs.airlock.median / row.cpuUs.relay.median).toFixed(2)}` : 'n/a',
          row.tps.airlock ? row.tps.airlock.median.toFixed(0) : 'n/a',
        ]),
      ),
    );
  }
  if (r.audit.length > 0) {
    out.push('', 'Per-statement audit cost (airlock, audit on vs off)');
    out.push(table(['workload', 'audit on', 'audit off', 'on/off'], r.audit.map((a) => [`select-only ${a.protocol} c=${a.clients}`, tps(a.tps.on), tps(a.tps.off), ratio(a.ratio)])));
  }
  if (r.intents) {
    const i = r.intents;
    const l = i.latency;
    out.push('', `Write-ahead intent cost (airlock, intents on vs off, statement audit on in both; ${r.meta.intentRounds} interleaved round(s) × ${r.meta.intentSecondsPerRun} s, which goes first alternating)`);
    out.push(table(['workload', 'intents on', 'intents off', 'on/off'], i.workloads.map((w) => [w.name, tps(w.tps.on), tps(w.tps.off), ratio(w.ratio)])));
    const b = l.addedP50PerBlock;
    out.push(
      table(
        ['SELECT 1 at c=1', 'intents on', 'intents off', 'added (on − off)', 'added p50 per block'],
        [['p50 / p99', q(l.us.on, 'µs'), q(l.us.off, 'µs'), `${l.addedUs.p50.toFixed(0)} / ${l.addedUs.p99.toFixed(0)} µs`, `${b.median.toFixed(0)} [${b.min.toFixed(0)}–${b.max.toFixed(0)}] µs`]],
      ),
    );
  }
  if (r.latency) {
    const l = r.latency;
    out.push('', 'Latency per SELECT 1 round trip (p50 / p99)');
    out.push(
      table(
        ['path', 'round trip', 'added vs direct'],
        (['direct', 'airlock', 'pgbouncer', 'relay'] as const).flatMap((p) => {
          const added = p === 'direct' ? undefined : l.addedUs[p];
          return l.us[p] ? [[p, q(l.us[p], 'µs'), added ? `${added.p50.toFixed(0)} / ${added.p99.toFixed(0)} µs` : '—']] : [];
        }),
      ),
    );
  }
  if (r.connect) {
    out.push('', 'Connection setup: connect + authenticate + first query (p50 / p99)');
    out.push(table(['path', 'time'], (['direct', 'airlock', 'pgbouncer'] as const).flatMap((p) => (r.connect!.ms[p] ? [[p, q(r.connect!.ms[p], 'ms', 2)]] : []))));
  }
  const cuts = [['revoke → cut', r.revoke], ['expiry → cut', r.expiry]] as const;
  if (r.revoke || r.expiry) {
    out.push('', 'Grant end → live connection closed, per session');
    out.push(table(['event', 'sessions cut', 'p50', 'p99', 'max'], cuts.flatMap(([name, c]) => (c ? [[name, `${c.cut}/${c.sessions}`, `${c.ms.p50.toFixed(1)} ms`, `${c.ms.p99.toFixed(1)} ms`, `${c.ms.max.toFixed(1)} ms`]] : []))));
  }
  if (r.fleet) {
    const f = r.fleet;
    out.push('', `Revoke on node 1 → cut on nodes 2 and 3 (${f.nodes} nodes, one PostgreSQL store; ${f.cut}/${f.samples} sessions cut)`);
    out.push(table(['from', 'p50', 'p99', 'max'], [['API answer', f.fromAnswerMs], ['request sent', f.fromRequestMs]].map(([name, m]) => {
      const q = m as FleetCutResult['fromAnswerMs'];
      return [name as string, `${q.p50.toFixed(1)} ms`, `${q.p99.toFixed(1)} ms`, `${q.max.toFixed(1)} ms`];
    })));
  }
  if (r.scale) {
    out.push('', `Idle sessions (gateway RSS after GC; upstream: ${r.scale.upstream}; baseline ${(r.scale.baselineRssBytes / 2 ** 20).toFixed(1)} MiB)`);
    out.push(
      table(
        ['sessions', 'RSS delta', 'per session (since step before)', 'heap'],
        r.scale.steps.map((s) => [String(s.sessions), `${((s.rssBytes - r.scale!.baselineRssBytes) / 2 ** 20).toFixed(1)} MiB`, `${(s.perSessionBytes / 1024).toFixed(1)} KiB`, `${(s.heapBytes / 2 ** 20).toFixed(1)} MiB`]),
      ),
    );
    out.push(`answered SELECT 1 at the top step: ${r.scale.answered}`);
  }
  out.push('', 'Targets (issue 5)');
  out.push(table(['target', 'measured', 'met'], r.targets.map((t) => [t.target, t.measured, t.met === null ? '—' : t.met ? 'yes' : 'NO'])));
  return out.join('\n');
}
