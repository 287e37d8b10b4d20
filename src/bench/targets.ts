import type { BenchResults, TargetCheck } from './results.js';

/** Issue 5's targets, and issue 9's for the write-ahead intent step, checked against a run. Reported, never asserted: speed depends on the machine. */
export function checkTargets(r: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const at8 = r.throughput.filter((t) => t.clients === 8 && t.script === 'select-only');
  for (const t of at8) {
    const a = t.ratio.airlock?.median;
    const b = t.ratio.pgbouncer?.median;
    // Shown, not judged: the relay is the floor one more Node hop sets here, against which Airlock's own cost is read.
    const floor = t.ratio.relay?.median;
    if (a === undefined) continue;
    checks.push({
      target: `${t.name}: ≥ 0.85× direct and ≥ PgBouncer`,
      measured: `×${a.toFixed(2)} (PgBouncer ×${b?.toFixed(2) ?? 'n/a'}, Node byte relay ×${floor?.toFixed(2) ?? 'n/a'})`,
      met: a >= 0.85 && (b === undefined || a >= b),
    });
  }
  // Issue 15: ≥ 0.9× the Node relay's throughput, and ≤ 1.25× its CPU per statement, at every client count.
  for (const t of r.throughput.filter((x) => x.script === 'select-only')) {
    const a = t.tps.airlock?.median;
    const relay = t.tps.relay?.median;
    if (a !== undefined && relay) {
      checks.push({ target: `${t.name}: ≥ 0.9× the Node relay (issue 15)`, measured: `×${(a / relay).toFixed(2)} of the relay's tps`, met: a / relay >= 0.9 });
    }
    const ca = t.cpuUsPerStatement?.airlock?.median;
    const cr = t.cpuUsPerStatement?.relay?.median;
    if (ca !== undefined && cr) {
      checks.push({ target: `${t.name}: CPU per statement ≤ 1.25× the relay's (issue 15)`, measured: `${ca.toFixed(1)} µs vs ${cr.toFixed(1)} µs (×${(ca / cr).toFixed(2)})`, met: ca / cr <= 1.25 });
    }
  }
  // Issue 15: the same CPU goal at an equal load, where batching does not favour the faster path.
  for (const row of r.cost?.rows ?? []) {
    const ca = row.cpuUs.airlock?.median;
    const cr = row.cpuUs.relay?.median;
    if (ca !== undefined && cr) {
      checks.push({
        target: `${row.name} at ${r.cost!.rate}/s: CPU per statement ≤ 1.25× the relay's (issue 15)`,
        measured: `${ca.toFixed(1)} µs vs ${cr.toFixed(1)} µs (×${(ca / cr).toFixed(2)})`,
        met: ca / cr <= 1.25,
      });
    }
  }
  const connect = r.connect?.ms;
  if (connect?.airlock && connect.direct) {
    checks.push({
      target: 'connect + sign-in + first query ≤ direct (issue 15)',
      measured: `${connect.airlock.p50.toFixed(2)} ms vs direct ${connect.direct.p50.toFixed(2)} ms`,
      met: connect.airlock.p50 <= connect.direct.p50,
    });
  }
  const added = r.latency?.addedUs.airlock;
  if (added) checks.push({ target: 'added p50 latency ≤ 100 µs', measured: `${added.p50.toFixed(0)} µs (p99 ${added.p99.toFixed(0)} µs)`, met: added.p50 <= 100 });
  if (r.revoke) checks.push({ target: 'revoke → cut p99 ≤ 100 ms', measured: `${r.revoke.ms.p99.toFixed(1)} ms, ${r.revoke.cut}/${r.revoke.sessions} cut`, met: r.revoke.ms.p99 <= 100 && r.revoke.cut === r.revoke.sessions });
  if (r.expiry) checks.push({ target: 'expiry → cut p99 ≤ 250 ms', measured: `${r.expiry.ms.p99.toFixed(1)} ms, ${r.expiry.cut}/${r.expiry.sessions} cut`, met: r.expiry.ms.p99 <= 250 && r.expiry.cut === r.expiry.sessions });
  // Issue 9: the intent step costs at most 10% of throughput at 8 clients and 30 µs of p50 at 1, against the same gateway without it.
  for (const w of r.intents?.workloads.filter((x) => x.clients === 8) ?? []) {
    checks.push({
      target: `intents on/off ${w.name}: ≥ 0.90 (issue 9)`,
      measured: `×${w.ratio.median.toFixed(2)} [${w.ratio.min.toFixed(2)}–${w.ratio.max.toFixed(2)}]`,
      met: w.ratio.median >= 0.9,
    });
  }
  const intentLatency = r.intents?.latency;
  if (intentLatency) {
    const b = intentLatency.addedP50PerBlock;
    checks.push({
      target: 'intents added p50 at c=1 ≤ 30 µs (issue 9)',
      measured: `${intentLatency.addedUs.p50.toFixed(0)} µs (per block ${b.median.toFixed(0)} [${b.min.toFixed(0)}–${b.max.toFixed(0)}]; p99 ${intentLatency.addedUs.p99.toFixed(0)} µs)`,
      met: intentLatency.addedUs.p50 <= 30,
    });
  }
  const top = r.scale?.steps[r.scale.steps.length - 1];
  if (r.scale && top) {
    checks.push({ target: '≤ 64 KB per idle session', measured: `${(top.perSessionBytes / 1024).toFixed(1)} KiB at ${top.sessions}`, met: top.perSessionBytes <= 64 * 1024 });
    checks.push({ target: '2,000 concurrent sessions, all answering', measured: `${r.scale.answered}/${top.sessions} answered`, met: top.sessions >= 2000 ? r.scale.answered === top.sessions : null });
  }
  return checks;
}
