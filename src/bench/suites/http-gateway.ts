import autocannon from 'autocannon';
import http from 'node:http';
import type { BenchOptions } from '../options.js';
import type { Quantiles, TargetCheck } from '../results.js';
import { summarize, type Summary } from '../stats.js';
import { quantiles } from './latency.js';
import { BENCH_RESOURCE, startHttpPeer, type HttpPeer } from './http-process.js';

/**
 * The HTTP gateway's cost (issue 11): a small GET of a local upstream
 * directly, through a bare Node.js reverse proxy, and through Airlock (grant
 * checked, rules matched, write-ahead intent and audit record per request).
 * Throughput with autocannon at each client count, in interleaved rounds
 * whose first path rotates; latency with one keep-alive client, one request
 * at a time, in alternating blocks (autocannon's histogram counts whole
 * milliseconds, too coarse for a p50 in microseconds).
 */

export type HttpPath = 'direct' | 'proxy' | 'airlock';
const PATHS: readonly HttpPath[] = ['direct', 'proxy', 'airlock'];
const REQUEST_PATH = '/api/overview';
const BLOCK = 250;

export interface HttpThroughput {
  readonly clients: number;
  /** Requests per second. */
  readonly rps: Record<HttpPath, Summary>;
  /** Per round: proxy ÷ direct, airlock ÷ direct, airlock ÷ proxy. */
  readonly ratio: { readonly proxy: Summary; readonly airlock: Summary; readonly airlockToProxy: Summary };
}

export interface HttpBenchResult {
  readonly throughput: HttpThroughput[];
  readonly latency: {
    /** Microseconds per small GET, one client, keep-alive. */
    readonly us: Record<HttpPath, Quantiles>;
    readonly addedUs: {
      readonly proxy: { readonly p50: number; readonly p99: number };
      readonly airlock: { readonly p50: number; readonly p99: number };
      /** What Airlock adds over the bare proxy: its own work, without the hop. */
      readonly airlockOverProxy: { readonly p50: number; readonly p99: number };
    };
  };
}

interface Target {
  readonly port: number;
  readonly headers: Record<string, string>;
}

function targetOf(path: HttpPath, peer: HttpPeer): Target {
  if (path !== 'airlock') return { port: peer.port, headers: {} };
  return {
    port: peer.port,
    headers: {
      host: `${BENCH_RESOURCE}.localhost:${peer.port}`,
      authorization: `Basic ${Buffer.from(`${peer.user}:${peer.secret}`).toString('base64')}`,
    },
  };
}

async function load(t: Target, clients: number, seconds: number): Promise<number> {
  const r = await autocannon({
    url: `http://127.0.0.1:${t.port}${REQUEST_PATH}`,
    connections: clients,
    duration: seconds,
    headers: t.headers,
  });
  // A refused or failed request is no throughput: the run is void rather than flattering.
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers and ${r.errors} errors at ${r.url}`);
  return r.requests.average;
}

function get(agent: http.Agent, t: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: t.port, path: REQUEST_PATH, headers: t.headers, agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.on('data', () => undefined);
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function roundTrips(agent: http.Agent, t: Target, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await get(agent, t);
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

async function measureLatency(targets: Record<HttpPath, Target>, samples: number): Promise<HttpBenchResult['latency']> {
  const agents = Object.fromEntries(PATHS.map((p) => [p, new http.Agent({ keepAlive: true, maxSockets: 1 })])) as Record<HttpPath, http.Agent>;
  const kept = Object.fromEntries(PATHS.map((p) => [p, [] as number[]])) as Record<HttpPath, number[]>;
  try {
    for (const p of PATHS) await roundTrips(agents[p], targets[p], 200, []); // warm-up, not kept
    const blocks = Math.max(1, Math.ceil(samples / BLOCK));
    for (let b = 0; b < blocks; b++) for (const p of PATHS) await roundTrips(agents[p], targets[p], BLOCK, kept[p]);
  } finally {
    for (const a of Object.values(agents)) a.destroy();
  }
  const us = Object.fromEntries(PATHS.map((p) => [p, quantiles(kept[p])])) as Record<HttpPath, Quantiles>;
  const minus = (a: Quantiles, b: Quantiles) => ({ p50: a.p50 - b.p50, p99: a.p99 - b.p99 });
  return { us, addedUs: { proxy: minus(us.proxy, us.direct), airlock: minus(us.airlock, us.direct), airlockOverProxy: minus(us.airlock, us.proxy) } };
}

export async function runHttp(opts: BenchOptions, log: (line: string) => void): Promise<HttpBenchResult> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const upstream = await startHttpPeer('upstream');
    stops.push(() => upstream.stop());
    const proxy = await startHttpPeer('proxy', upstream.port);
    stops.push(() => proxy.stop());
    const airlock = await startHttpPeer('airlock', upstream.port, { cpuProfDir: opts.cpuProfDir });
    stops.push(() => airlock.stop());
    const peers: Record<HttpPath, HttpPeer> = { direct: upstream, proxy, airlock };
    const targets = Object.fromEntries(PATHS.map((p) => [p, targetOf(p, peers[p])])) as Record<HttpPath, Target>;

    const throughput: HttpThroughput[] = [];
    for (const clients of opts.clients) {
      const rps: Record<HttpPath, number[]> = { direct: [], proxy: [], airlock: [] };
      for (let round = 0; round < opts.rounds; round++) {
        // The first path of a round rotates, so none always runs on the coolest (or hottest) machine.
        const order = PATHS.map((_, i) => PATHS[(i + round) % PATHS.length]!);
        for (const p of order) rps[p].push(await load(targets[p], clients, Math.max(1, Math.round(opts.seconds))));
      }
      const per = (a: number[], b: number[]) => summarize(a.map((v, i) => v / b[i]!));
      const t: HttpThroughput = {
        clients,
        rps: { direct: summarize(rps.direct), proxy: summarize(rps.proxy), airlock: summarize(rps.airlock) },
        ratio: { proxy: per(rps.proxy, rps.direct), airlock: per(rps.airlock, rps.direct), airlockToProxy: per(rps.airlock, rps.proxy) },
      };
      throughput.push(t);
      log(`  small GET c=${clients}: direct ${t.rps.direct.median.toFixed(0)} rps, proxy ×${t.ratio.proxy.median.toFixed(2)}, airlock ×${t.ratio.airlock.median.toFixed(2)} (÷ proxy ×${t.ratio.airlockToProxy.median.toFixed(2)})`);
    }
    const latency = await measureLatency(targets, opts.latencySamples);
    log(`  small GET c=1: direct p50 ${latency.us.direct.p50.toFixed(0)} µs; proxy adds ${latency.addedUs.proxy.p50.toFixed(0)} µs, airlock adds ${latency.addedUs.airlock.p50.toFixed(0)} µs`);
    return { throughput, latency };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Issue 11's targets: Airlock within 15% of the bare proxy; added p50 ≤ 150 µs for a small GET. Reported, never asserted. */
export function httpTargets(r: HttpBenchResult | undefined): TargetCheck[] {
  if (!r) return [];
  const checks: TargetCheck[] = [];
  for (const t of r.throughput) {
    const a = t.ratio.airlockToProxy;
    checks.push({
      target: `HTTP small GET c=${t.clients}: airlock ≥ 0.85× bare Node proxy (issue 11)`,
      measured: `×${a.median.toFixed(2)} [${a.min.toFixed(2)}–${a.max.toFixed(2)}] (airlock ×${t.ratio.airlock.median.toFixed(2)}, proxy ×${t.ratio.proxy.median.toFixed(2)} of direct)`,
      met: a.median >= 0.85,
    });
  }
  const added = r.latency.addedUs;
  checks.push({
    target: 'HTTP added p50 at c=1 ≤ 150 µs (issue 11)',
    measured: `${added.airlock.p50.toFixed(0)} µs vs direct (${added.airlockOverProxy.p50.toFixed(0)} µs over the bare proxy; p99 ${added.airlock.p99.toFixed(0)} µs)`,
    met: added.airlock.p50 <= 150,
  });
  return checks;
}

export function renderHttp(r: HttpBenchResult, table: (head: readonly string[], rows: readonly (readonly string[])[]) => string): string {
  const ratio = (s: Summary) => `×${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]`;
  const q = (v: Quantiles) => `${v.p50.toFixed(0)} / ${v.p99.toFixed(0)} µs`;
  const out = [
    '',
    'HTTP gateway: small GET (requests/s median; ratios per round: median [min–max])',
    'proxy = a bare Node.js reverse proxy (node:http in and out, keep-alive), no policy and no audit',
    table(
      ['clients', 'direct', 'proxy', 'airlock', 'proxy/direct', 'airlock/direct', 'airlock/proxy'],
      r.throughput.map((t) => [String(t.clients), t.rps.direct.median.toFixed(0), t.rps.proxy.median.toFixed(0), t.rps.airlock.median.toFixed(0), ratio(t.ratio.proxy), ratio(t.ratio.airlock), ratio(t.ratio.airlockToProxy)]),
    ),
    table(
      ['small GET at c=1', 'p50 / p99', 'added vs direct'],
      PATHS.map((p) => [p, q(r.latency.us[p]), p === 'direct' ? '—' : `${r.latency.addedUs[p].p50.toFixed(0)} / ${r.latency.addedUs[p].p99.toFixed(0)} µs`]),
    ),
  ];
  return out.join('\n');
}
