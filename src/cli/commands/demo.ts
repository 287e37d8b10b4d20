import type { Command } from 'commander';
import { action } from '../run.js';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('run everything with nothing installed: an embedded sample Postgres, the control plane, the gateway and demo users')
    .option('--dir <dir>', 'where the demo keeps its config, store, tokens and database (kept across restarts)', '.airlock/demo')
    .option('--fresh', 'start over: wipe what the last run left in --dir')
    .action(
      action(async (opts: { dir: string; fresh?: boolean }) => {
        // Loaded here, not at the top: the demo (an embedded PostgreSQL, the server) would otherwise load for every CLI command.
        const { runDemo } = await import('../../demo/demo.js');
        const demo = await runDemo({ dir: opts.dir, fresh: opts.fresh });
        const stop = async () => {
          console.log('\nairlock demo: stopping');
          await demo.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      }),
    );
}
