import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { printJson, printTable } from '../output.js';
import { action } from '../run.js';

export function storeCommands(program: Command): void {
  const store = program.command('store').description('the control plane store (SQLite file or PostgreSQL)');

  store
    .command('migrate')
    .description('copy a whole store (grants, sessions, tokens, the audit chain intact) into a new, empty one, e.g. SQLite → PostgreSQL')
    .requiredOption('--from <url>', 'the store to copy, e.g. sqlite:.airlock/airlock.db')
    .option('--to <url>', 'the empty store to fill, e.g. postgres://airlock@db:5432/airlock')
    .option('--to-env <var>', 'an environment variable holding the target URL (keeps its password off the command line)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { from: string; to?: string; toEnv?: string; json?: boolean }) => {
        const to = opts.toEnv ? process.env[opts.toEnv] : opts.to;
        if (!to) throw invalid('usage', opts.toEnv ? `--to-env names ${opts.toEnv}, but it is not set` : 'name the target store: --to URL or --to-env VAR');
        // Loaded here, not at the top: the store would otherwise load for every CLI command.
        const [{ copyStore }, { openStore }] = await Promise.all([import('../../store/copy.js'), import('../../store/store.js')]);
        // Stop the servers on the source first: the copy is of the store as it is when it starts.
        const source = await openStore(opts.from, process.cwd());
        try {
          const target = await openStore(to, process.cwd());
          try {
            const counts = await copyStore(source, target, opts.json ? undefined : (line) => console.log(line));
            if (opts.json) return printJson({ from: source.location, to: target.location, counts });
            printTable(['table', 'rows'], Object.entries(counts).map(([t, n]) => [t, String(n)]), 'nothing to copy');
            console.log(`copied ${source.location} → ${target.location}; point the config's store (or store_env) at the target and start the servers`);
          } finally {
            await target.close();
          }
        } finally {
          await source.close();
        }
      }),
    );
}
