import type { ApiClient } from '../server/api-client.js';
import type { GrantView } from '../server/views.js';
import { expiresCell, sessionsCell } from './grant-cells.js';
import { colourEnabled, isoTime, paint, renderTable, visible, type Cell } from './output.js';

export interface WatchOptions {
  readonly write: (text: string) => void;
  readonly signal: AbortSignal;
  readonly server: string;
  /** Wall-clock now in ms; the countdown ticks against it once a second. */
  readonly now?: () => number;
  readonly tickMs?: number;
  readonly reconnectMs?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `0:29:59`: one width as it counts down, like the dashboard. */
export function countdown(expiresAt: string | null, nowMs: number): string {
  const s = Math.max(0, Math.floor(((expiresAt ? new Date(expiresAt).getTime() : nowMs) - nowMs) / 1000));
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

const HEADERS = ['user', 'resource', 'role', 'reason', 'ticket', 'approved by', 'left', 'sessions'];

/** The screen for one redraw; user text is escaped by the table renderer, so a reason cannot move the cursor. */
export function watchScreen(grants: readonly GrantView[], nowMs: number, status: string, server: string, colour = colourEnabled()): string {
  const rows: Cell[][] = grants.map((g) => [
    { text: g.user, tone: 'bold' },
    g.resource,
    g.role,
    g.reason || '-',
    g.ticket || '-',
    g.approved_by.join(', ') || 'policy',
    expiresCell(g.expires_at, nowMs, countdown(g.expires_at, nowMs)),
    { text: sessionsCell(g), tone: g.sessions?.length ? 'green' : undefined },
  ]);
  const clock = isoTime(new Date(nowMs).toISOString());
  const head = `airlock who --watch  ${visible(server)}  ${paint(visible(status), status === 'live' ? 'green' : 'yellow', colour)}  ${clock}  (Ctrl-C to quit)`;
  const body = rows.length ? renderTable(HEADERS, rows, colour) : ['nobody holds access right now'];
  return [head, '', ...body].join('\n') + '\n';
}

/**
 * The terminal's live view: refetches `who` whenever the event stream says
 * something changed, redraws the countdowns once a second, and reconnects
 * (resuming from the last event id) when the stream drops. Resolves when
 * `signal` aborts.
 */
export async function watchWho(api: ApiClient, opts: WatchOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  let grants: GrantView[] = [];
  let status = 'connecting';
  let lastId: string | null = null;
  const draw = () => opts.write(`\x1b[H\x1b[2J${watchScreen(grants, now(), status, opts.server)}`);
  const refetch = async () => {
    try {
      grants = await api.who();
    } catch (err) {
      status = `refresh failed: ${(err as Error).message}`;
    }
    draw();
  };
  const tick = setInterval(draw, opts.tickMs ?? 1000);
  try {
    while (!opts.signal.aborted) {
      try {
        const stream = await api.events({ after: lastId, signal: opts.signal });
        for await (const e of stream) {
          if (e.id) lastId = e.id;
          status = 'live';
          await refetch();
        }
        status = 'reconnecting (stream ended)';
      } catch (err) {
        if (opts.signal.aborted) break;
        status = `reconnecting (${(err as Error).message})`;
      }
      draw();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.reconnectMs ?? 1000);
        opts.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  } finally {
    clearInterval(tick);
  }
}
