import type { Command } from 'commander';
import { printJson, printTable, relative } from '../output.js';
import { action, api } from '../run.js';

export function nodeCommands(program: Command): void {
  program
    .command('nodes')
    .description('the nodes sharing the store: which are heard from and how many sessions each carries')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const nodes = await api().nodes();
        if (opts.json) return printJson(nodes);
        printTable(
          ['node', 'state', 'sessions', 'started', 'last seen'],
          nodes.map((n) => [
            `${n.name}${n.this_node ? ' (this one)' : ''}`,
            n.live ? 'up' : 'silent',
            String(n.sessions),
            n.started_at ? relative(n.started_at) : '-',
            relative(n.last_seen),
          ]),
          'no nodes',
        );
      }),
    );
}
