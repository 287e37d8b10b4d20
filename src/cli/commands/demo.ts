import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.js';
import { action } from '../run.js';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('run everything with nothing installed: an embedded sample Postgres, the control plane, the gateway and demo users')
    .option('--dir <dir>', 'where the demo keeps its config, store, tokens and database (kept across restarts)', '.airlock/demo')
    .option('--fresh', 'start over: wipe what the last run left in --dir')
    .action(
      action(async (opts: { dir: string; fresh?: boolean }) => {
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
