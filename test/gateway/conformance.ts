import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { ControlPlanePort, GatewayKind, StatementRecord } from '../../src/gateway/kernel/port.js';
import { startAirlock, type RunningAirlock } from '../../src/server/airlock.js';

/**
 * One suite every gateway adapter runs (as Hono runs one over every router):
 * the promises that do not depend on the protocol, checked through a real
 * client of that protocol against a real upstream and the real control plane.
 * An adapter's test file calls `describeConformance(target)`.
 */

export interface ConformanceClient {
  /** Runs a statement (or request); null when it succeeded, else the error message the client showed. */
  run(statement: string): Promise<string | null>;
  /** Starts a statement that keeps the upstream busy; resolves with the message the client got when the connection was cut. */
  runUntilCut(): Promise<string>;
  /** Sends a statement and closes the connection at once, without waiting for its answer. */
  sendAndLeave(statement: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConformanceUpstream {
  /** One resource named `name` of this kind, with roles `read` and `write`, on an upstream the target created. */
  readonly resourceYaml: string;
  /** The `gateway:` section's entry for this kind, e.g. `postgres: { listen: 127.0.0.1:0 }`. */
  readonly gatewayYaml: string;
  /** Environment the roles' password_env names. */
  readonly env: Record<string, string>;
  /** Whether the row written by `statements.write(marker)` reached the upstream. */
  written(marker: string): Promise<boolean>;
  teardown(): Promise<void>;
}

export interface ConformanceTarget {
  readonly kind: GatewayKind;
  setup(name: string): Promise<ConformanceUpstream>;
  /** Connects through the gateway; rejects with the client's error message when sign-in fails. */
  connect(gateway: { host: string; port: number }, user: string, secret: string, resource: string): Promise<ConformanceClient>;
  readonly statements: {
    /** Allowed for the read role. */
    readonly read: string;
    /** A write of `marker` (allowed for write, refused for read). */
    write(marker: string): string;
  };
}

type UserName = 'alice' | 'bob' | 'root';

function configYaml(kind: GatewayKind, up: ConformanceUpstream): string {
  return `
users:
  - { name: alice, groups: [oncall] }
  - { name: bob,   groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
${up.resourceYaml}
policies:
  - { name: oncall-${kind}, who: { groups: [oncall] }, resources: { names: [conf-${kind}] }, roles: [read, write], max_duration: 1h, approval: none }
gateway:
  ${up.gatewayYaml}
`;
}

/** A tap on the real port: the audit log can be made to fall behind or fail on cue. */
class AuditFaults {
  gate: Promise<void> | undefined;
  failing = false;
  /** How many times a session asked whether it may go on while the gate was shut. */
  held = 0;
  readonly tap = (port: ControlPlanePort): ControlPlanePort => ({
    ...port,
    scramParameters: port.scramParameters.bind(port),
    onGrantEnded: port.onGrantEnded.bind(port),
    onGrantExtended: port.onGrantExtended?.bind(port),
    auditBackpressure: () => {
      if (this.gate) this.held++;
      return this.gate ?? port.auditBackpressure?.();
    },
    intend: (intent) => {
      if (this.failing) throw new Error('the audit store is gone (test)');
      return port.intend?.(intent);
    },
    statement: (record: StatementRecord) => {
      if (this.failing) throw new Error('the audit store is gone (test)');
      return port.statement(record);
    },
  });
}

export function describeConformance(target: ConformanceTarget): void {
  const kind = target.kind;
  const resource = `conf-${kind}`;
  describe(`gateway conformance: ${kind}`, () => {
    const clock = new ManualClock(new Date());
    const faults = new AuditFaults();
    let air: RunningAirlock;
    let up: ConformanceUpstream;
    let dir: string;
    const open: ConformanceClient[] = [];

    beforeAll(async () => {
      up = await target.setup(resource);
      dir = mkdtempSync(join(tmpdir(), `airlock-conformance-${kind}-`));
      air = await startAirlock(parseConfig(configYaml(kind, up), 'airlock.yaml', dir), {
        clock,
        listen: '127.0.0.1:0',
        gatewayListen: { [kind]: '127.0.0.1:0' },
        env: up.env,
        tapPort: faults.tap,
      });
    }, 60_000);

    afterAll(async () => {
      for (const c of open) await c.close().catch(() => undefined);
      await air?.close();
      await up?.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const user = (name: UserName) => air.directory.users.get(name)!;
    const gateway = () => air.gateways[kind]!;

    async function grant(name: 'alice' | 'bob', role: 'read' | 'write', seconds = 1800) {
      const asked = await air.lifecycle.request(user(name), { resource, role, durationSeconds: seconds, reason: 'conformance' });
      const g = asked.grant!;
      const { secret } = await air.lifecycle.issueSecret(user(name), g.id);
      return { grantId: g.id, secret, user: name };
    }

    async function connect(who: { user: string; secret: string }): Promise<ConformanceClient> {
      const c = await target.connect(gateway(), who.user, who.secret, resource);
      open.push(c);
      return c;
    }

    async function refused(who: { user: string; secret: string }): Promise<string> {
      try {
        const c = await connect(who);
        // Some protocols (HTTP) sign in per request: the first statement is where the refusal shows.
        const err = await c.run(target.statements.read);
        if (err === null) throw new Error('expected the sign-in to be refused');
        return err;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }

    async function sessionsOf(grantId: string) {
      return air.store.db.selectFrom('sessions').selectAll().where('grant_id', '=', grantId).execute();
    }

    /** Polls (bounded) until `condition` holds; the audit is flushed between looks so records are visible. */
    async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
        await new Promise((r) => setTimeout(r, 10));
        await air.flushAudit();
      }
    }

    async function statementRecords(sessionId: string) {
      await air.flushAudit();
      const rows = await air.store.db.selectFrom('audit_events').select(['action', 'details']).where('target', '=', sessionId).execute();
      return rows
        .filter((r) => r.action.startsWith('statement'))
        .map((r) => ({ action: r.action, details: JSON.parse(r.details) as { text?: string; intent?: string; outcome?: string } }));
    }

    it('opens a session with the grant secret, enforces the role, and shows the session in who', async () => {
      const g = await grant('alice', 'read');
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      const marker = `m${Date.now()}`;
      expect(await c.run(target.statements.write(marker))).toMatch(/airlock: role "read" on conf-/);
      expect(await up.written(marker)).toBe(false);
      const live = await sessionsOf(g.grantId);
      expect(live).toHaveLength(1);
      expect(live[0]).toMatchObject({ user: 'alice', resource, role: 'read', ended_at: null });
      expect(air.running.get(kind)!.sessions().map((s) => s.grantId)).toContain(g.grantId);
      await c.close();
      await until(async () => (await sessionsOf(g.grantId))[0]?.ended_at != null, 'the session end record');
      expect((await sessionsOf(g.grantId))[0]).toMatchObject({ end_reason: 'client' });
    });

    it('refuses a wrong secret, another user\'s secret, a revoked grant and an expired one', async () => {
      const a = await grant('alice', 'read');
      const b = await grant('bob', 'read');
      expect(await refused({ user: 'alice', secret: `${a.secret}x` })).toMatch(/airlock|password|authentication|denied|401|no active grant/i);
      expect(await refused({ user: 'alice', secret: b.secret })).toMatch(/airlock|password|authentication|denied|401|no active grant/i);
      await air.lifecycle.revoke(user('root'), b.grantId, 'conformance');
      expect(await refused(b)).toMatch(/airlock|password|authentication|denied|401|no active grant/i);
      const short = await grant('bob', 'read', 60);
      clock.advance(61_000);
      expect(await refused(short)).toMatch(/airlock|password|authentication|denied|401|no active grant/i);
      expect(await sessionsOf(b.grantId)).toHaveLength(0);
      expect(await sessionsOf(short.grantId)).toHaveLength(0);
    });

    it('cuts a live session mid-statement on revoke, telling the client why', async () => {
      const g = await grant('alice', 'read');
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      const cut = c.runUntilCut();
      await air.lifecycle.revoke(user('root'), g.grantId, 'incident over');
      expect(await cut).toMatch(/revoked by root: incident over/);
      await until(async () => (await sessionsOf(g.grantId))[0]?.end_reason === 'revoked', 'the revoked session end');
    });

    it('cuts a live session at expiry, and a reconnect gets only the time left', async () => {
      const g = await grant('bob', 'read', 1800);
      clock.advance(20 * 60_000);
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      const cut = c.runUntilCut();
      // Timers fire inside advance(): had the reconnect been given a fresh 30 minutes, or the old end, this shows it.
      clock.advance(9 * 60_000);
      expect(air.running.get(kind)!.sessions().map((s) => s.grantId)).toContain(g.grantId);
      expect((await sessionsOf(g.grantId))[0]?.ended_at).toBeNull();
      clock.advance(60_000 + 1000);
      expect(await cut).toMatch(/expired at/);
      await until(async () => (await sessionsOf(g.grantId))[0]?.end_reason === 'expired', 'the expired session end');
    });

    it('holds the next statement, unforwarded, while the audit log is behind', async () => {
      const g = await grant('alice', 'write');
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      let release!: () => void;
      faults.gate = new Promise<void>((r) => (release = r));
      const marker = `held${Date.now()}`;
      const asked = faults.held;
      const held = c.run(target.statements.write(marker));
      await until(async () => faults.held > asked, 'the session asking the audit log whether it may go on');
      expect(await up.written(marker)).toBe(false);
      faults.gate = undefined;
      release();
      expect(await held).toBeNull();
      expect(await up.written(marker)).toBe(true);
    });

    it('fails closed: a statement that cannot be put on record is not forwarded, and the session is cut', async () => {
      const g = await grant('alice', 'write');
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      faults.failing = true;
      const marker = `lost${Date.now()}`;
      try {
        const err = await c.run(target.statements.write(marker));
        expect(err).toMatch(/audit log cannot be written|closed|terminat|reset|ended/i);
      } finally {
        faults.failing = false;
      }
      expect(await up.written(marker)).toBe(false);
      await until(async () => (await sessionsOf(g.grantId))[0]?.end_reason === 'error', 'the fail-closed session end');
    });

    it('records a statement still in flight when the client leaves', async () => {
      const g = await grant('bob', 'write');
      const c = await connect(g);
      expect(await c.run(target.statements.read)).toBeNull();
      const marker = `leave${Date.now()}`;
      await c.sendAndLeave(target.statements.write(marker));
      await until(async () => (await sessionsOf(g.grantId))[0]?.ended_at != null, 'the session end');
      const sessionId = (await sessionsOf(g.grantId))[0]!.id;
      const records = await statementRecords(sessionId);
      const mine = records.find((r) => String(r.details.text).includes(marker));
      expect(mine).toBeDefined();
      // Whatever reached the upstream has an outcome that closes its write-ahead intent.
      for (const r of records.filter((r) => r.action === 'statement')) expect(r.details.intent).toEqual(expect.any(String));
      if (await up.written(marker)) expect(mine!.details.outcome).toMatch(/^(ok|unknown)$/);
    });
  });
}
