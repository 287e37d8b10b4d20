import { Hono } from 'hono';
import { z } from 'zod';
import { appendAudit } from '../../audit/chain.js';
import { forbidden, notFound } from '../../core/errors.js';
import type { Resource, Role } from '../../core/model.js';
import { isAdmin } from '../../core/policy.js';
import type { GrantAccess } from '../../gateway/kernel/port.js';
import { checkHttpUpstream } from '../../gateway/http/upstream-check.js';
import { Command as MysqlCommand } from '../../gateway/mysql/protocol/codes.js';
import { loginUpstream } from '../../gateway/mysql/upstream-login.js';
import { mysqlTarget } from '../../gateway/mysql/upstream-target.js';
import { postgresTarget } from '../../gateway/postgres/backend.js';
import { PgGatewayError } from '../../gateway/postgres/errors.js';
import { TERMINATE } from '../../gateway/postgres/protocol/messages.js';
import { openUpstream } from '../../gateway/postgres/upstream.js';
import { readBody } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';

/**
 * `POST /api/resources/check` (admins): logs in upstream with each role's
 * credential, as the gateway would, and says per role whether that works or
 * what the upstream answered. The password is read from the server's
 * environment and never appears in the answer or the audit.
 */

export type RoleCheckResult = 'ok' | 'failed' | 'unchecked';

export interface RoleCheck {
  readonly role: string;
  /** The upstream login the role uses (not secret). */
  readonly login: string | null;
  readonly result: RoleCheckResult;
  /** The upstream's own words on failure, or why nothing was checked. */
  readonly message: string | null;
}

export interface ResourceCheck {
  readonly resource: string;
  readonly kind: Resource['kind'];
  readonly roles: RoleCheck[];
}

const checkBody = z.object({ resource: z.string().min(1).max(200).nullish() }).strict();

const CHECK_TIMEOUT_MS = 10_000;

/** What the upstream said (its own words when it answered), else why it could not be reached. */
function upstreamWords(err: unknown): string {
  if (err instanceof PgGatewayError && err.upstreamDetail) return err.upstreamDetail;
  return err instanceof Error ? err.message.replace(/^airlock: /, '') : String(err);
}

/** Logs in as `access` would on a gateway of that kind, then leaves; throws what the upstream answered. A note on success (what was asked) may come back. */
type LoginCheck = (access: GrantAccess) => Promise<void | string>;

const LOGIN_CHECKS: Partial<Record<Resource['kind'], LoginCheck>> = {
  async postgres(access) {
    const upstream = await openUpstream(postgresTarget(access).target, {
      resource: access.resource.name,
      role: access.role.name,
      applicationName: 'airlock resources check',
      readOnly: true,
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    upstream.socket.end(TERMINATE);
  },
  async mysql(access) {
    const upstream = await loginUpstream(mysqlTarget(access).target, { clientCapabilities: 0, maxPayload: 1 << 20, connectTimeoutMs: CHECK_TIMEOUT_MS });
    upstream.channel.resetSeq();
    upstream.channel.send(Buffer.from([MysqlCommand.Quit]));
    upstream.socket.end();
  },
  http: (access) => checkHttpUpstream(access, CHECK_TIMEOUT_MS),
};

async function checkRole(resource: Resource, role: Role, login: LoginCheck, env: NodeJS.ProcessEnv): Promise<RoleCheck> {
  const user = role.credential?.user ?? null;
  if (!user) return { role: role.name, login: user, result: 'unchecked', message: 'the role names no upstream credential' };
  const variable = role.credential?.passwordEnv;
  try {
    const note = await login({ resource, role, login: user, password: variable ? env[variable] : undefined });
    return { role: role.name, login: user, result: 'ok', message: note ?? null };
  } catch (err) {
    const unset = variable && !env[variable] ? ` (${variable} is not set in the server's environment)` : '';
    return { role: role.name, login: user, result: 'failed', message: `${upstreamWords(err)}${unset}` };
  }
}

/** Checks every role of one resource; kinds without a login check say so instead of guessing. */
export async function checkResource(resource: Resource, env: NodeJS.ProcessEnv): Promise<ResourceCheck> {
  const roles = [...resource.roles.values()];
  const login = LOGIN_CHECKS[resource.kind];
  if (!login) {
    return {
      resource: resource.name,
      kind: resource.kind,
      roles: roles.map((r) => ({ role: r.name, login: r.credential?.user ?? null, result: 'unchecked', message: `no check for kind ${resource.kind} yet` })),
    };
  }
  return { resource: resource.name, kind: resource.kind, roles: await Promise.all(roles.map((r) => checkRole(resource, r, login, env))) };
}

export function resourceCheckRoute(cp: ControlPlane, env: NodeJS.ProcessEnv = process.env) {
  const app = new Hono<ApiEnv>();
  app.post('/', async (c) => {
    const me = c.var.user;
    if (!isAdmin(cp.directory, me)) throw forbidden('admins_only', 'only admins can check the upstream logins of resources');
    const { resource: name } = await readBody(c, checkBody);
    const resource = name ? cp.directory.resources.get(name) : undefined;
    if (name && !resource) throw notFound('unknown_resource', `there is no resource "${name}"`);
    const targets = resource ? [resource] : [...cp.directory.resources.values()];
    const checks = await Promise.all(targets.map((r) => checkResource(r, env)));
    await cp.store.transaction((tx) =>
      appendAudit(
        tx,
        cp.clock.now(),
        checks.map((check) => ({
          actor: me.name,
          action: 'resource.checked',
          target: check.resource,
          resource: check.resource,
          details: { kind: check.kind, roles: check.roles },
        })),
      ),
    );
    return c.json({ resources: checks });
  });
  return app;
}
