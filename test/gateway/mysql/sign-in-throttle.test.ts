import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { mysqlGatewayWorld } from './gateway-world.js';

/**
 * Failed MySQL sign-ins are throttled like Postgres ones: from the Nth
 * failure per (address, user) each answer waits a doubling delay, but the
 * secret is checked first, so failures sent from the user's own address
 * (the lock-out-someone-else attack) never refuse or delay the right secret.
 */

const RESOURCE = 'orders-mysql';

describe('MySQL sign-in throttle', () => {
  const w = mysqlGatewayWorld({ authThrottle: { maxFailures: 2, baseDelayMs: 300, maxDelayMs: 5_000 } });

  const attempt = async (user: string, password: string) => {
    const started = performance.now();
    const outcome = await mysql.createConnection({ ...w.gw.address(), user, password, database: RESOURCE }).then(
      async (c) => {
        const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
        await c.end();
        return rows;
      },
      (err: { errno?: number; message?: string }) => ({ errno: err.errno, message: err.message }),
    );
    return { outcome, ms: performance.now() - started };
  };

  it('failures wait longer and longer; the owner of the secret, from the same address, gets in at once', async () => {
    const alice = w.port.issue({ user: 'alice', resource: RESOURCE, role: 'read', database: w.db.database, login: w.db.user, password: w.db.password, allow: ['read'] });
    const denied = { errno: 1045, message: expect.stringMatching(/^airlock: access denied for user 'alice' to orders-mysql/) };
    const first = await attempt('alice', 'als_wrong-1');
    expect(first.outcome).toEqual(denied);
    const second = await attempt('alice', 'als_wrong-2');
    const third = await attempt('alice', 'als_wrong-3');
    expect(second.outcome).toEqual(denied);
    expect(third.outcome).toEqual(denied);
    expect(second.ms).toBeGreaterThanOrEqual(300);
    expect(third.ms).toBeGreaterThanOrEqual(600);
    expect(w.port.authFailures.filter((f) => f.user === 'alice' && f.why.startsWith('slowed:'))).toHaveLength(1);

    // The attack: an attacker on alice's address (here, the same loopback) keeps failing. alice is neither refused nor held.
    const own = await attempt('alice', alice.secret);
    expect(own.outcome).toEqual([{ n: 2 }]);
    expect(own.ms).toBeLessThan(1_200);
    // A success hands no fresh allowance to whoever shares the address.
    const after = await attempt('alice', 'als_wrong-4');
    expect(after.outcome).toEqual(denied);
    expect(after.ms).toBeGreaterThanOrEqual(1_200);
  });
});
