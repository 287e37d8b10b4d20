import type { Command } from 'commander';
import { isoTime, oneLine, printJson, printTable, when, type Tone } from '../output.js';
import { action, api } from '../run.js';

const OUTCOME_TONE: Record<string, Tone | undefined> = { refused: 'red', error: 'red', unknown: 'yellow' };

export function sessionCommands(program: Command): void {
  const sessions = program.command('sessions').description('live and recent gateway sessions');
  sessions
    .command('list', { isDefault: true })
    .description('live and recent sessions (the default)')
    .option('--live', 'only sessions that are open now')
    .option('--user <user>', 'only this user\'s sessions')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { live?: boolean; user?: string; json?: boolean }) => {
        const rows = await api().sessions({ live: opts.live, user: opts.user });
        if (opts.json) return printJson(rows);
        printTable(
          ['session', 'user', 'resource', 'role', 'client', 'started', 'ended', 'statements', 'refused', 'node'],
          rows.map((s) => [
            s.id,
            s.user,
            s.resource,
            s.role,
            `${s.client_address}${s.application_name ? ` (${s.application_name})` : ''}`,
            when(s.started_at),
            s.ended_at ? `${when(s.ended_at)} ${s.end_reason ?? ''}`.trim() : { text: 'live', tone: 'green' },
            String(s.statements),
            s.refused ? { text: String(s.refused), tone: 'red' } : '0',
            s.node ?? '-',
          ]),
          'no sessions',
        );
      }),
    );

  sessions
    .command('show')
    .description('a session\'s statements in order, with their outcomes')
    .argument('<session-id>')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }) => {
        const { session, events } = await api().session(id);
        if (opts.json) return printJson({ session, events });
        console.log(`${session.id}: ${session.user} on ${session.resource} (${session.role}) from ${session.client_address}, started ${isoTime(session.started_at)}${session.ended_at ? `, ended ${isoTime(session.ended_at)} (${session.end_reason})` : ', live'}`);
        printTable(
          ['seq', 'at', 'outcome', 'statement', 'result'],
          events.map((e) => {
            const d = e.details as Record<string, unknown>;
            const result = d.outcome === 'refused' ? String(d.reason) : d.outcome === 'error' ? `error ${String(d.sqlstate)}` : [d.command_tag, d.duration_ms !== undefined ? `${String(d.duration_ms)}ms` : ''].filter(Boolean).join(' ');
            const text = typeof d.text === 'string' ? oneLine(d.text, 80) : e.action;
            const outcome = e.action === 'statement' || e.action === 'statement.refused' ? String(d.outcome) : e.action;
            return [String(e.seq), isoTime(e.at), { text: outcome, tone: OUTCOME_TONE[outcome] }, text, result || '-'];
          }),
          'no statements recorded',
        );
      }),
    );
}
