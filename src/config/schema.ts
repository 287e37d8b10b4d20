import { z } from 'zod';

/**
 * The shape of airlock.yaml. This schema both validates the file and is
 * published as JSON Schema (`airlock config schema`), so editors can check it.
 */
const duration = z
  .string()
  .regex(/^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/, 'must be a duration like 90s, 15m, 1h30m, 4h or 2d')
  .refine((s) => s.length > 0, 'must be a duration like 90s, 15m, 1h30m, 4h or 2d');

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'must be letters, digits, "-", "_" or "." and start with a letter or digit');

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i, 'expected "HOST:PORT" like "127.0.0.1:15432"');

const selector = z
  .object({ users: z.array(name).optional(), groups: z.array(name).optional() })
  .strict();

const statementClass = z.enum(['read', 'write', 'ddl', 'admin']);

const credential = z
  .object({
    user: z.string().min(1),
    password_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/i, 'must be an environment variable name').optional(),
  })
  .strict();

const envVar = z.string().regex(/^[A-Z_][A-Z0-9_]*$/i, 'must be an environment variable name');

// HTTP roles: Basic is the SQL shape ({ user, password_env }); a bearer token or a named header are the other two.
const httpBearer = z.object({ bearer_env: envVar }).strict();
const httpHeader = z
  .object({ header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name like X-Api-Key'), value_env: envVar })
  .strict();

const httpRule = z
  .string()
  .regex(
    /^(?:\*|[A-Z]+(?:,[A-Z]+)*) \/\S*$/,
    'must be "METHODS /path", e.g. "GET /api/**" or "GET,HEAD /api/queues/*" ("*" for any method)',
  )
  .refine(
    (rule) => rule.split(' ')[1]!.split('/').every((seg) => !/[*?#%;\\]/.test(seg) || seg === '*' || seg === '**'),
    'a path pattern has literal segments, "*" (one segment) or "**" (any number); no ?, #, %, ; or \\ in it',
  );

const size = z
  .union([z.number().int().min(0), z.string()])
  .refine((v) => typeof v === 'number' || /^\d+(?:b|kb|mb|kib|mib)$/i.test(v), 'must be a size like 4096, 64kb or 1mb');

const httpScope = z
  .object({
    allow: z.array(httpRule).min(1),
    deny: z.array(httpRule).optional(),
    max_body: size.optional(),
    content_types: z.array(z.string().regex(/^[a-z0-9.+-]+\/[a-z0-9.+*-]+$/i, 'must be a media type like application/json')).min(1).optional(),
    audit_query_values: z.array(z.string().min(1)).optional(),
    record_body: size.optional(),
  })
  .strict();

const role = z
  .object({
    credential: z
      .union([credential, httpBearer, httpHeader], { error: 'must be { user, password_env }, or for http { bearer_env } or { header, value_env }' })
      .optional(),
    allow: z.array(statementClass).min(1).optional(),
    tables: z.array(z.string().min(1)).optional(),
    deny_tables: z.array(z.string().min(1)).optional(),
    http: httpScope.optional(),
    max_duration: duration.optional(),
    /** What protects the upstream from a session of this role (SQL roles). */
    limits: z
      .object({
        max_statement: size.optional(),
        statement_timeout: duration.optional(),
        idle_in_transaction_timeout: duration.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const resource = z
  .object({
    name,
    kind: z.enum(['postgres', 'mysql', 'http']),
    upstream: z
      .object({
        // SQL upstreams name host and port; an HTTP upstream names its base URL instead.
        host: z.string().min(1).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        url: z.string().regex(/^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/i, 'must be an http:// or https:// base URL without query or fragment').optional(),
        encoded_slash: z.enum(['segment', 'refuse']).optional(),
        // `airlock resources check` GETs this path with each role's credential: one the upstream answers only with it.
        check_path: z.string().regex(/^\/[^\s#]*$/, 'must be a path like /api/whoami').optional(),
        database: z.string().optional(),
        tls: z.boolean().optional(),
        tls_ca: z.string().min(1).optional(),
        tls_verify: z.boolean().optional(),
      })
      .strict(),
    labels: z.record(z.string(), z.string()).optional(),
    max_duration: duration.optional(),
    roles: z.record(name, role).refine((r) => Object.keys(r).length > 0, 'a resource needs at least one role'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const at = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (r.kind !== 'http') {
      if (r.upstream.host === undefined) at(['upstream', 'host'], `a ${r.kind} upstream needs host`);
      if (r.upstream.port === undefined) at(['upstream', 'port'], `a ${r.kind} upstream needs port`);
      if (r.upstream.url !== undefined) at(['upstream', 'url'], `url is for http upstreams; a ${r.kind} upstream names host and port`);
      if (r.upstream.encoded_slash !== undefined) at(['upstream', 'encoded_slash'], 'encoded_slash is for http upstreams');
      if (r.upstream.check_path !== undefined) at(['upstream', 'check_path'], 'check_path is for http upstreams');
      for (const [roleName, role] of Object.entries(r.roles)) {
        if (role.http) at(['roles', roleName, 'http'], `http rules are for http resources, not ${r.kind}`);
        if (role.credential && !('user' in role.credential)) at(['roles', roleName, 'credential'], `a ${r.kind} credential is { user, password_env }`);
      }
      return;
    }
    if (r.upstream.url === undefined) at(['upstream', 'url'], 'an http upstream needs url, e.g. http://127.0.0.1:15672');
    for (const key of ['host', 'port', 'database', 'tls'] as const) {
      if (r.upstream[key] !== undefined) at(['upstream', key], `an http upstream takes url instead of ${key}`);
    }
    for (const [roleName, role] of Object.entries(r.roles)) {
      if (!role.http) at(['roles', roleName, 'http'], 'an http role needs http: { allow: ["GET /path/**", ...] }');
      if (role.credential && 'user' in role.credential && !role.credential.password_env) {
        at(['roles', roleName, 'credential', 'password_env'], 'Basic auth to an http upstream needs password_env');
      }
      if (role.allow || role.tables || role.deny_tables) at(['roles', roleName], 'allow, tables and deny_tables are for SQL roles; an http role lists http.allow');
    }
  });

const policy = z
  .object({
    name,
    who: selector,
    resources: z
      .object({ names: z.array(name).optional(), labels: z.record(z.string(), z.string()).optional() })
      .strict(),
    roles: z.array(name).min(1),
    max_duration: duration.optional(),
    approval: z.union([
      z.literal('none'),
      z.object({ count: z.number().int().min(1), from: selector }).strict(),
    ]),
    require: z.object({ reason: z.boolean().optional(), ticket: z.string().optional() }).strict().optional(),
  })
  .strict();

const notifyEvent = z.enum([
  'request.created', 'request.approved', 'request.denied', 'request.cancelled', 'request.expired',
  'grant.activated', 'grant.extended', 'grant.ended',
]);

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/i, 'must be an environment variable name');

const notifySink = z
  .object({
    kind: z.enum(['slack', 'webhook']),
    url: z.string().url().optional(),
    // A Slack webhook URL is a credential: keep it in the environment, not in this file.
    url_env: envName.optional(),
    secret_env: envName.optional(),
    events: z.array(notifyEvent).min(1).optional(),
  })
  .strict()
  .refine((s) => (s.url === undefined) !== (s.url_env === undefined), 'needs exactly one of url or url_env')
  .refine((s) => s.kind === 'webhook' || s.secret_env === undefined, 'secret_env signs generic webhooks; Slack does not read a signature');

// Identity (issue 13): API token lifetimes, sign-in through an OpenID Connect provider, who may read what.
const oidc = z
  .object({
    issuer: z.string().url(),
    client_id: z.string().min(1),
    // The client secret is a credential: only the name of the environment variable that holds it.
    client_secret_env: envName.optional(),
    username_claim: z.string().min(1).default('email'),
    groups_claim: z.string().min(1).default('groups'),
    // IdP group → Airlock group(s); IdP groups not listed are dropped, so policies only ever see Airlock's own names.
    groups_map: z.record(z.string(), z.union([name, z.array(name)])).default({}),
    scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
    // How long a dashboard or CLI sign-in lasts before it must be refreshed with the provider's refresh token.
    session_ttl: duration.default('1h'),
    // The longest a sign-in is refreshed for before the user signs in again.
    session_max: duration.default('12h'),
    display_name: z.string().min(1).max(60).default('your identity provider'),
  })
  .strict();

const identity = z
  .object({
    token_expiry: duration.default('90d'),
    token_max_expiry: duration.optional(),
    oidc: oidc.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    server: z.object({ listen: hostPort.default('127.0.0.1:8700'), public_url: z.string().url().optional() }).strict().default({ listen: '127.0.0.1:8700' }),
    store: z.string().default('sqlite:.airlock/airlock.db'),
    // An environment variable holding the store URL (a postgres:// URL carries a password); wins over `store`.
    store_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    // This process's name among the nodes sharing a store (default: the host name).
    node: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63').optional() }).strict().default({}),
    // With a PostgreSQL store, the local folder of this node's write-ahead intents (default .airlock/intents/<node name>).
    intents_dir: z.string().optional(),
    review_timeout: duration.default('30m'),
    ticket_url: z.string().regex(/^https?:\/\/[^\s]*\{ticket\}/, 'expected an http(s) URL with {ticket} in it, like "https://tracker.example.com/browse/{ticket}"').optional(),
    // May be empty when identity.oidc signs users in from a provider.
    users: z.array(z.object({ name, groups: z.array(name).default([]) }).strict()).default([]),
    admins: selector.default({}),
    // See everything (every session's statements, the whole audit trail), change nothing.
    auditors: selector.default({}),
    // On a PostgreSQL store: how long a node may go without reaching it before it cuts every session (fail closed).
    store_loss_grace: duration.default('30s'),
    identity: identity.default({ token_expiry: '90d' }),
    // Who reads statement texts: `own` (the session's user, its policy's reviewers, admins, auditors) or `all` signed-in users.
    visibility: z.object({ statements: z.enum(['own', 'all']).default('own') }).strict().default({ statements: 'own' }),
    resources: z.array(resource).default([]),
    policies: z.array(policy).default([]),
    gateway: z
      .object({
        postgres: z
          .object({
            listen: hostPort.default('127.0.0.1:15432'),
            public_host: z.string().optional(),
            tls: z.union([z.literal('self-signed'), z.object({ cert: z.string(), key: z.string() }).strict()]).optional(),
          })
          .strict()
          .optional(),
        mysql: z
          .object({
            listen: hostPort.default('127.0.0.1:13306'),
            public_host: z.string().optional(),
            tls: z.union([z.literal('self-signed'), z.object({ cert: z.string(), key: z.string() }).strict()]).optional(),
            // Refuse clients that do not start TLS (only with tls set).
            require_tls: z.boolean().default(false),
            // caching_sha2_password full authentication on plain TCP with the gateway's RSA key; false tells the client to use TLS.
            rsa_key_exchange: z.boolean().default(true),
          })
          .strict()
          .optional(),
        http: z
          .object({
            listen: hostPort.default('127.0.0.1:15480'),
            // Each http resource is served at <resource>.<public_host>: an origin of its own, so the upstream's
            // absolute links and cookies stay its own (browsers resolve *.localhost to this machine).
            public_host: z
              .string()
              .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'must be a DNS name, e.g. gw.example.com')
              .default('localhost'),
            // HTTPS to clients: certificate and key files, or one generated at start for <public_host> and *.<public_host>.
            tls: z.union([z.literal('self-signed'), z.object({ cert: z.string(), key: z.string() }).strict()]).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    notify: z.array(notifySink).default([]),
    audit: z.object({ statements: z.enum(['text', 'redacted', 'off']).default('text') }).strict().default({ statements: 'text' }),
  })
  .strict()
  .refine((f) => f.users.length > 0 || f.identity.oidc !== undefined, {
    path: ['users'],
    message: 'needs at least one user, or identity.oidc to sign users in from an identity provider',
  });

export type ConfigFile = z.infer<typeof configSchema>;
