import type { BenchEnv, Role } from '../bench-env.js';
import type { Endpoint } from '../endpoints.js';
import { pgbench, pgbenchCounted, STATEMENTS_PER_TRANSACTION, type PgbenchRun } from '../pgbench.js';
import { processCpuMs } from '../process-cpu.js';
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
    for (const protocol of ['simple', 'extended', 'prepared'] as const) {
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

/**
 * The runs interleaved, round by round. For the targets named in `pids`,
 * the CPU their proxy process used during each run (every thread, user +
 * system) divided by the statements it carried goes into `cpuUs`.
 */
export async function interleave(
  env: BenchEnv,
  targets: readonly [string, Endpoint][],
  run: Omit<PgbenchRun, 'seconds' | 'wrap'>,
  cpu?: { readonly pids: ReadonlyMap<string, number>; readonly us: Map<string, number[]> },
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < env.opts.rounds; round++) {
    for (const [name, endpoint] of targets) {
      const pid = cpu?.pids.get(name);
      const before = pid === undefined ? null : processCpuMs(pid);
      const r = await pgbenchCounted(endpoint, { ...run, seconds: env.opts.seconds, transactions: env.opts.transactions, wrap: env.pgbenchWrap });
      samples.get(name)!.push(r.tps);
      const after = pid === undefined ? null : processCpuMs(pid);
      const statements = r.transactions * STATEMENTS_PER_TRANSACTION[run.script];
      if (cpu && before !== null && after !== null && statements > 0) {
        // Includes the run's sign-ins (a few per run), as PgBouncer's and the relay's do.
        const list = cpu.us.get(name) ?? [];
        list.push(((after - before) * 1000) / statements);
        cpu.us.set(name, list);
      }
    }
  }
  return samples;
}

/** The proxy process behind each path, whose CPU per statement is measured. */
export function proxyPids(env: BenchEnv): Map<string, number> {
  const pids = new Map<string, number>([['airlock', env.gateway.pid]]);
  if (env.pgbouncer) pids.set('pgbouncer', env.pgbouncer.pid);
  if (env.relay) pids.set('relay', env.relay.pid);
  return pids;
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
      await pgbench(endpoint, { clients: 2, protocol: 'prepared', script: role === 'read' ? 'select-only' : 'tpcb', seconds: 1, transactions: env.opts.transactions }).catch((err: unknown) => {
        log(`  warm-up of ${endpoint.label} did not complete: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      });
    }
  }
  for (const cmp of comparisons(env.opts.clients)) {
    const targets = await paths(env, cmp.role);
    const cpu = { pids: proxyPids(env), us: new Map<string, number[]>() };
    const samples = await interleave(env, targets, cmp.run, cpu);
    const tps: ThroughputResult['tps'] = {};
    const ratio: ThroughputResult['ratio'] = {};
    const cpuUs: NonNullable<ThroughputResult['cpuUsPerStatement']> = {};
    for (const [name] of targets) {
      tps[name] = summarize(samples.get(name)!);
      if (name !== 'direct') ratio[name] = summarize(ratios(samples, name, 'direct'));
      const us = cpu.us.get(name);
      if (name !== 'direct' && us && us.length > 0) cpuUs[name] = summarize(us);
    }
    results.push({ name: cmp.name, script: cmp.run.script, protocol: cmp.run.protocol, clients: cmp.run.clients, tps, ratio, cpuUsPerStatement: cpuUs });
    const r = (p: Exclude<PathName, 'direct'>) => (ratio[p] ? ratio[p].median.toFixed(2) : 'n/a');
    const c = (p: Exclude<PathName, 'direct'>) => (cpuUs[p] ? `${cpuUs[p].median.toFixed(0)}µs` : 'n/a');
    log(
      `  ${cmp.name.padEnd(28)} direct ${tps.direct!.median.toFixed(0).padStart(6)} tps   airlock ×${r('airlock')} ${c('airlock')}   pgbouncer ×${r('pgbouncer')} ${c('pgbouncer')}   relay ×${r('relay')} ${c('relay')}  (CPU per statement)`,
    );
  }
  return results;
}
