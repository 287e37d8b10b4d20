import type { BenchEnv } from '../bench-env.js';
import { POOLED_RESOURCE } from '../bench-env.js';
import type { ScaleResult, ScaleStep } from '../results.js';
import { closeSessions, countAnswering, openSessions, type HeldSession } from './sessions.js';

/**
 * Idle sessions held open through the gateway; the gateway process's RSS
 * (after a full GC) is read before and at each step. The upstream is
 * PgBouncer's transaction pool: PostgreSQL's max_connections (100 here)
 * cannot hold 2,000 backends, and what is measured is the gateway's memory,
 * which does not depend on what the upstream socket leads to.
 */
export async function runScale(env: BenchEnv, log: (line: string) => void): Promise<ScaleResult | null> {
  if (!env.pgbouncer) {
    log('  scale: skipped (needs PgBouncer as the upstream that can hold thousands of connections)');
    return null;
  }
  const { endpoint } = await env.airlock(env.gateway, 'idler', { resource: POOLED_RESOURCE });
  // Warm the session path (code, caches, pools) so the baseline is not paying for first use.
  await closeSessions(await openSessions(endpoint, 20, 10));
  await new Promise((r) => setTimeout(r, 300));
  const baseline = await env.gateway.call({ op: 'memory' });
  const sessions: HeldSession[] = [];
  const steps: ScaleStep[] = [];
  try {
    let before = { sessions: 0, rss: baseline.rss };
    for (const target of env.opts.scaleSessions) {
      await openSessions(endpoint, target - sessions.length, 50, sessions);
      const m = await env.gateway.call({ op: 'memory' });
      const step = { sessions: target, opened: m.sessions, rssBytes: m.rss, heapBytes: m.heapUsed, perSessionBytes: (m.rss - before.rss) / (target - before.sessions) };
      steps.push(step);
      log(`  ${target} idle sessions: RSS +${((m.rss - baseline.rss) / 2 ** 20).toFixed(1)} MiB, ${(step.perSessionBytes / 1024).toFixed(1)} KiB per session since ${before.sessions}, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB`);
      before = { sessions: target, rss: m.rss };
    }
    const answered = await countAnswering(sessions, 100);
    log(`  ${answered}/${sessions.length} sessions answered SELECT 1`);
    return { upstream: 'pgbouncer transaction pool (8 server connections)', baselineRssBytes: baseline.rss, steps, answered };
  } finally {
    await closeSessions(sessions);
  }
}
