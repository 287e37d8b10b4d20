import type { BenchEnv } from '../bench-env.js';
import type { Endpoint } from '../endpoints.js';
import { pgbench, type PgbenchProtocol } from '../pgbench.js';
import type { CostResult } from '../results.js';
import { summarize } from '../stats.js';
import { interleave } from './throughput.js';

/**
 * What each proxy spends per statement when every path carries the same
 * load: pgbench holds a fixed rate (`-R`), and the CPU of each proxy process
 * (all threads, user + system, from /proc) is divided by the statements it
 * carried. At full speed a slower proxy also batches less per wake-up, so
 * its CPU per statement there mixes its own cost with its lower rate; at an
 * equal rate the figures compare cost alone.
 *
 * `airlock (audit off)` is the same gateway with statement audit and intents
 * off: the gap to it is what recording every statement costs, the gap from
 * it to the relay what the policy and protocol tracking cost.
 */

const PROTOCOLS: readonly PgbenchProtocol[] = ['simple', 'extended', 'prepared'];

export async function runCost(env: BenchEnv, log: (line: string) => void): Promise<CostResult> {
  const clients = env.opts.clients.includes(8) ? 8 : env.opts.clients[env.opts.clients.length - 1]!;
  // Well under what every path carries here, so each holds it: the comparison is of cost, not of capacity.
  const rate = env.opts.mode === 'smoke' ? 300 : 3000;
  const targets: [string, Endpoint][] = [
    ['airlock', (await env.airlock(env.gateway, 'reader')).endpoint],
    ['airlock (audit off)', (await env.airlock(env.gatewayAuditOff, 'reader')).endpoint],
  ];
  const bouncer = env.pgbouncerSession('read');
  if (bouncer) targets.push(['pgbouncer', bouncer]);
  const relayed = env.relayed('read');
  if (relayed) targets.push(['relay', relayed]);
  const pids = new Map<string, number>([
    ['airlock', env.gateway.pid],
    ['airlock (audit off)', env.gatewayAuditOff.pid],
  ]);
  if (env.pgbouncer) pids.set('pgbouncer', env.pgbouncer.pid);
  if (env.relay) pids.set('relay', env.relay.pid);

  // A path's first sessions (sign-in, catalog facts, JIT) cost more than a short run's statements can hide:
  // each path and protocol runs once unmeasured, and measured runs last at least 3 s.
  const timed = { ...env, opts: { ...env.opts, seconds: Math.max(env.opts.seconds, env.opts.mode === 'smoke' ? 1 : 3) } };
  // A gateway process's first few thousand statements also pay one-time work on its other threads (the SQL
  // parser's WebAssembly and JIT warm-up): seen as ~80–130 µs per statement more in a first 3 s run.
  for (const [, endpoint] of targets) {
    await pgbench(endpoint, { clients, protocol: 'simple', script: 'select-only', rate, seconds: env.opts.mode === 'smoke' ? 1 : 3, transactions: env.opts.transactions, wrap: env.pgbenchWrap });
  }
  const rows: CostResult['rows'][number][] = [];
  for (const protocol of env.opts.mode === 'smoke' ? PROTOCOLS.slice(0, 1) : PROTOCOLS) {
    for (const [, endpoint] of targets) await pgbench(endpoint, { clients, protocol, script: 'select-only', rate, seconds: 1, transactions: env.opts.transactions, wrap: env.pgbenchWrap });
    const us = new Map<string, number[]>();
    const samples = await interleave(timed, targets, { clients, protocol, script: 'select-only', rate }, { pids, us });
    const cpuUs: Record<string, ReturnType<typeof summarize>> = {};
    const tps: Record<string, ReturnType<typeof summarize>> = {};
    for (const [name] of targets) {
      const list = us.get(name);
      if (list && list.length > 0) cpuUs[name] = summarize(list);
      tps[name] = summarize(samples.get(name)!);
    }
    rows.push({ name: `select-only ${protocol} c=${clients}`, protocol, cpuUs, tps });
    const f = (name: string) => (cpuUs[name] ? `${cpuUs[name].median.toFixed(0)}µs` : 'n/a');
    log(`  ${protocol.padEnd(8)} at ${rate}/s: airlock ${f('airlock')}  audit off ${f('airlock (audit off)')}  pgbouncer ${f('pgbouncer')}  relay ${f('relay')}  (CPU per statement)`);
  }
  return { rate, clients, rows };
}
