import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import type { ApiClient } from '../../server/api-client.js';
import type { GrantView } from '../../server/views.js';
import { pruneGrantSecrets, readGrantSecret, saveGrantSecret } from '../grant-secrets.js';
import { currentLogin } from '../login-store.js';
import { printJson, relative } from '../output.js';
import { action, api } from '../run.js';
import { connectHttp } from './connect-http.js';
import { connectMysql } from './connect-mysql.js';

interface ConnectOpts {
  role?: string;
  print?: boolean;
  json?: boolean;
  port?: string;
}

async function secretFor(client: ApiClient, server: string, grant: GrantView): Promise<string> {
  const kept = readGrantSecret(server, grant.id);
  if (kept) return kept;
  const { secret } = await client.credentials(grant.id);
  saveGrantSecret(server, grant.id, secret);
  return secret;
}

async function activeGrant(client: ApiClient, server: string, resource: string, role?: string): Promise<GrantView> {
  const me = await client.whoami();
  const active = await client.who();
  pruneGrantSecrets(server, active.map((g) => g.id));
  const mine = active.filter((g) => g.user === me.user && g.resource === resource && (!role || g.role === role));
  if (mine.length === 0) {
    throw new AirlockError(
      'no_active_grant',
      'forbidden',
      `you hold no active grant${role ? ` with role "${role}"` : ''} on ${resource}; run \`airlock request ${resource} --role ROLE --for 30m --reason "…"\` first`,
    );
  }
  if (mine.length > 1) {
    throw new AirlockError('ambiguous_grant', 'invalid', `you hold several grants on ${resource} (${mine.map((g) => g.role).join(', ')}); pick one with --role`);
  }
  return mine[0]!;
}

export function connectCommand(program: Command): void {
  program
    .command('connect')
    .description('connect to a resource through the gateway with your grant (runs psql; for http, a local listener that adds the grant), or --print the connection')
    .argument('<resource>')
    .option('--role <role>', 'which grant to use when you hold several on the resource')
    .option('--print', 'print a DSN and PG* variables instead of running psql')
    .option('--json', 'with --print: { host, port, user, database, password, dsn, expires_at } ({ url, user, password, … } for http)')
    .option('--port <port>', 'http resources: the local port to listen on (default: any free port)')
    .action(
      action(async (resource: string, opts: ConnectOpts) => {
        const client = api();
        const { server } = currentLogin();
        const info = await client.connectInfo(resource);
        const grant = await activeGrant(client, server, resource, opts.role);
        const password = await secretFor(client, server, grant);
        if (info.kind === 'http') return connectHttp(resource, info, grant, password, opts);
        if (info.kind === 'mysql') return connectMysql(resource, info, grant, password, opts);
        const dsn = `postgresql://${encodeURIComponent(info.user)}:${encodeURIComponent(password)}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
        const vars = { PGHOST: info.host, PGPORT: String(info.port), PGUSER: info.user, PGDATABASE: info.database, PGPASSWORD: password };
        if (opts.print || opts.json) {
          if (opts.json) return printJson({ host: info.host, port: info.port, user: info.user, database: info.database, password, dsn, expires_at: grant.expires_at, grant: grant.id, role: grant.role });
          console.log(dsn);
          for (const [k, v] of Object.entries(vars)) console.log(`export ${k}='${v}'`);
          console.error(`grant ${grant.id} (${grant.role}) ends ${relative(grant.expires_at)}`);
          return;
        }
        console.error(`airlock: connecting to ${resource} as ${info.user} (${grant.role}, ends ${relative(grant.expires_at)})`);
        const child = spawn('psql', [], { stdio: 'inherit', env: { ...process.env, ...vars, PGAPPNAME: 'psql via airlock' } });
        await new Promise<void>((resolve, reject) => {
          child.once('error', (err) => reject(new AirlockError('psql_missing', 'unavailable', `could not run psql (${err.message}); install it, or use --print to connect with another client`)));
          child.once('exit', (code) => {
            process.exitCode = code ?? 1;
            resolve();
          });
        });
      }),
    );
}
