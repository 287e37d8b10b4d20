import pg from 'pg';
import { pgConfig, type Endpoint } from '../endpoints.js';
import { wallMs } from '../stats.js';

/** A client connection the bench holds open, and when (wall clock, ms) it saw the connection end. */
export interface HeldSession {
  readonly client: pg.Client;
  endedAtMs: number | null;
}

/** Opens `n` connections, `concurrency` at a time; each records the moment its connection ends (error or close, whichever comes first). */
export async function openSessions(endpoint: Endpoint, n: number, concurrency: number, into: HeldSession[] = []): Promise<HeldSession[]> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const client = new pg.Client(pgConfig(endpoint));
      const held: HeldSession = { client, endedAtMs: null };
      const ended = () => (held.endedAtMs ??= wallMs());
      client.on('error', ended);
      client.on('end', ended);
      await client.connect();
      into.push(held);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return into;
}

/** How many of the sessions answer a `SELECT 1`, asked `concurrency` at a time. */
export async function countAnswering(sessions: readonly HeldSession[], concurrency: number): Promise<number> {
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const s = sessions[next++]!;
      const r = await s.client.query('SELECT 1 AS one').catch(() => null);
      if (r?.rows[0]?.one === 1) answered++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, worker));
  return answered;
}

/** Waits, bounded, until every session has ended. */
export async function waitAllEnded(sessions: readonly HeldSession[], deadlineMs: number): Promise<void> {
  while (wallMs() < deadlineMs && sessions.some((s) => s.endedAtMs === null)) await new Promise((r) => setTimeout(r, 5));
}

export async function closeSessions(sessions: readonly HeldSession[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.client.end().catch(() => undefined)));
}
