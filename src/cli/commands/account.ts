import type { Command } from 'commander';
import { createApiClient } from '../../server/api-client.js';
import { saveLogin } from '../login-store.js';
import { printJson, printTable } from '../output.js';
import { action, api } from '../run.js';

export function accountCommands(program: Command): void {
  program
    .command('login')
    .description('save the server URL and your personal API token (~/.config/airlock/login.json, mode 0600)')
    .requiredOption('--server <url>', 'the Airlock server, e.g. http://127.0.0.1:8700')
    .requiredOption('--token <token>', 'your personal API token (from `airlock tokens issue`)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { server: string; token: string; json?: boolean }) => {
        const me = await createApiClient(opts.server, opts.token).whoami();
        const file = saveLogin({ server: opts.server, token: opts.token });
        if (opts.json) printJson({ ...me, server: opts.server, saved_to: file });
        else console.log(`logged in to ${opts.server} as ${me.user}; saved to ${file}`);
      }),
    );

  program
    .command('whoami')
    .description('who the saved token belongs to')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const me = await api().whoami();
        if (opts.json) printJson(me);
        else console.log(`${me.user} (groups: ${me.groups.join(', ') || 'none'})${me.admin ? ', admin' : ''}`);
      }),
    );

  program
    .command('resources')
    .description('what you may request: resource, role, approval needed, max duration')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const rows = await api().resources();
        if (opts.json) return printJson(rows);
        printTable(
          ['resource', 'kind', 'role', 'allows', 'approval', 'max', 'requires'],
          rows.map((r) => [
            r.resource,
            r.kind,
            r.role,
            r.allow.join(',') || '-',
            r.approval,
            r.max_duration,
            [r.requires.reason ? 'reason' : '', r.requires.ticket ? `ticket ${r.requires.ticket}` : ''].filter(Boolean).join(', ') || '-',
          ]),
          'no policy lets you request anything yet; ask an Airlock admin',
        );
      }),
    );
}
