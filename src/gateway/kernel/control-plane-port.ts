import { appendAudit } from '../../audit/chain.js';
import { IntentLog } from '../../audit/intent-log.js';
import { intentDirFor } from '../../audit/intent-recovery.js';
import { createStatementRecorder } from '../../audit/statement-recorder.js';
import type { Clock } from '../../core/clock.js';
import { notFound } from '../../core/errors.js';
import type { EventBus, SessionSummary } from '../../core/events.js';
import { grantEndedMessage } from '../../core/grant-messages.js';
import { newId } from '../../core/ids.js';
import type { Directory } from '../../core/model.js';
import { decodeMysqlVerifiers } from '../../core/mysql-verifiers.js';
import { decodeScramVerifier, grantSalt, SCRAM_ITERATIONS } from '../../core/secret.js';
import { activeGrantVerifiers, findGrant } from '../../store/grants.js';
import { findSession, finishSession, insertSession } from '../../store/sessions.js';
import type { Store } from '../../store/store.js';
import type { GrantSignals } from '../../fleet/fleet.js';
import { GatewayError } from './errors.js';
import type { ControlPlanePort, GatewayGrant, GatewayKind, SessionEnd, SessionStart, StatementRecord } from './port.js';

export interface ControlPlanePortDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: Directory;
  readonly saltKey: Buffer;
  /** Where role credentials' `password_env` variables are read from. */
  readonly env?: NodeJS.ProcessEnv;
  /** Which gateway's sessions this port records (audit targets say `gateway:KIND`). */
  readonly kind: GatewayKind;
  /**
   * false: statements are counted on the session but not written to the audit
   * chain. Only for measuring what per-statement audit costs (`npm run bench`);
   * no config reaches it.
   */
  readonly statementAudit?: boolean;
  /**
   * `strict` (the default for a store on disk): every statement is put on
   * record in the intent log before it is forwarded, so a crash of this
   * process loses none. `off`: outcomes only (a crash can lose the last
   * group commit's worth); for measuring what the intent step costs.
   */
  readonly intents?: 'strict' | 'off';
  /** On a fleet (PostgreSQL store): grant changes made on other nodes, and whether the store can be reached. */
  readonly fleetSignals?: GrantSignals;
}

/** Adapts the control plane (store, lifecycle events, config) to the port every gateway uses. */
export function createControlPlanePort(
  deps: ControlPlanePortDeps,
): ControlPlanePort & { flush(): Promise<void>; close(): Promise<void>; liveGrantIds(): string[] } {
  const { store, clock, bus, directory } = deps;
  const env = deps.env ?? process.env;
  const target = `gateway:${deps.kind}`;
  const intentDir = deps.intents === 'off' ? null : intentDirFor(store);
  const intents = intentDir ? new IntentLog({ dir: intentDir, clock }) : null;
  const recorder = createStatementRecorder(store, clock, { settled: intents ? (ids) => intents.settled(ids) : undefined });
  const open = new Map<string, SessionSummary>();
  // A node that cannot reach its store cannot tell whether a grant was revoked: it opens nothing.
  const refuseWithoutStore = () => {
    const refusal = deps.fleetSignals?.refusal();
    if (refusal) throw new GatewayError('store_unavailable', refusal.message);
  };

  return {
    scramParameters: (user, resource) => ({ salt: grantSalt(deps.saltKey, user, resource), iterations: SCRAM_ITERATIONS }),

    async activeGrants(user, resource): Promise<GatewayGrant[]> {
      refuseWithoutStore();
      const rows = await activeGrantVerifiers(store.db, user, resource, clock.now()).catch((err: unknown) => {
        deps.fleetSignals?.suspect();
        throw err;
      });
      return rows.map(({ grant, verifier, mysqlVerifiers }) => ({
        grantId: grant.id,
        user: grant.user,
        resource: grant.resource,
        role: grant.role,
        expiresAt: grant.expiresAt,
        verifier: decodeScramVerifier(verifier),
        mysql: mysqlVerifiers ? decodeMysqlVerifiers(mysqlVerifiers) : undefined,
      }));
    },

    async access(grantId) {
      const grant = await findGrant(store.db, grantId);
      const resource = grant && directory.resources.get(grant.resource);
      const role = grant && resource?.roles.get(grant.role);
      if (!grant || !resource || !role) throw notFound('unknown_grant', `grant ${grantId} or its role is no longer configured`);
      const credential = role.credential;
      return { resource, role, login: credential?.user ?? grant.user, password: credential?.passwordEnv ? env[credential.passwordEnv] : undefined };
    },

    resourceExists: (resource) => directory.resources.get(resource)?.kind === deps.kind,

    async authFailed(user, resource, clientAddress, why) {
      await store.transaction((tx) =>
        appendAudit(tx, clock.now(), [
          { actor: user, action: 'auth.failed', target, subjectUser: user, resource, details: { client_address: clientAddress, why } },
        ]),
      );
    },

    async upstreamFailed(f) {
      // The upstream's own words, for the admin; the user is told only that the login failed.
      console.error(`airlock: ${deps.kind} upstream of ${f.resource} refused role ${f.role} (login "${f.login}"): ${f.detail}`);
      await store.transaction((tx) =>
        appendAudit(tx, clock.now(), [
          { actor: 'airlock', action: 'upstream.failed', target, resource: f.resource, details: { grant: f.grantId, role: f.role, login: f.login, detail: f.detail } },
        ]),
      );
    },

    async sessionStarted(start: SessionStart) {
      refuseWithoutStore();
      const grant = await findGrant(store.db, start.grantId);
      if (!grant) throw notFound('unknown_grant', `grant ${start.grantId} does not exist`);
      // The grant was read before the client's proof arrived: a revoke during the handshake lands here.
      if (grant.state !== 'active' || grant.expiresAt <= clock.now()) {
        throw new GatewayError('auth_failed', `airlock: access to ${grant.resource} ended while signing in (${grant.state === 'active' ? 'expired' : grant.state})`);
      }
      const session: SessionSummary = {
        id: newId('ses'),
        grantId: grant.id,
        user: grant.user,
        resource: grant.resource,
        role: grant.role,
        clientAddress: start.clientAddress,
        applicationName: start.applicationName ?? null,
        startedAt: clock.now(),
        endedAt: null,
        endReason: null,
        statements: 0,
        refused: 0,
      };
      await store.transaction(async (tx) => {
        await insertSession(tx, { ...session, bytesIn: 0, bytesOut: 0 }, store.node);
        await appendAudit(tx, session.startedAt, [
          {
            actor: grant.user,
            action: 'session.started',
            target: session.id,
            subjectUser: grant.user,
            resource: grant.resource,
            details: { grant: grant.id, role: grant.role, client_address: start.clientAddress, application_name: start.applicationName ?? null },
          },
        ]);
      });
      open.set(session.id, session);
      bus.publish({ type: 'session.started', session });
      return { sessionId: session.id };
    },

    intend(intent) {
      if (!intents || deps.statementAudit === false) return undefined;
      return intent.deferred ? intents.queue(intent.sessionId, intent.text) : intents.intend(intent.sessionId, intent.text);
    },

    intentsWritten: (lastId) => !intents || intents.written(lastId),

    statement(r: StatementRecord) {
      const session = open.get(r.sessionId);
      if (!session) return;
      // Running counts live on the gateway session and reach the store with each batch and at sessionEnded; nothing here reads them.
      if (deps.statementAudit === false) return;
      // Plain values into the recorder's batch: the writer thread builds the details and the chained row.
      recorder.statement(r, session.user, session.resource, session.grantId);
    },

    async sessionEnded(end: SessionEnd) {
      await recorder.flush();
      const at = end.at;
      const before = open.get(end.sessionId) ?? (await findSession(store.db, end.sessionId));
      open.delete(end.sessionId);
      if (!before) return;
      await store.transaction(async (tx) => {
        await finishSession(tx, end.sessionId, { at, reason: end.reason, statements: end.statements, refused: end.refused, bytesIn: end.bytesIn, bytesOut: end.bytesOut });
        await appendAudit(tx, at, [
          {
            actor: end.reason === 'client' ? before.user : 'airlock',
            action: 'session.ended',
            target: end.sessionId,
            subjectUser: before.user,
            resource: before.resource,
            details: { grant: before.grantId, reason: end.reason, detail: end.detail, statements: end.statements, refused: end.refused, bytes_in: end.bytesIn, bytes_out: end.bytesOut },
          },
        ]);
      });
      bus.publish({ type: 'session.ended', session: { ...before, endedAt: at, endReason: end.reason, statements: end.statements, refused: end.refused } });
    },

    onGrantEnded(listener) {
      const local = bus.subscribe((e) => {
        if (e.type !== 'grant.ended') return;
        listener({ grantId: e.grant.id, reason: e.reason, message: grantEndedMessage(e.grant, e.reason, e.by, e.why) });
      });
      const remote = deps.fleetSignals?.onEnded(listener);
      return () => {
        local();
        remote?.();
      };
    },

    onGrantExtended(listener) {
      const local = bus.subscribe((e) => {
        if (e.type === 'grant.extended') listener({ grantId: e.grant.id, expiresAt: e.grant.expiresAt });
      });
      const remote = deps.fleetSignals?.onExtended(listener);
      return () => {
        local();
        remote?.();
      };
    },

    onStoreLost: deps.fleetSignals ? (listener) => deps.fleetSignals!.onStoreLost(listener) : undefined,

    liveGrantIds: () => [...new Set([...open.values()].map((s) => s.grantId))],

    auditBackpressure: () => recorder.congested(),

    flush: () => recorder.flush(),
    /** Flushes and stops the statement writer thread; closes the intent log (what is settled is removed). */
    async close() {
      await recorder.close();
      intents?.close();
    },
  };
}
