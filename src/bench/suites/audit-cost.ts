import type { BenchEnv } from '../bench-env.js';
import type { AuditCostResult } from '../results.js';
import { summarize } from '../stats.js';
import { interleave, ratios } from './throughput.js';

/**
 * Per-statement audit on vs off: the same gateway build and config, one
 * process recording every statement in the hash chain and one that only
 * counts them, interleaved round by round.
 */
export async function runAuditCost(env: BenchEnv, log: (line: string) => void): Promise<AuditCostResult[]> {
  const on = (await env.airlock(env.gateway, 'reader')).endpoint;
  const off = { ...(await env.airlock(env.gatewayAuditOff, 'reader')).endpoint, label: 'airlock (audit off)' };
  const clients = env.opts.clients.includes(8) ? 8 : env.opts.clients[env.opts.clients.length - 1]!;
  const out: AuditCostResult[] = [];
  for (const protocol of ['simple', 'prepared'] as const) {
    const samples = await interleave(env, [['on', on], ['off', off]], { clients, protocol, script: 'select-only' });
    const result = { clients, protocol, tps: { on: summarize(samples.get('on')!), off: summarize(samples.get('off')!) }, ratio: summarize(ratios(samples, 'on', 'off')) };
    out.push(result);
    log(`  audit on/off ${protocol} c=${clients}: ${result.tps.on.median.toFixed(0)} vs ${result.tps.off.median.toFixed(0)} tps (×${result.ratio.median.toFixed(2)})`);
  }
  return out;
}
