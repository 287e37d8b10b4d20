import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';

/** Where `airlock demo` keeps its config by default, relative to the folder it was started from. */
export const DEMO_CONFIG = join('.airlock', 'demo', 'airlock.yaml');

/**
 * Which config file a command reads: `--config`, else `AIRLOCK_CONFIG`, else
 * `./airlock.yaml`, else (for commands that only read the store, such as
 * `audit verify`) the demo's, so they work after `npm start` with no flag.
 */
export function locateConfig(flag: string | undefined, opts: { demo?: boolean; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (flag) return flag;
  if (env.AIRLOCK_CONFIG) return env.AIRLOCK_CONFIG;
  const tried = ['airlock.yaml', ...(opts.demo ? [DEMO_CONFIG] : [])];
  const found = tried.find((p) => existsSync(join(cwd, p)));
  if (found) return found;
  throw new ConfigError(
    `no config file: looked for ${tried.map((p) => `./${p}`).join(' and ')} in ${cwd}; pass --config FILE or set AIRLOCK_CONFIG (see airlock.example.yaml)`,
  );
}
