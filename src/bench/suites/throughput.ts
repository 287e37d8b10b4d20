import type { BenchEnv, Role } from '../bench-env.js';
import type { Endpoint } from '../endpoints.js';
import { pgbench, type PgbenchRun } from '../pgbench.js';
import type { PathName, ThroughputResult } from '../results.js';
import { summarize } from '../stats.js';

/**
 * pgbench through each path, interleaved: every round runs direct, then
 * Airlock, then PgBouncer, then the byte relay, so a drift of the machine
 * (another process, a checkpoint) lands on all of them. A ratio is taken
 * within each round and the rounds' ratios are summarized.
 */

export interface Comparison {
  readonly name: string;
  readonly run: Omit<PgbenchRun, 'seconds' | 'wrap'>;
  readonly role: Role;
}

export function comparisons(clients: readonly number[]): Comparison[] {
  const list: Comparison[] = [];
  for (const c of clients) {
    for (const protocol of ['simple', 'prepared'] as const) {
      list.push({ name: `select-only ${protocol} c=${c}`, role: 'read', run: { clients: c, protocol, script: 'select-only' } });
    }
  }
  // TPC-B-like writes through the write role; 8 clients (or the largest asked for, if fewer).
  const c = clients.includes(8) ? 8 : clients[clients.length - 1]!;
  list.push({ name: `tpcb simple c=${c}`, role: 'write', run: { clients: c, protocol: 'simple', script: 'tpcb' } });
  return list;
}

export async function paths(env: BenchEnv, role: Role): Promise<[PathName, Endpoint][]> {
  const out: [PathName, Endpoint][] = [
    ['direct', env.direct(role)],
    ['airlock', (await env.airlock(env.gateway, role === 'read' ? 'reader' : 'writer')).endpoint],
  ];
  const bouncer = env.pgbouncerSession(role);
  if (bouncer) out.push(['pgbouncer', bouncer]);
  const relayed = env.relayed(role);
  if (relayed) out.push(['relay', relayed]);
  return out;
}

export async function interleave(
  env: BenchEnv,
  targets: readonly [string, Endpoint][],
  run: Omit<PgbenchRun, 'seconds' | 'wrap'>,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < env.opts.rounds; round++) {
    for (const [name, endpoint] of targets) {
      samples.get(name)!.push(await pgbench(endpoint, { ...run, seconds: env.opts.seconds, wrap: env.pgbenchWrap }));
    }
  }
  return samples;
}

export function ratios(samples: Map<string, number[]>, of: string, to: string): number[] {
  const a = samples.get(of) ?? [];
  const b = samples.get(to) ?? [];
  return a.map((v, i) => v / b[i]!);
}

export async function runThroughput(env: BenchEnv, log: (line: string) => void): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  // Warm up each path once (JIT, classifier and plan caches, PgBouncer's pool) outside the measured rounds; quick runs skip the write role.
  for (const role of env.opts.mode === 'full' ? (['read', 'write'] as const) : (['read'] as const)) {
    for (const [, endpoint] of await paths(env, role)) {
      // A cold first sign-in on a loaded machine can eat the whole second: that costs the warm-up, not the suite.
      await pgbench(endpoint, { clients: 2, protocol: 'prepared', script: role === 'read' ? 'select-only' : 'tpcb', seconds: 1 }).catch((err: unknown) => {
        log(`  warm-up of ${endpoint.label} did not complete: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      });
    }
  }
  for (const cmp of comparisons(env.opts.clients)) {
    const targets = await paths(env, cmp.role);
    const samples = await interleave(env, targets, cmp.run);
    const tps: ThroughputResult['tps'] = {};
    const ratio: ThroughputResult['ratio'] = {};
    for (const [name] of targets) {
      tps[name] = summarize(samples.get(name)!);
      if (name !== 'direct') ratio[name] = summarize(ratios(samples, name, 'direct'));
    }
    results.push({ name: cmp.name, script: cmp.run.script, protocol: cmp.run.protocol, clients: cmp.run.clients, tps, ratio });
    const r = (p: Exclude<PathName, 'direct'>) => (ratio[p] ? ratio[p].median.toFixed(2) : 'n/a');
    log(`  ${cmp.name.padEnd(28)} direct ${tps.direct!.median.toFixed(0).padStart(6)} tps   airlock ×${r('airlock')}   pgbouncer ×${r('pgbouncer')}   relay ×${r('relay')}`);
  }
  return results;
}
