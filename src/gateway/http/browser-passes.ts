import { randomBytes } from 'node:crypto';
import { sha256 } from '../../core/secret.js';

/**
 * What a browser's grant cookie holds: an opaque pass, not the grant secret.
 * The sign-in page checks the secret once and hands the browser a random
 * 256-bit pass bound to that grant; the gateway keeps only the pass's SHA-256
 * (in memory), so neither the cookie jar nor the gateway's heap holds
 * something that opens the resource from psql, curl or another browser
 * after the fact. A pass is looked up by its hash (the attacker picks the
 * pass, never the hash, so the lookup's timing says nothing about a stored
 * one), ends with its grant (checked on each new connection against the
 * grant's current state, so a revoked or expired grant's cookie opens
 * nothing), at sign-out, and when the gateway restarts (the browser signs in
 * again).
 */

export interface BrowserPass {
  readonly grantId: string;
  readonly user: string;
  readonly resource: string;
  /** The grant's end as last seen (an extension moves it: see `seen`). */
  expiresAt: Date;
}

/** Passes alive at once, beyond which the oldest go first (a browser signing in again gets a new one). */
const MAX_PASSES = 10_000;

export class BrowserPasses {
  private readonly byHash = new Map<string, BrowserPass>();

  constructor(private readonly now: () => Date) {}

  /** A new pass for `grant`; the caller puts it in the cookie and nowhere else. */
  issue(pass: BrowserPass): string {
    this.prune();
    const token = `alp_${randomBytes(32).toString('base64url')}`;
    this.byHash.set(key(token), pass);
    return token;
  }

  /**
   * The grant a presented pass stands for, or null (unknown or signed out).
   * Whether that grant is still active is the caller's question to the
   * control plane: an extension may have moved its end past `expiresAt`.
   */
  find(token: string): BrowserPass | null {
    return this.byHash.get(key(token)) ?? null;
  }

  /** The grant was found active until `expiresAt` (it may have been extended). */
  seen(pass: BrowserPass, expiresAt: Date): void {
    pass.expiresAt = expiresAt;
  }

  /** Sign-out, or a grant found ended: the pass opens nothing from now on. */
  drop(token: string): void {
    this.byHash.delete(key(token));
  }

  /** Every pass of a grant that ended (revoked, expired). */
  dropGrant(grantId: string): void {
    for (const [k, p] of this.byHash) if (p.grantId === grantId) this.byHash.delete(k);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Passes past their grant's end as last seen go (one whose grant was extended since signs in again). */
  private prune(): void {
    const nowMs = this.now().getTime();
    for (const [k, p] of this.byHash) if (p.expiresAt.getTime() <= nowMs) this.byHash.delete(k);
    // Insertion order is age order: past the cap, the oldest passes go.
    for (const k of this.byHash.keys()) {
      if (this.byHash.size < MAX_PASSES) break;
      this.byHash.delete(k);
    }
  }
}

function key(token: string): string {
  return sha256(token).toString('base64');
}
