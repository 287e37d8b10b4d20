import pg from 'pg';
import type { BenchEnv, BenchUser } from '../bench-env.js';
import { pgConfig, type Endpoint } from '../endpoints.js';
import { pgbench, type PgbenchRun } from '../pgbench.js';
import type { IntentCostResult, IntentWorkloadResult } from '../results.js';
import { percentile, sortNumbers, summarize } from '../stats.js';
import { quantiles } from './latency.js';
import { ratios } from './throughput.js';

/**
 * What the write-ahead intent step costs: the product's gateway (intents on)
 * against a gateway process that differs only in not appending intents
 * (statement audit on in both), interleaved round by round through the same
 * pgbench harness, plus the p50/p99 a lone `SELECT 1` gains from it.
 */

const BLOCK = 250;

interface Workload {
  readonly name: string;
  readonly user: BenchUser;
  readonly run: Omit<PgbenchRun, 'seconds' | 'wrap'>;
}

/** Select-only simple and prepared at 1 client and at 8 (or the largest asked for), and TPC-B with the write role at that many. */
export function intentWorkloads(clients: readonly number[]): Workload[] {
  const top = clients.includes(8) ? 8 : Math.max(...clients);
  const list: Workload[] = [];
  for (const c of [...new Set([1, top])]) {
    for (const protocol of ['simple', 'prepared'] as const) {
      list.push({ name: `select-only ${protocol} c=${c}`, user: 'reader', run: { clients: c, protocol, script: 'select-only' } });
    }
  }
  list.push({ name: `tpcb simple c=${top}`, user: 'writer', run: { clients: top, protocol: 'simple', script: 'tpcb' } });
  return list;
}

async function pair(env: BenchEnv, user: BenchUser): Promise<[string, Endpoint][]> {
  const on = { ...(await env.airlock(env.gateway, user)).endpoint, label: 'airlock (intents on)' };
  const off = { ...(await env.airlock(env.gatewayIntentsOff, user)).endpoint, label: 'airlock (intents off)' };
  return [
    ['on', on],
    ['off', off],
  ];
}

/** Like throughput's interleave, but which gateway runs first alternates by round: a ratio near 1 is where an order effect would show. */
async function interleaveAlternating(env: BenchEnv, targets: readonly [string, Endpoint][], run: Workload['run']): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < env.opts.intentRounds; round++) {
    for (const [name, endpoint] of round % 2 === 0 ? targets : [...targets].reverse()) {
      samples.get(name)!.push(await pgbench(endpoint, { ...run, seconds: env.opts.intentSeconds, transactions: env.opts.transactions, wrap: env.pgbenchWrap }));
    }
  }
  return samples;
}

async function roundTrips(client: pg.Client, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await client.query('SELECT 1');
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

async function latency(env: BenchEnv): Promise<IntentCostResult['latency']> {
  const targets = await pair(env, 'reader');
  const clients = new Map<string, pg.Client>();
  const samples = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  const perBlock: number[] = [];
  try {
    for (const [name, endpoint] of targets) {
      const c = new pg.Client(pgConfig(endpoint));
      await c.connect();
      clients.set(name, c);
      await roundTrips(c, 200, []); // warm-up, not kept
    }
    const blocks = Math.max(1, Math.ceil(env.opts.latencySamples / BLOCK));
    for (let b = 0; b < blocks; b++) {
      // Which gateway goes first alternates, so neither always runs right after the other's burst.
      const order = b % 2 === 0 ? targets : [...targets].reverse();
      const block = new Map<string, number[]>();
      for (const [name] of order) {
        const got: number[] = [];
        await roundTrips(clients.get(name)!, BLOCK, got);
        block.set(name, got);
        samples.get(name)!.push(...got);
      }
      perBlock.push(percentile(sortNumbers(block.get('on')!), 50) - percentile(sortNumbers(block.get('off')!), 50));
    }
  } finally {
    for (const c of clients.values()) await c.end().catch(() => undefined);
  }
  const on = quantiles(samples.get('on')!);
  const off = quantiles(samples.get('off')!);
  return { us: { on, off }, addedUs: { p50: on.p50 - off.p50, p99: on.p99 - off.p99 }, addedP50PerBlock: summarize(perBlock) };
}

export async function runIntentCost(env: BenchEnv, log: (line: string) => void): Promise<IntentCostResult> {
  const list = intentWorkloads(env.opts.clients);
  // Warm up both gateways once per role (JIT, classifier and plan caches) outside the measured rounds. On a loaded
  // machine (or under --cpu-prof) sign-ins can eat a whole warm-up run; that costs the warm-up, not the suite.
  for (const user of [...new Set(list.map((w) => w.user))]) {
    for (const [, endpoint] of await pair(env, user)) {
      await pgbench(endpoint, { clients: 2, protocol: 'prepared', script: user === 'reader' ? 'select-only' : 'tpcb', seconds: 2, transactions: env.opts.transactions }).catch((err: unknown) => {
        log(`  warm-up of ${endpoint.label} (${user}) did not complete: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      });
    }
  }
  const workloads: IntentWorkloadResult[] = [];
  for (const w of list) {
    const samples = await interleaveAlternating(env, await pair(env, w.user), w.run);
    const result: IntentWorkloadResult = {
      name: w.name,
      script: w.run.script,
      protocol: w.run.protocol,
      clients: w.run.clients,
      tps: { on: summarize(samples.get('on')!), off: summarize(samples.get('off')!) },
      ratio: summarize(ratios(samples, 'on', 'off')),
    };
    workloads.push(result);
    const r = result.ratio;
    log(`  intents on/off ${w.name.padEnd(26)} ${result.tps.on.median.toFixed(0).padStart(6)} vs ${result.tps.off.median.toFixed(0).padStart(6)} tps  ×${r.median.toFixed(2)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`);
  }
  const lat = await latency(env);
  const b = lat.addedP50PerBlock;
  log(
    `  intents SELECT 1 c=1: on p50 ${lat.us.on.p50.toFixed(0)} µs, off p50 ${lat.us.off.p50.toFixed(0)} µs; added p50 ${lat.addedUs.p50.toFixed(0)} µs ` +
      `(per block ${b.median.toFixed(0)} [${b.min.toFixed(0)}–${b.max.toFixed(0)}]), added p99 ${lat.addedUs.p99.toFixed(0)} µs`,
  );
  return { workloads, latency: lat };
}
