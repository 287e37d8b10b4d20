import { randomBytes, randomUUID } from 'node:crypto';
import { grantSalt, newSecret, scramVerifier } from '../../../src/core/secret.js';
import type { ControlPlanePort, GatewayGrant, GrantAccess, GrantEnded, SessionEnd, SessionStart, StatementRecord } from '../../../src/gateway/kernel/port.js';
import type { SqlLimits } from '../../../src/core/model.js';
import type { SqlScope, StatementClass, UpstreamTarget } from '../../../src/gateway/postgres/backend.js';

/**
 * A stand-in for Airlock's control plane: issues grants with real SCRAM
 * verifiers, ends them on demand, and keeps what the gateway reports.
 * Low iteration count keeps the client's PBKDF2 cheap in tests.
 */
export class FakeBackend implements ControlPlanePort {
  private readonly serverKey = randomBytes(32);
  private readonly grants = new Map<string, { grant: GatewayGrant; target: UpstreamTarget; scope: SqlScope; limits?: SqlLimits; active: boolean }>();
  private readonly listeners = new Set<(e: GrantEnded) => void>();
  /** With the gateway's default `text` mode every record has its text. */
  readonly statements: Array<StatementRecord & { readonly text: string }> = [];
  readonly started: (SessionStart & { sessionId: string })[] = [];
  readonly ended: SessionEnd[] = [];
  readonly authFailures: { user: string; resource: string; clientAddress: string; why: string }[] = [];
  private readonly waiters: (() => void)[] = [];
  iterations = 4096;

  issue(opts: {
    user: string;
    resource: string;
    role?: string;
    allow: StatementClass[];
    target: UpstreamTarget;
    expiresAt?: Date;
    limits?: SqlLimits;
    /** Table patterns of the role (`public.*`), and those it denies. */
    tables?: readonly string[];
    denyTables?: readonly string[];
  }): { grantId: string; secret: string } {
    const secret = newSecret('alk');
    const grantId = `g_${randomUUID()}`;
    const { salt, iterations } = this.scramParameters(opts.user, opts.resource);
    const role = opts.role ?? opts.allow.join('+');
    this.grants.set(grantId, {
      grant: {
        grantId,
        user: opts.user,
        resource: opts.resource,
        role,
        expiresAt: opts.expiresAt ?? new Date(Date.now() + 3600_000),
        verifier: scramVerifier(secret, salt, iterations),
      },
      target: opts.target,
      scope: { resource: opts.resource, role, allow: opts.allow, tables: opts.tables, denyTables: opts.denyTables },
      limits: opts.limits,
      active: true,
    });
    return { grantId, secret };
  }

  end(grantId: string, reason: GrantEnded['reason'], message: string): void {
    const g = this.grants.get(grantId);
    if (g) g.active = false;
    for (const l of this.listeners) l({ grantId, reason, message });
  }

  scramParameters(user: string, resource: string) {
    return { salt: grantSalt(this.serverKey, user, resource), iterations: this.iterations };
  }

  async activeGrants(user: string, resource: string): Promise<GatewayGrant[]> {
    return [...this.grants.values()].filter((g) => g.active && g.grant.user === user && g.grant.resource === resource).map((g) => g.grant);
  }

  async access(grantId: string): Promise<GrantAccess> {
    const g = this.grants.get(grantId);
    if (!g) throw new Error(`unknown grant ${grantId}`);
    const { target, scope } = g;
    const role = { name: scope.role, allow: scope.allow, tables: scope.tables, denyTables: scope.denyTables, limits: g.limits };
    const tls = target.tls || undefined;
    return {
      resource: {
        name: scope.resource,
        kind: 'postgres',
        upstream: { host: target.host, port: target.port, database: target.database, tls: tls !== undefined, tlsCa: tls?.ca, tlsVerify: tls?.rejectUnauthorized },
        labels: {},
        roles: new Map([[role.name, role]]),
      },
      role,
      login: target.user,
      password: target.password,
    };
  }

  /** What the gateway reported of upstream logins that failed (their own words). */
  readonly upstreamFailures: { grantId: string; detail: string }[] = [];

  async upstreamFailed(f: { grantId: string; detail: string }) {
    this.upstreamFailures.push(f);
    this.changed();
  }

  async authFailed(user: string, resource: string, clientAddress: string, why: string) {
    this.authFailures.push({ user, resource, clientAddress, why });
    this.changed();
  }

  async sessionStarted(start: SessionStart) {
    const sessionId = `s_${randomUUID()}`;
    this.started.push({ ...start, sessionId });
    this.changed();
    return { sessionId };
  }

  /** While set, sessions hold their next message (the audit log is "behind"). */
  auditGate: Promise<void> | undefined;
  /** How many times a session asked whether it may go on. */
  auditChecks = 0;

  auditBackpressure() {
    this.auditChecks++;
    this.changed();
    return this.auditGate;
  }

  async statement(record: StatementRecord) {
    this.statements.push({ ...record, text: record.text ?? '' });
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

  /** Resolves once `condition` holds, re-checked whenever the gateway reports something (no sleeping). */
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
