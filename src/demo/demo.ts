import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parseConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { issueToken } from '../core/tokens.js';
import { startAirlock } from '../server/airlock.js';
import { demoConfig } from './demo-config.js';
import { servePglite } from './pglite-server.js';
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
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  log('airlock demo: starting the embedded sample database (PGlite)…');
  const db = await PGlite.create();
  await db.exec(SAMPLE_SCHEMA);
  await db.exec(sampleRows());
  const pg = await servePglite(db, '127.0.0.1', 0);

  const host = '127.0.0.1';
  const apiPort = await freePort(host, opts.apiPort ?? 8700);
  const gatewayPort = await freePort(host, opts.gatewayPort ?? 15432);
  const yaml = demoConfig({ dbPort: pg.port, apiListen: `${host}:${apiPort}`, gatewayListen: `${host}:${gatewayPort}` });
  const configPath = join(dir, 'airlock.yaml');
  writeFileSync(configPath, yaml);
  const config = parseConfig(yaml, 'airlock.yaml', dir, configPath);
  const airlock = await startAirlock(config);

  const tokens: Record<string, string> = {};
  for (const user of config.directory.users.keys()) {
    tokens[user] = (await issueToken(airlock.store, systemClock, config.directory, user, 'demo')).token;
  }
  const gw = airlock.gateways.postgres!;
  const cli = 'node bin/airlock.js';
  log(`
Airlock demo is running.
  control plane + dashboard  ${airlock.url}/
  postgres gateway           ${gw.host}:${gw.port}   (the database behind it is embedded PGlite)
  config and store           ${dir}

Demo users (tokens are shown only now):
${Object.entries(tokens).map(([u, t]) => `  ${u.padEnd(6)} ${t}`).join('\n')}

Try it in another terminal, from this folder:

  # 1. Be alice (on call) and ask for read access — policy grants it at once
  export AIRLOCK_SERVER=${airlock.url} AIRLOCK_TOKEN=${tokens.alice}
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
