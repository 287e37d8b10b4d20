import type { Command } from 'commander';
import { WHO_HEADERS, whoRows } from '../grant-cells.js';
import { printJson, printTable, when, type Tone } from '../output.js';
import { forgetGrantSecret, pruneGrantSecrets } from '../grant-secrets.js';
import { currentLogin } from '../login-store.js';
import { durationArgument } from '../duration-argument.js';
import { action, api } from '../run.js';
import { watchWho } from '../who-watch.js';

interface JsonOpt {
  json?: boolean;
}

const STATE_TONE: Record<string, Tone | undefined> = { active: 'green', revoked: 'red', expired: 'dim', released: 'dim' };

export function grantCommands(program: Command): void {
  program
    .command('who')
    .description('every active grant: who holds what, why, since when and until when')
    .option('--json', 'print JSON')
    .option('--watch', 'keep the view open: live updates and a ticking countdown (Ctrl-C to quit)')
    .action(
      action(async (opts: JsonOpt & { watch?: boolean }) => {
        if (opts.watch) {
          const ac = new AbortController();
          process.once('SIGINT', () => ac.abort());
          process.once('SIGTERM', () => ac.abort());
          process.stdout.write('\x1b[?25l'); // hide the cursor while redrawing
          try {
            await watchWho(api(), { write: (t) => process.stdout.write(t), signal: ac.signal, server: currentLogin().server });
          } finally {
            process.stdout.write('\x1b[?25h\n');
          }
          return;
        }
        const grants = await api().who();
        pruneGrantSecrets(currentLogin().server, grants.map((g) => g.id));
        if (opts.json) return printJson(grants);
        printTable(WHO_HEADERS, whoRows(grants), 'nobody holds access right now');
      }),
    );

  program
    .command('grants')
    .description('your grants in any state (admins: --all for everyone\'s)')
    .option('--all', 'everyone\'s grants (admins only)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: JsonOpt & { all?: boolean }) => {
        const grants = await api().grants({ all: opts.all });
        if (opts.json) return printJson(grants);
        printTable(
          ['grant', 'user', 'resource', 'role', 'state', 'ticket', 'started', 'ends', 'ended by'],
          grants.map((g) => [
            g.id,
            g.user,
            g.resource,
            g.role,
            { text: g.state, tone: STATE_TONE[g.state] },
            g.ticket || '-',
            when(g.starts_at),
            when(g.ended_at ?? g.expires_at),
            g.ended_by ? `${g.ended_by}${g.end_reason ? `: ${g.end_reason}` : ''}` : '-',
          ]),
          'no grants',
        );
      }),
    );

  program
    .command('extend')
    .description('ask for more time on your grant (goes through the same policy and approval)')
    .argument('<grant-id>')
    .requiredOption('--for <duration>', 'how much more time: 15m, 1h', durationArgument)
    .option('--reason <text>', 'why (defaults to the grant\'s reason)')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: JsonOpt & { for: string; reason?: string }) => {
        const o = await api().extend(id, opts.for, opts.reason);
        if (opts.json) return printJson(o);
        if (o.grant) console.log(`extended grant ${o.grant.id} until ${when(o.grant.expires_at)}`);
        else console.log(`extension request ${o.request.id} is ${o.request.state}: it needs ${o.request.approvals_needed} approval(s)`);
      }),
    );

  program
    .command('release')
    .description('hand your access back now; open connections are cut')
    .argument('<grant-id>')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: JsonOpt) => {
        const { grant } = await api().release(id);
        forgetGrantSecret(currentLogin().server, grant.id);
        if (opts.json) return printJson({ grant });
        console.log(`released grant ${grant.id} (${grant.role} on ${grant.resource})`);
      }),
    );

  program
    .command('revoke')
    .description('end someone\'s grant now (reviewers of its policy and admins); open connections are cut')
    .argument('<grant-id>')
    .requiredOption('--reason <text>', 'why; the grantee sees it')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: JsonOpt & { reason: string }) => {
        const { grant } = await api().revoke(id, opts.reason);
        if (opts.json) return printJson({ grant });
        console.log(`revoked grant ${grant.id}: ${grant.user} no longer has ${grant.role} on ${grant.resource}`);
      }),
    );
}
