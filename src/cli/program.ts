import { Command, CommanderError } from 'commander';
import { accessCommands } from './commands/access.js';
import { accountCommands } from './commands/account.js';
import { auditCommands } from './commands/audit.js';
import { completionCommand } from './commands/completion.js';
import { connectCommand } from './commands/connect.js';
import { demoCommand } from './commands/demo.js';
import { grantCommands } from './commands/grants.js';
import { resourceCommands } from './commands/resources.js';
import { serverCommands } from './commands/server.js';
import { sessionCommands } from './commands/sessions.js';
import { nodeCommands } from './commands/nodes.js';
import { storeCommands } from './commands/store.js';
import { tokenCommands } from './commands/tokens.js';
import { EXIT } from './output.js';

/** The whole command tree; completion scripts are generated from it, so they stay in step. */
export function airlockProgram(): Command {
  const program = new Command()
    .name('airlock')
    .description('Temporary, scoped, audited and discoverable access to production.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride((err: CommanderError) => {
      const done = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      process.exit(done ? EXIT.ok : EXIT.usage);
    });

  serverCommands(program);
  tokenCommands(program);
  demoCommand(program);
  accountCommands(program);
  resourceCommands(program);
  accessCommands(program);
  grantCommands(program);
  connectCommand(program);
  sessionCommands(program);
  nodeCommands(program);
  auditCommands(program);
  storeCommands(program);
  completionCommand(program);
  return program;
}
