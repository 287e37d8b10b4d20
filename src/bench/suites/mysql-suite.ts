import type mysql from 'mysql2/promise';
import type { BenchOptions } from '../options.js';
import { summarize } from '../stats.js';
import { quantiles } from './latency.js';
import { openMysqlBenchEnv, type MysqlBenchEnv, type MysqlEndpoint } from './mysql-env.js';
import { connectTo, pointSelectRate, roundTrips, type MysqlProtocol } from './mysql-load.js';
import type { MysqlBenchResult, MysqlPath, MysqlThroughput } from './mysql-results.js';

/**
 * The bench's MySQL section: direct vs Airlock vs a bare Node relay on the
 * machine's MariaDB, interleaved round by round so a drift of the machine
 * lands on every path; then the added latency at one client, then memory per
 * idle session. Ratios only: on a shared machine absolute rates say little.
 */

const BLOCK = 250;
/** Idle-session steps: each session holds a MariaDB connection (max_connections 151 here, shared with the tests). */
const IDLE_STEPS = { full: [40, 80], quick: [25, 50], smoke: [5, 10] } as const;

async function paths(env: MysqlBenchEnv): Promise<[MysqlPath, MysqlEndpoint][]> {
  const out: [MysqlPath, MysqlEndpoint][] = [
    ['direct', env.direct],
    ['airlock', await env.airlock('reader')],
  ];
  if (env.relay) out.push(['relay', env.relay]);
  return out;
}

async function throughput(env: MysqlBenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<MysqlThroughput[]> {
  const targets = await paths(env);
  // JIT, the parser's first calls and MariaDB's buffer pool warm up outside the measured rounds.
  if (opts.mode !== 'smoke') for (const [, e] of targets) await pointSelectRate(e, 2, 'text', 1);
  const results: MysqlThroughput[] = [];
  for (const clients of opts.clients) {
    for (const protocol of ['text', 'prepared'] as const satisfies readonly MysqlProtocol[]) {
      const samples = new Map<MysqlPath, number[]>(targets.map(([p]) => [p, []]));
      for (let round = 0; round < opts.rounds; round++) {
        for (const [p, e] of targets) samples.get(p)!.push(await pointSelectRate(e, clients, protocol, opts.seconds));
      }
      const per = (of: MysqlPath, to: MysqlPath) => {
        const a = samples.get(of);
        const b = samples.get(to);
        return a && b && a.length > 0 ? summarize(a.map((v, i) => v / b[i]!)) : undefined;
      };
      const qps: MysqlThroughput['qps'] = {};
      for (const [p] of targets) qps[p] = summarize(samples.get(p)!);
      const t: MysqlThroughput = {
        name: `point-select ${protocol} c=${clients}`,
        protocol,
        clients,
        qps,
        ratio: { airlock: per('airlock', 'direct'), relay: per('relay', 'direct'), airlockToRelay: per('airlock', 'relay') },
      };
      results.push(t);
      const r = (s: { median: number } | undefined) => (s ? s.median.toFixed(2) : 'n/a');
      log(`  ${t.name.padEnd(28)} direct ${qps.direct!.median.toFixed(0).padStart(6)}/s   airlock ×${r(t.ratio.airlock)}   relay ×${r(t.ratio.relay)}   airlock/relay ×${r(t.ratio.airlockToRelay)}`);
    }
  }
  return results;
}

async function latency(env: MysqlBenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<MysqlBenchResult['latency']> {
  const targets = await paths(env);
  const clients = new Map<MysqlPath, mysql.Connection>();
  const samples = new Map<MysqlPath, number[]>();
  try {
    for (const [p, e] of targets) {
      const c = await connectTo(e);
      clients.set(p, c);
      samples.set(p, []);
      await roundTrips(c, 'text', 200, []);
    }
    const blocks = Math.max(1, Math.ceil(opts.latencySamples / BLOCK));
    for (let b = 0; b < blocks; b++) {
      for (const [p] of targets) await roundTrips(clients.get(p)!, 'text', BLOCK, samples.get(p)!);
    }
  } finally {
    for (const c of clients.values()) await c.end().catch(() => undefined);
  }
  const us: NonNullable<MysqlBenchResult['latency']>['us'] = {};
  for (const [p] of targets) us[p] = quantiles(samples.get(p)!);
  const addedUs: NonNullable<MysqlBenchResult['latency']>['addedUs'] = {};
  for (const p of ['airlock', 'relay'] as const) {
    const q = us[p];
    if (q) addedUs[p] = { p50: q.p50 - us.direct!.p50, p99: q.p99 - us.direct!.p99 };
  }
  const relay = addedUs.relay ? `; the byte relay adds p50 ${addedUs.relay.p50.toFixed(0)} µs` : '';
  log(`  point select at c=1: direct p50 ${us.direct!.p50.toFixed(0)} µs; airlock adds p50 ${addedUs.airlock!.p50.toFixed(0)} µs, p99 ${addedUs.airlock!.p99.toFixed(0)} µs${relay}`);
  return { us, addedUs };
}

async function idle(env: MysqlBenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<MysqlBenchResult['idle']> {
  const endpoint = await env.airlock('idler');
  const held: mysql.Connection[] = [];
  const open = async (n: number) => {
    for (let i = 0; i < n; i += 10) held.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => connectTo(endpoint)))));
  };
  try {
    // Warm the session path (code, caches) so the baseline does not pay for first use.
    await open(5);
    await Promise.all(held.splice(0).map((c) => c.end()));
    await new Promise((r) => setTimeout(r, 300));
    let before = { sessions: 0, rss: (await env.gateway.call({ op: 'memory' })).rss };
    const steps: NonNullable<MysqlBenchResult['idle']>['steps'][number][] = [];
    for (const target of IDLE_STEPS[opts.mode]) {
      await open(target - held.length);
      const m = await env.gateway.call({ op: 'memory' });
      const perSessionBytes = (m.rss - before.rss) / (target - before.sessions);
      steps.push({ sessions: target, rssBytes: m.rss, heapBytes: m.heapUsed, perSessionBytes });
      log(`  ${target} idle MySQL sessions (${m.sessions} on the gateway): ${(perSessionBytes / 1024).toFixed(1)} KiB per session since ${before.sessions}, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB`);
      before = { sessions: target, rss: m.rss };
    }
    const answered = (await Promise.all(held.map((c) => c.query('SELECT 1 AS one').then(() => 1, () => 0)))).reduce<number>((a, b) => a + b, 0);
    log(`  ${answered}/${held.length} sessions answered SELECT 1`);
    return { steps, answered };
  } finally {
    await Promise.all(held.map((c) => c.end().catch(() => undefined)));
  }
}

export async function runMysql(opts: BenchOptions, log: (line: string) => void): Promise<{ result: MysqlBenchResult; notes: string[] }> {
  const env = await openMysqlBenchEnv(opts, log);
  try {
    const server = await connectTo(env.direct).then(async (c) => {
      const [rows] = await c.query('SELECT VERSION() AS v');
      await c.end();
      return `MariaDB ${String((rows as { v: string }[])[0]?.v)}`;
    });
    const result: MysqlBenchResult = {
      server,
      throughput: await throughput(env, opts, log),
      latency: await latency(env, opts, log),
      idle: await idle(env, opts, log),
    };
    return { result, notes: env.notes };
  } finally {
    await env.close();
  }
}
