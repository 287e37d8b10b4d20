import type { BenchEnv } from '../bench-env.js';
import { POOLED_RESOURCE, RESOURCE } from '../bench-env.js';
import type { CutResult } from '../results.js';
import { percentile, sortNumbers, wallMs } from '../stats.js';
import { closeSessions, countAnswering, openSessions, waitAllEnded, type HeldSession } from './sessions.js';

/**
 * Live sessions under a grant, then the grant ends; the clock runs from the
 * revocation (taken inside the gateway process, just before it commits) or
 * from expires_at, to the moment each client sees its connection end.
 * Wall-clock milliseconds are comparable across the two processes.
 */

function cutResult(sessions: readonly HeldSession[], fromMs: number): CutResult {
  const ms = sortNumbers(sessions.flatMap((s) => (s.endedAtMs === null ? [] : [s.endedAtMs - fromMs])));
  return { sessions: sessions.length, cut: ms.length, ms: { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1] ?? Number.NaN, n: ms.length } };
}

/** PostgreSQL allows ~100 connections: hundreds of gateway sessions go through PgBouncer's transaction pool when it is there. */
function resourceFor(env: BenchEnv): { resource: string; sessions: number } {
  if (env.pgbouncer) return { resource: POOLED_RESOURCE, sessions: env.opts.cutSessions };
  return { resource: RESOURCE, sessions: Math.min(env.opts.cutSessions, 40) };
}

export async function runRevokeCut(env: BenchEnv, log: (line: string) => void): Promise<CutResult> {
  const { resource, sessions: n } = resourceFor(env);
  const { endpoint, grant } = await env.airlock(env.gateway, 'cutter', { resource });
  const sessions = await openSessions(endpoint, n, 20);
  try {
    const answered = await countAnswering(sessions, 50);
    if (answered !== n) throw new Error(`only ${answered} of ${n} sessions answered before the revoke`);
    const { startedAtMs } = await env.gateway.call({ op: 'revoke', admin: 'root', grantIds: [grant.grantId] });
    await waitAllEnded(sessions, wallMs() + 10_000);
    const result = cutResult(sessions, startedAtMs);
    log(`  revoke → cut, ${n} sessions: p50 ${result.ms.p50.toFixed(1)} ms, p99 ${result.ms.p99.toFixed(1)} ms (${result.cut}/${n} cut)`);
    return result;
  } finally {
    await closeSessions(sessions);
  }
}

export async function runExpiryCut(env: BenchEnv, log: (line: string) => void): Promise<CutResult> {
  const { resource, sessions: n } = resourceFor(env);
  const { endpoint, grant } = await env.airlock(env.gateway, 'expirer', { resource, seconds: env.opts.expirySeconds });
  const sessions = await openSessions(endpoint, n, 20);
  try {
    const answered = await countAnswering(sessions, 50);
    if (answered !== n) throw new Error(`only ${answered} of ${n} sessions answered before expiry (is expirySeconds long enough to open them?)`);
    await waitAllEnded(sessions, grant.expiresAtMs + 10_000);
    const result = cutResult(sessions, grant.expiresAtMs);
    log(`  expiry → cut, ${n} sessions: p50 ${result.ms.p50.toFixed(1)} ms, p99 ${result.ms.p99.toFixed(1)} ms (${result.cut}/${n} cut)`);
    return result;
  } finally {
    await closeSessions(sessions);
  }
}
