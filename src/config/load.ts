import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import type { Directory, HttpCredential, HttpRule, HttpScope, Policy, Resource, Role, User } from '../core/model.js';
import { selectsResource } from '../core/policy.js';
import { ConfigError } from './config-error.js';
import { closestKey, knownKeys } from './key-suggestions.js';
import { configSchema, type ConfigFile } from './schema.js';

export interface LoadedConfig {
  /** The file as read, after defaults. */
  readonly file: ConfigFile;
  readonly path: string;
  /** Folder relative paths in the file (the SQLite store, TLS files) are taken from. */
  readonly baseDir: string;
  readonly directory: Directory;
}

export { ConfigError };

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Reads, validates and cross-checks a config file; the first problem stops start-up, named by key path. */
export function loadConfig(path: string): LoadedConfig {
  const absolute = resolve(path);
  const label = basename(absolute);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch {
    throw new ConfigError(`${path}: cannot read the config file; pass --config FILE or create ./airlock.yaml (see airlock.example.yaml)`);
  }
  return parseConfig(text, label, dirname(absolute), absolute);
}

export function parseConfig(text: string, label: string, baseDir: string, path = label): LoadedConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'syntax';
    // The yaml library ends its message with the position too: say it once.
    throw new ConfigError(`${label}: ${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) {
    // A typo in a key shows as an unknown key and a missing one: the unknown key, with its suggestion, says more.
    const issues = parsed.error.issues;
    throw new ConfigError(`${label}: ${describeIssue(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!)}`);
  }
  const file = parsed.data;
  const fail = (where: string, what: string): never => {
    throw new ConfigError(`${label}: ${where}: ${what}`);
  };
  return { file, path, baseDir, directory: buildDirectory(file, fail, baseDir) };
}

const DURATION_FORM = 'a duration like "15m" (90s, 15m, 1h30m, 4h, 2d)';

/** What a key's value looks like, by the key's name: a wrong type is told the form, not only the type. */
const FORMS: Record<string, string> = {
  listen: '"HOST:PORT" like "127.0.0.1:15432"',
  port: 'a port number like 5432',
  store: '"sqlite:PATH" like "sqlite:.airlock/airlock.db"',
  review_timeout: DURATION_FORM,
  max_duration: DURATION_FORM,
  token_expiry: DURATION_FORM,
  token_max_expiry: DURATION_FORM,
  session_ttl: DURATION_FORM,
  session_max: DURATION_FORM,
  statement_timeout: DURATION_FORM,
  idle_in_transaction_timeout: DURATION_FORM,
  users: 'a list of users like [{ name: alice, groups: [oncall] }]',
  groups: 'a list of group names like [oncall, sre]',
  roles: 'role names like [read] (under a resource: a mapping like { read: { credential: …, allow: [read] } })',
  allow: 'a list like [read, write]',
  tables: 'a list of patterns like ["public.*"]',
  deny_tables: 'a list of patterns like ["public.payment_tokens"]',
};

const TYPE_WORDS: Record<string, string> = { string: 'text', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping (key: value)' };

function what(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return String(value);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? pathText(issue.path) : 'top level';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(configSchema, issue.path);
    return `${where}: ${issue.keys
      .map((k) => {
        const near = closestKey(k, known);
        return `unknown key "${k}"${near ? `; did you mean "${near}"?` : known.length ? ` (known here: ${known.join(', ')})` : ''}`;
      })
      .join('; ')}`;
  }
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined) return `${where}: missing`;
  if (issue.code === 'invalid_type') {
    const key = [...issue.path].reverse().find((p) => typeof p === 'string');
    const form = (key && FORMS[key]) ?? TYPE_WORDS[issue.expected] ?? issue.expected;
    return `${where}: expected ${form}, got ${what(issue.input)}`;
  }
  return `${where}: ${issue.message}`;
}

const DEFAULT_RESOURCE_MAX = '8h';

type Fail = (where: string, what: string) => never;

function buildDirectory(file: ConfigFile, fail: Fail, baseDir: string): Directory {
  const readCa = (path: string, where: string): string => {
    try {
      return readFileSync(resolve(baseDir, path), 'utf8');
    } catch {
      return fail(where, `cannot read the CA certificate file "${path}"`);
    }
  };
  const users = new Map<string, User>();
  file.users.forEach((u, i) => {
    if (users.has(u.name)) fail(`users[${i}].name`, `user "${u.name}" is defined twice`);
    users.set(u.name, { name: u.name, groups: u.groups });
  });
  const knownUsers = (sel: { users?: readonly string[] }, where: string) =>
    sel.users?.forEach((n, j) => users.has(n) || fail(`${where}.users[${j}]`, `user "${n}" is not defined under users`));
  knownUsers(file.admins, 'admins');

  const resources = new Map<string, Resource>();
  file.resources.forEach((r, i) => {
    if (resources.has(r.name)) fail(`resources[${i}].name`, `resource "${r.name}" is defined twice`);
    const roles = new Map<string, Role>();
    for (const [roleName, role] of Object.entries(r.roles)) {
      const where = `resources[${i}].roles.${roleName}`;
      if (r.kind !== 'http') {
        if (!role.credential) fail(where, `a ${r.kind} role needs a credential: { user, password_env }`);
        if (!role.allow) fail(where, 'a SQL role needs allow: [read | write | ddl | admin]');
      }
      roles.set(roleName, {
        name: roleName,
        // For http roles too: the control plane reads the variable's value and hands it to the gateway, which formats it.
        credential: role.credential && credentialOf(role.credential),
        allow: role.allow ?? [],
        tables: role.tables,
        denyTables: role.deny_tables,
        http: role.http && httpScope(role.http, role.credential),
        maxDurationSeconds: role.max_duration ? parseDuration(role.max_duration) : undefined,
        limits: role.limits && {
          maxStatementBytes: role.limits.max_statement === undefined ? undefined : sizeBytes(role.limits.max_statement),
          statementTimeoutSeconds: role.limits.statement_timeout ? parseDuration(role.limits.statement_timeout) : undefined,
          idleInTransactionTimeoutSeconds: role.limits.idle_in_transaction_timeout ? parseDuration(role.limits.idle_in_transaction_timeout) : undefined,
        },
      });
    }
    resources.set(r.name, {
      name: r.name,
      kind: r.kind,
      upstream: {
        ...upstreamAddress(r.upstream),
        database: r.upstream.database,
        tlsVerify: r.upstream.tls_verify ?? true,
        tlsCa: r.upstream.tls_ca ? readCa(r.upstream.tls_ca, `resources[${i}].upstream.tls_ca`) : undefined,
        ...(r.kind === 'http' ? { url: r.upstream.url, encodedSlash: r.upstream.encoded_slash ?? 'segment', checkPath: r.upstream.check_path ?? '/' } : {}),
      },
      labels: r.labels ?? {},
      // Every grant has an end: a resource without its own cap gets 8h.
      maxDurationSeconds: parseDuration(r.max_duration ?? DEFAULT_RESOURCE_MAX),
      roles,
    });
  });

  const policies: Policy[] = [];
  file.policies.forEach((p, i) => {
    const where = `policies[${i}]`;
    if (policies.some((q) => q.name === p.name)) fail(`${where}.name`, `policy "${p.name}" is defined twice`);
    knownUsers(p.who, `${where}.who`);
    p.resources.names?.forEach((n, j) => resources.has(n) || fail(`${where}.resources.names[${j}]`, `resource "${n}" is not defined under resources`));
    let ticket: RegExp | undefined;
    if (p.require?.ticket) {
      try {
        ticket = new RegExp(p.require.ticket);
      } catch (err) {
        fail(`${where}.require.ticket`, `not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const policy: Policy = {
      name: p.name,
      who: p.who,
      resources: p.resources,
      roles: p.roles,
      maxDurationSeconds: p.max_duration ? parseDuration(p.max_duration) : undefined,
      approval: p.approval === 'none' ? null : p.approval,
      require: { reason: p.require?.reason ?? false, ticket },
    };
    const selected = [...resources.values()].filter((r) => selectsResource(policy, r));
    if (selected.length === 0) fail(`${where}.resources`, 'selects no resource');
    p.roles.forEach((role, j) => {
      if (!selected.some((r) => r.roles.has(role))) {
        fail(`${where}.roles[${j}]`, `role "${role}" is not defined on any resource the policy selects`);
      }
    });
    if (policy.approval) {
      knownUsers(policy.approval.from, `${where}.approval.from`);
      const reviewers = [...users.values()].filter(
        (u) => policy.approval!.from.users?.includes(u.name) || policy.approval!.from.groups?.some((g) => u.groups.includes(g)),
      );
      // With an identity provider, reviewers' groups come from its claims at sign-in; only YAML-only setups can be checked here.
      if (reviewers.length === 0 && !file.identity.oidc) fail(`${where}.approval.from`, 'selects no user, so no request could ever be approved');
    }
    policies.push(policy);
  });

  return {
    users,
    admins: file.admins,
    resources,
    policies,
    reviewTimeoutSeconds: parseDuration(file.review_timeout),
  };
}

type ResourceFile = ConfigFile['resources'][number];
type RoleFile = ResourceFile['roles'][string];

/** SQL upstreams name host and port; an HTTP upstream's come from its URL (the schema checked which is present). */
function upstreamAddress(u: ResourceFile['upstream']): { host: string; port: number; tls?: boolean } {
  if (u.url === undefined) return { host: u.host!, port: u.port!, tls: u.tls };
  const url = new URL(u.url);
  const tls = url.protocol === 'https:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : tls ? 443 : 80, tls };
}

function httpRule(text: string): HttpRule {
  const [methods, path] = text.split(' ') as [string, string];
  return { methods: methods.split(','), path };
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1000, mb: 1_000_000, kib: 1024, mib: 1024 * 1024 };

function sizeBytes(size: string | number): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+)([a-z]+)$/i.exec(size)!;
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
}

function credentialOf(c: NonNullable<RoleFile['credential']>): { user: string; passwordEnv?: string } {
  if ('user' in c) return { user: c.user, passwordEnv: c.password_env };
  if ('bearer_env' in c) return { user: 'bearer token', passwordEnv: c.bearer_env };
  return { user: `${c.header} header`, passwordEnv: c.value_env };
}

function httpCredential(c: RoleFile['credential']): HttpCredential | undefined {
  if (!c) return undefined;
  if ('user' in c) return { kind: 'basic', user: c.user, passwordEnv: c.password_env! };
  if ('bearer_env' in c) return { kind: 'bearer', tokenEnv: c.bearer_env };
  return { kind: 'header', header: c.header, valueEnv: c.value_env };
}

function httpScope(h: NonNullable<RoleFile['http']>, credential: RoleFile['credential']): HttpScope {
  return {
    allow: h.allow.map(httpRule),
    deny: (h.deny ?? []).map(httpRule),
    credential: httpCredential(credential),
    maxBodyBytes: h.max_body === undefined ? undefined : sizeBytes(h.max_body),
    contentTypes: h.content_types?.map((t) => t.toLowerCase()),
    auditQueryValues: h.audit_query_values ?? [],
    recordBodyBytes: h.record_body === undefined ? undefined : sizeBytes(h.record_body),
  };
}
