import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { authenticateToken, directoryUsers, issueToken } from '../core/tokens.js';
import { startAirlock } from '../server/airlock.js';
import { demoConfig } from './demo-config.js';
import { servePglite } from './pglite-server.js';
import { startPgliteThread } from './pglite-thread.js';
import { SAMPLE_SCHEMA, sampleRows } from './sample-data.js';

/** The preferred port if it is free, else one the OS picks: a busy 8700 must not stop the demo. */
async function freePort(host: string, preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((done) => {
      const probe = createServer();
      probe.once('error', () => done(null));
      probe.listen(port, host, () => {
        const address = probe.address();
        probe.close(() => done(typeof address === 'object' && address ? address.port : null));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0))!;
}

export interface DemoOptions {
  readonly dir?: string;
  readonly apiPort?: number;
  readonly gatewayPort?: number;
  readonly log?: (line: string) => void;
  /** Start over: wipe the folder's store, tokens and database (the default keeps them across restarts). */
  readonly fresh?: boolean;
}

/** The variable the demo's roles read the embedded database's password from; set only inside the demo process. */
const DB_PASSWORD_ENV = 'AIRLOCK_DEMO_DB_PASSWORD';

/**
 * How to call the CLI in the printed steps: \`airlock\` when that name on the
 * PATH is this very package (after \`npm link\`), else an alias line first, so
 * every step works as written.
 */
function cliName(): { name: string; setup: string } {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/airlock.js');
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    try {
      if (folder && realpathSync(join(folder, 'airlock')) === realpathSync(bin)) return { name: 'airlock', setup: '' };
    } catch {
      // not in this folder
    }
  }
  return { name: 'airlock', setup: `alias airlock='node ${bin}'   # or run \`npm link\` once to put airlock on your PATH\n  ` };
}

/** The demo users' tokens from the last start, if the store still takes them. */
async function keptTokens(file: string, check: (token: string) => Promise<boolean>): Promise<Record<string, string>> {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    const kept: Record<string, string> = {};
    for (const [user, token] of Object.entries(saved)) if (await check(token)) kept[user] = token;
    return kept;
  } catch {
    return {};
  }
}

/**
 * `airlock demo`: the whole product on one machine with nothing installed —
 * an embedded PostgreSQL (PGlite) with sample data, the control plane on
 * SQLite, the Postgres gateway, demo users with tokens, and the next steps
 * to paste.
 */
export async function runDemo(opts: DemoOptions = {}) {
  const log = opts.log ?? ((line: string) => console.log(line));
  const dir = resolve(opts.dir ?? '.airlock/demo');
  if (opts.fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // The database, the store and the tokens live in the folder: a restart carries on where the last run stopped.
  const dataDir = join(dir, 'pgdata');
  const seeded = existsSync(dataDir);
  log(`airlock demo: ${seeded ? 'reopening' : 'creating'} the embedded sample database (PGlite) in ${dataDir}…`);
  const db = await startPgliteThread({ dataDir, seed: seeded ? [] : [SAMPLE_SCHEMA, sampleRows()] });
  const dbPassword = randomBytes(18).toString('base64url');
  const pg = await servePglite(db, '127.0.0.1', 0, dbPassword);

  const host = '127.0.0.1';
  const apiPort = await freePort(host, opts.apiPort ?? 8700);
  const gatewayPort = await freePort(host, opts.gatewayPort ?? 15432);
  const yaml = demoConfig({ dbPort: pg.port, passwordEnv: DB_PASSWORD_ENV, apiListen: `${host}:${apiPort}`, gatewayListen: `${host}:${gatewayPort}` });
  const configPath = join(dir, 'airlock.yaml');
  writeFileSync(configPath, yaml);
  const config = parseConfig(yaml, 'airlock.yaml', dir, configPath);
  const airlock = await startAirlock(config, { env: { ...process.env, [DB_PASSWORD_ENV]: dbPassword } });

  const tokensFile = join(dir, 'tokens.json');
  const users = directoryUsers(config.directory);
  const tokens = await keptTokens(tokensFile, (t) => authenticateToken(airlock.store, systemClock, users, t).then(() => true, () => false));
  for (const user of config.directory.users.keys()) {
    tokens[user] ??= (await issueToken(airlock.store, systemClock, config.directory, user, 'demo')).token;
  }
  writeFileSync(tokensFile, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tokensFile, 0o600);
  const gw = airlock.gateways.postgres!;
  const { name: cli, setup } = cliName();
  log(`
Airlock demo is running.
  control plane + dashboard  ${airlock.url}/
  postgres gateway           ${gw.host}:${gw.port}   (the database behind it is embedded PGlite)
  config and store           ${dir}

Demo users (their tokens are kept in ${tokensFile}; \`npm start -- --fresh\` starts over):
${Object.entries(tokens).map(([u, t]) => `  ${u.padEnd(6)} ${t}`).join('\n')}

Try it in another terminal, from this folder:

  # 1. Be alice (on call) and ask for read access — policy grants it at once
  ${setup}export AIRLOCK_SERVER=${airlock.url} AIRLOCK_TOKEN=${tokens.alice}
  ${cli} request orders-db --role read --for 30m --reason "INC-4411 slow checkout"

  # 2. Connect with psql through the gateway (or --print for a DSN for any client)
  ${cli} connect orders-db
      select status, count(*) from orders group by status;    -- allowed
      delete from orders where id = 1;                         -- refused: read role
      select * from payment_tokens;                            -- refused: denied table

  # 3. See who holds access, and the audit trail of every statement
  ${cli} who
  ${cli} sessions
  ${cli} audit list
  ${cli} audit verify        # from this folder it finds the demo's config by itself

  # 4. Ask for write (needs a lead), approve as bob, revoke as root — live sessions are cut
  ${cli} request orders-db --role write --for 15m --reason "fix order 7" --ticket INC-4411
  AIRLOCK_TOKEN=${tokens.bob} ${cli} requests --pending
  AIRLOCK_TOKEN=${tokens.bob} ${cli} approve <request-id>
  AIRLOCK_TOKEN=${tokens.root} ${cli} revoke <grant-id> --reason "done"

Press Ctrl-C to stop.`);

  return {
    airlock,
    tokens,
    configPath,
    async close() {
      await airlock.close();
      await pg.close();
      await db.close();
    },
  };
}
