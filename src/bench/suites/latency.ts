import pg from 'pg';
import type { BenchEnv } from '../bench-env.js';
import { pgConfig, type Endpoint } from '../endpoints.js';
import type { LatencyResult, PathName, Quantiles } from '../results.js';
import { percentile, sortNumbers } from '../stats.js';
import { paths } from './throughput.js';

/**
 * One client, one `SELECT 1` at a time, through each path in alternating
 * blocks. The driver (`pg`) costs the same on every path, so the difference
 * of the medians is what the proxy adds.
 */

const BLOCK = 250;

export function quantiles(values: readonly number[]): Quantiles {
  const sorted = sortNumbers(values);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

async function roundTrips(client: pg.Client, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await client.query('SELECT 1');
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

export async function runLatency(env: BenchEnv, log: (line: string) => void): Promise<LatencyResult> {
  const targets: [PathName, Endpoint][] = await paths(env, 'read');
  const clients = new Map<PathName, pg.Client>();
  const samples = new Map<PathName, number[]>();
  try {
    for (const [name, endpoint] of targets) {
      const c = new pg.Client(pgConfig(endpoint));
      await c.connect();
      clients.set(name, c);
      samples.set(name, []);
      await roundTrips(c, 200, []); // warm-up, not kept
    }
    const blocks = Math.max(1, Math.ceil(env.opts.latencySamples / BLOCK));
    for (let b = 0; b < blocks; b++) {
      for (const [name] of targets) await roundTrips(clients.get(name)!, BLOCK, samples.get(name)!);
    }
  } finally {
    for (const c of clients.values()) await c.end().catch(() => undefined);
  }
  const us: LatencyResult['us'] = {};
  for (const [name] of targets) us[name] = quantiles(samples.get(name)!);
  const addedUs: LatencyResult['addedUs'] = {};
  for (const name of ['airlock', 'pgbouncer', 'relay'] as const) {
    const q = us[name];
    if (q) addedUs[name] = { p50: q.p50 - us.direct!.p50, p99: q.p99 - us.direct!.p99 };
  }
  const relay = addedUs.relay ? `; the byte relay adds p50 ${addedUs.relay.p50.toFixed(0)} µs` : '';
  log(`  SELECT 1: direct p50 ${us.direct!.p50.toFixed(0)} µs; airlock adds p50 ${addedUs.airlock!.p50.toFixed(0)} µs, p99 ${addedUs.airlock!.p99.toFixed(0)} µs${relay}`);
  return { us, addedUs };
}
