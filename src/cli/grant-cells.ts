import type { GrantView } from '../server/views.js';
import { when, type Cell } from './output.js';

/** How a grant reads in `who` and `who --watch`: the same cells in both. */

const SOON_SECONDS = 5 * 60;

/** A live session as one cell: where from, which client, how many statements. */
export function sessionsCell(g: GrantView): string {
  return g.sessions?.length ? g.sessions.map((s) => `${s.client_address}${s.application_name ? ` ${s.application_name}` : ''} (${s.statements} stmts)${s.node ? ` on ${s.node}` : ''}`).join('; ') : '-';
}

/** The end of a grant, yellow in its last five minutes. */
export function expiresCell(iso: string | null, now: number, text: string): Cell {
  const left = iso ? (Date.parse(iso) - now) / 1000 : Infinity;
  return { text, tone: left < SOON_SECONDS ? 'yellow' : undefined };
}

export function whoRows(grants: readonly GrantView[], now = Date.now()): Cell[][] {
  return grants.map((g) => [
    { text: g.id, tone: 'dim' },
    { text: g.user, tone: 'bold' },
    g.resource,
    g.role,
    g.reason || '-',
    g.ticket || '-',
    g.approved_by.join(', ') || 'policy',
    when(g.starts_at, now),
    expiresCell(g.expires_at, now, when(g.expires_at, now)),
    { text: sessionsCell(g), tone: g.sessions?.length ? 'green' : undefined },
  ]);
}

export const WHO_HEADERS = ['grant', 'user', 'resource', 'role', 'reason', 'ticket', 'approved by', 'started', 'expires', 'sessions'];

