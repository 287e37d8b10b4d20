import type { GatewaySession, SessionSummary } from './gateway-session.js';
import type { ControlPlanePort } from './port.js';

/**
 * Every connection a gateway holds, and the live ones by grant, so that a
 * grant ending (revoked, released, expired) or getting a later end reaches
 * each of its sessions at once, whatever protocol they speak.
 */
export class SessionRegistry {
  private readonly all = new Set<GatewaySession>();
  private readonly byGrant = new Map<string, Set<GatewaySession>>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(port: ControlPlanePort) {
    this.unsubscribe.push(
      port.onGrantEnded((ended) => {
        for (const session of [...(this.byGrant.get(ended.grantId) ?? [])]) session.cut(ended.reason, ended.message);
      }),
    );
    // Sessions keep their own expiry timer as a second line; an extension must move it too.
    const extended = port.onGrantExtended?.((e) => {
      for (const session of this.byGrant.get(e.grantId) ?? []) session.extendTo(e.expiresAt);
    });
    if (extended) this.unsubscribe.push(extended);
    // Fail closed: a node that cannot learn of revocations stops trusting every grant, sessions still signing in included.
    const lost = port.onStoreLost?.((message) => {
      for (const session of [...this.all]) session.cut('error', message);
    });
    if (lost) this.unsubscribe.push(lost);
  }

  /** A new connection, before it has a grant: tracked so that shutdown reaches it. */
  accepted(session: GatewaySession): void {
    this.all.add(session);
    void session.done.then(() => this.all.delete(session));
  }

  /** The session now runs under `grantId`. */
  live(session: GatewaySession, grantId: string): void {
    let set = this.byGrant.get(grantId);
    if (!set) this.byGrant.set(grantId, (set = new Set()));
    set.add(session);
  }

  ended(session: GatewaySession, grantId: string): void {
    const set = this.byGrant.get(grantId);
    set?.delete(session);
    if (set?.size === 0) this.byGrant.delete(grantId);
  }

  summaries(): SessionSummary[] {
    return [...this.all].flatMap((s) => s.summary() ?? []);
  }

  /** Stops listening for grant changes, cuts every connection (reason `shutdown`) and waits for their end records. */
  async shutdown(message: string): Promise<void> {
    for (const stop of this.unsubscribe.splice(0)) stop();
    const sessions = [...this.all];
    for (const s of sessions) s.cut('shutdown', message);
    await Promise.all(sessions.map((s) => s.done));
  }
}
