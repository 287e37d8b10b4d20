import { randomBytes, randomUUID } from 'node:crypto';
import type { SqlLimits } from '../../../src/core/model.js';
import { mysqlVerifiers } from '../../../src/core/mysql-verifiers.js';
import { grantSalt, newSecret, scramVerifier } from '../../../src/core/secret.js';
import type { ControlPlanePort, GrantAccess, GrantEnded, SessionEnd, SessionStart, StatementRecord } from '../../../src/gateway/kernel/port.js';
import type { MysqlGrant } from '../../../src/gateway/mysql/client-login.js';
import type { StatementClass } from '../../../src/gateway/mysql/sql/scope.js';
import { MARIADB } from './mariadb-fixture.js';

/**
 * A stand-in for Airlock's control plane (the port, not a protocol peer):
 * issues grants with real SCRAM and MySQL verifiers, ends them on demand,
 * and keeps what the gateway reports.
 */
export class FakePort implements ControlPlanePort {
  private readonly serverKey = randomBytes(32);
  private readonly grants = new Map<string, { grant: MysqlGrant; access: GrantAccess; active: boolean }>();
  private readonly listeners = new Set<(e: GrantEnded) => void>();
  readonly statements: StatementRecord[] = [];
  readonly intents: { sessionId: string; text: string | undefined }[] = [];
  readonly started: (SessionStart & { sessionId: string })[] = [];
  readonly ended: SessionEnd[] = [];
  readonly authFailures: { user: string; resource: string; why: string }[] = [];
  readonly upstreamFailures: { grantId: string; detail: string }[] = [];
  private readonly waiters: (() => void)[] = [];

  issue(opts: {
    user: string;
    resource: string;
    database: string;
    login: string;
    password: string;
    role?: string;
    allow: StatementClass[];
    tables?: string[];
    denyTables?: string[];
    limits?: SqlLimits;
    /** false: a secret issued before MySQL verifiers existed (SCRAM only). */
    mysqlVerifiers?: boolean;
    expiresAt?: Date;
  }): { grantId: string; secret: string; user: string } {
    const secret = newSecret('als');
    const grantId = `g_${randomUUID()}`;
    const { salt, iterations } = this.scramParameters(opts.user, opts.resource);
    const role = { name: opts.role ?? opts.allow.join('+'), allow: opts.allow, tables: opts.tables, denyTables: opts.denyTables, limits: opts.limits };
    this.grants.set(grantId, {
      grant: {
        grantId,
        user: opts.user,
        resource: opts.resource,
        role: role.name,
        expiresAt: opts.expiresAt ?? new Date(Date.now() + 3600_000),
        verifier: scramVerifier(secret, salt, iterations),
        mysql: opts.mysqlVerifiers === false ? undefined : mysqlVerifiers(secret),
      },
      access: {
        resource: { name: opts.resource, kind: 'mysql', upstream: { ...MARIADB, database: opts.database }, labels: {}, roles: new Map([[role.name, role]]) },
        role,
        login: opts.login,
        password: opts.password,
      },
      active: true,
    });
    return { grantId, secret, user: opts.user };
  }

  end(grantId: string, reason: GrantEnded['reason'], message: string): void {
    const g = this.grants.get(grantId);
    if (g) g.active = false;
    for (const l of this.listeners) l({ grantId, reason, message });
  }

  scramParameters(user: string, resource: string) {
    return { salt: grantSalt(this.serverKey, user, resource), iterations: 4096 };
  }

  async activeGrants(user: string, resource: string): Promise<MysqlGrant[]> {
    return [...this.grants.values()].filter((g) => g.active && g.grant.user === user && g.grant.resource === resource).map((g) => g.grant);
  }

  async access(grantId: string): Promise<GrantAccess> {
    const g = this.grants.get(grantId);
    if (!g) throw new Error(`unknown grant ${grantId}`);
    return g.access;
  }

  async authFailed(user: string, resource: string, _clientAddress: string, why: string) {
    this.authFailures.push({ user, resource, why });
    this.changed();
  }

  async upstreamFailed(f: { grantId: string; detail: string }) {
    this.upstreamFailures.push(f);
    this.changed();
  }

  async sessionStarted(start: SessionStart) {
    const sessionId = `s_${randomUUID()}`;
    this.started.push({ ...start, sessionId });
    this.changed();
    return { sessionId };
  }

  intend(intent: { sessionId: string; text: string | undefined }): string {
    this.intents.push(intent);
    return `i${this.intents.length}`;
  }

  statement(record: StatementRecord): void {
    this.statements.push(record);
    this.changed();
  }

  async sessionEnded(end: SessionEnd) {
    this.ended.push(end);
    this.changed();
  }

  onGrantEnded(listener: (e: GrantEnded) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `condition` holds, re-checked whenever the gateway reports something. */
  async until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
