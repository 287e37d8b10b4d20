import pg from 'pg';
import type { BenchEnv } from '../bench-env.js';
import { pgConfig } from '../endpoints.js';
import type { ConnectResult, PathName } from '../results.js';
import { quantiles } from './latency.js';
import { paths } from './throughput.js';

/**
 * A fresh connection, authentication and a first `SELECT 1`, interleaved
 * across paths. Through Airlock the client also pays SCRAM-SHA-256 (4,096
 * PBKDF2 iterations on its side) and the gateway opens its own upstream
 * connection; direct and PgBouncer use trust auth here.
 */
export async function runConnect(env: BenchEnv, log: (line: string) => void): Promise<ConnectResult> {
  // Not through the byte relay: it is a reference for what moving bytes through one more Node hop costs, which throughput and latency measure; it has no sign-in of its own to time.
  const targets = (await paths(env, 'read')).filter(([name]) => name !== 'relay');
  const samples = new Map<PathName, number[]>(targets.map(([n]) => [n, []]));
  for (let i = 0; i < env.opts.connectSamples + 2; i++) {
    for (const [name, endpoint] of targets) {
      const t0 = process.hrtime.bigint();
      const c = new pg.Client(pgConfig(endpoint));
      try {
        await c.connect();
        await c.query('SELECT 1');
      } finally {
        await c.end().catch(() => undefined);
      }
      // The first two rounds warm up each path and are not kept.
      if (i >= 2) samples.get(name)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const ms: ConnectResult['ms'] = {};
  for (const [name] of targets) ms[name] = quantiles(samples.get(name)!);
  log(`  connect+auth+first query p50: direct ${ms.direct!.p50.toFixed(2)} ms, airlock ${ms.airlock!.p50.toFixed(2)} ms${ms.pgbouncer ? `, pgbouncer ${ms.pgbouncer.p50.toFixed(2)} ms` : ''}`);
  return { ms };
}
