import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { missingCredentialWarnings } from '../../config/credential-warnings.js';
import type { LoadedConfig } from '../../config/load.js';
import { locateConfig } from '../../config/locate.js';
import { listenError, type ListenKey } from '../listen-hint.js';
import { EXIT, printJson } from '../output.js';
import { action } from '../run.js';

/** A role whose password variable is missing fails only when someone connects: say so at once, on stderr. */
function warnMissingCredentials(config: LoadedConfig): void {
  for (const line of missingCredentialWarnings(config.directory, process.env)) console.error(`airlock: ${line}`);
}

/** Each address the server listens on, with the key in the config file (or the flag) that set it. */
function listenKeys(config: LoadedConfig, opts: { config: string; listen?: string }): ListenKey[] {
  const keys: ListenKey[] = [{ listen: opts.listen ?? config.file.server.listen, key: opts.listen ? '--listen' : `server.listen in ${opts.config}` }];
  for (const [kind, section] of Object.entries(config.file.gateway)) {
    if (section && typeof section === 'object' && 'listen' in section) keys.push({ listen: String(section.listen), key: `gateway.${kind}.listen in ${opts.config}` });
  }
  return keys;
}

export function serverCommands(program: Command): void {
  program
    .command('server')
    .description('run the control plane (HTTP API) and the gateways named in the config')
    .option('--config <file>', 'config file (default: $AIRLOCK_CONFIG or ./airlock.yaml)')
    .option('--listen <host:port>', 'override server.listen (port 0 picks a free port)')
    .action(
      action(async (flags: { config?: string; listen?: string }) => {
        const opts = { ...flags, config: locateConfig(flags.config) };
        // Loaded here, not at the top: the config schema, the whole server and its gateways would otherwise load for every CLI command.
        const [{ loadConfig }, { startAirlock }] = await Promise.all([import('../../config/load.js'), import('../../server/airlock.js')]);
        const config = loadConfig(opts.config);
        warnMissingCredentials(config);
        const running = await startAirlock(config, { listen: opts.listen }).catch((err: unknown) => {
          const e = listenError(err, listenKeys(config, opts)) ?? err;
          console.error(`airlock: ${e instanceof Error ? e.message : String(e)}`);
          // A gateway that failed to bind can leave timers of its half-built kernel behind: nothing runs, so leave now.
          process.exit(EXIT.failed);
        });
        console.log(`airlock: control plane listening on ${running.url} (store ${running.store.location})`);
        for (const line of running.gatewayLines) console.log(`airlock: ${line}`);
        const stop = async (signal: string) => {
          console.log(`airlock: ${signal}: stopping`);
          await running.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop('SIGINT'));
        process.once('SIGTERM', () => void stop('SIGTERM'));
      }),
    );

  const config = program.command('config').description('check and describe airlock.yaml');
  config
    .command('check')
    .description('validate a config file and exit 0 when it is good')
    .option('--config <file>', 'config file (default: $AIRLOCK_CONFIG or ./airlock.yaml)')
    .action(
      action(async (flags: { config?: string }) => {
        const opts = { config: locateConfig(flags.config, { demo: true }) };
        const { loadConfig } = await import('../../config/load.js');
        const loaded = loadConfig(opts.config);
        warnMissingCredentials(loaded);
        console.log(`${opts.config}: ok (${loaded.directory.users.size} users, ${loaded.directory.resources.size} resources, ${loaded.directory.policies.length} policies)`);
      }),
    );
  config
    .command('schema')
    .description('print the JSON Schema of airlock.yaml')
    .option('--out <file>', 'write it to a file instead')
    .action(
      action(async (opts: { out?: string }) => {
        const [{ z }, { configSchema }] = await Promise.all([import('zod'), import('../../config/schema.js')]);
        const schema = z.toJSONSchema(configSchema, { io: 'input' });
        if (opts.out) writeFileSync(opts.out, JSON.stringify(schema, null, 2) + '\n');
        else printJson(schema);
      }),
    );
}
