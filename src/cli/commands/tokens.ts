import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { AirlockError } from '../../core/errors.js';
import { locateConfig } from '../../config/locate.js';
import { isoTime, printJson, printTable, relative, when } from '../output.js';
import { durationArgument } from '../duration-argument.js';
import { action, api } from '../run.js';

interface IssueOpts {
  name?: string;
  scope?: string;
  expires?: string;
  config?: string;
  for?: string;
  json?: boolean;
}

function printIssued(t: { id: string; token: string; scope: string; expires_at: string | null }, user: string, json: boolean | undefined): void {
  if (json) return printJson({ ...t, user });
  console.log(t.token);
  console.error(`issued token ${t.id} (scope ${t.scope}) for ${user}, valid until ${t.expires_at}; it is shown only now. Use it with: airlock login --server URL --token <token>`);
}

/** Issues on the server host, straight into the store named by the config (for the first admin, and for bots). */
async function issueOnServerHost(user: string, opts: IssueOpts): Promise<void> {
  // Loaded here, not at the top: the config schema and the store would otherwise load for every CLI command.
  const [{ loadConfig }, { openConfiguredStore }, { identityContext }, { issueToken, parseScope }] = await Promise.all([
    import('../../config/load.js'),
    import('../../store/configured.js'),
    import('../../server/identity-config.js'),
    import('../../core/tokens.js'),
  ]);
  const config = loadConfig(locateConfig(opts.config, { demo: true }));
  const store = await openConfiguredStore(config);
  try {
    const identity = identityContext(config.file, config.directory, store);
    const known = (await identity.users(user)) !== undefined;
    const t = await issueToken(store, systemClock, config.directory, user, process.env.USER ? `cli:${process.env.USER}` : 'cli', {
      name: opts.name,
      scope: opts.scope ? parseScope(opts.scope) : undefined,
      ttlSeconds: opts.expires ? parseDuration(opts.expires) : identity.tokenTtlSeconds,
      maxTtlSeconds: identity.tokenMaxTtlSeconds,
      knownUser: known,
    });
    printIssued({ id: t.id, token: t.token, scope: t.scope, expires_at: t.expiresAt.toISOString() }, user, opts.json);
  } finally {
    await store.close();
  }
}

export function tokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('API tokens: issue, list, revoke (each has a name, a scope and an expiry)');

  tokens
    .command('issue')
    .description('issue an API token, printed once and stored only as a hash. With USER: on the server host, into its store; without: through the API, for you')
    .argument('[user]', 'on the server host: the user the token is for')
    .option('--name <name>', 'what the token is for, e.g. "grafana" or "deploy-bot"')
    .option('--scope <scope>', 'read (dashboards, Prometheus), request (bots that ask for access) or admin (everything the user may do)')
    .option('--expires <duration>', 'lifetime, e.g. 30d (default identity.token_expiry, 90d)', durationArgument)
    .option('--for <user>', 'through the API, as an admin: issue for another user')
    .option('--config <file>', 'with USER: the server\'s config file (default: $AIRLOCK_CONFIG, ./airlock.yaml, or the demo\'s)')
    .option('--json', 'print JSON')
    .action(
      action(async (user: string | undefined, opts: IssueOpts) => {
        if (user) return issueOnServerHost(user, opts);
        if (!opts.name) throw new AirlockError('usage', 'invalid', '--name is required: say what the token is for (e.g. --name grafana)');
        const t = await api().issueToken({ name: opts.name, scope: opts.scope, expires: opts.expires, user: opts.for });
        printIssued(t, t.user, opts.json);
      }),
    );

  tokens
    .command('list')
    .description('your API tokens (admins and auditors: --all for everyone\'s); never the secrets')
    .option('--all', 'everyone\'s tokens')
    .option('--user <user>', 'with --all: only this user\'s')
    .option('--ended', 'include revoked and expired tokens')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { all?: boolean; user?: string; ended?: boolean; json?: boolean }) => {
        const rows = await api().tokens({ all: opts.all, user: opts.user, ended: opts.ended });
        if (opts.json) return printJson(rows);
        printTable(
          ['id', 'user', 'name', 'scope', 'state', 'expires', 'last used', 'created'],
          rows.map((t) => [t.id, t.user, t.name, t.scope, { text: t.state, tone: t.state === 'active' ? 'green' : 'dim' }, when(t.expires_at), t.last_used_at ? relative(t.last_used_at) : 'never', isoTime(t.created_at)]),
          'no tokens',
        );
      }),
    );

  tokens
    .command('revoke')
    .description('revoke an API token; it stops working on its next call, on every node')
    .argument('<id>', 'the token id, e.g. tok_3fa9c2d81b7e (from `airlock tokens list`)')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }) => {
        const t = await api().revokeToken(id);
        if (opts.json) return printJson(t);
        console.log(`revoked token ${t.id} (${t.name}, ${t.user})`);
      }),
    );
}
