import { randomInt } from 'node:crypto';

/**
 * The gateway gives each client its own BackendKeyData, so a client never
 * learns (and can never cancel by guessing) the upstream backend's key. A
 * CancelRequest is looked up here and turned into a cancel of the right
 * upstream backend; unknown keys are ignored, as PostgreSQL does.
 */
export interface CancelKey {
  readonly pid: number;
  readonly secret: number;
}

export class CancelKeys {
  private readonly byPid = new Map<number, { secret: number; cancel: () => void }>();

  /** A fresh key for a session; `cancel` runs when a client presents it. */
  issue(cancel: () => void): CancelKey {
    let pid: number;
    do pid = randomInt(1, 2 ** 31 - 1);
    while (this.byPid.has(pid));
    const secret = randomInt(-(2 ** 31), 2 ** 31 - 1);
    this.byPid.set(pid, { secret, cancel });
    return { pid, secret };
  }

  release(key: CancelKey): void {
    if (this.byPid.get(key.pid)?.secret === key.secret) this.byPid.delete(key.pid);
  }

  /** True when the key was known and its cancel was started. */
  cancel(pid: number, secret: number): boolean {
    const entry = this.byPid.get(pid);
    if (!entry || entry.secret !== secret) return false;
    entry.cancel();
    return true;
  }
}
