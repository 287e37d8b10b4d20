import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A SCRAM-SHA-256 verifier (RFC 5802 / 7677), the form in which a grant secret
 * is stored. The gateway can authenticate a client that knows the secret
 * without the secret ever being stored or sent over the wire.
 */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

export const SCRAM_ITERATIONS = 4096;

export function scramVerifier(secret: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramVerifier {
  // SASLprep is the identity for the ASCII secrets Airlock issues.
  const salted = pbkdf2Sync(secret, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    iterations,
    salt,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, PostgreSQL's own text form. */
export function encodeScramVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

export function decodeScramVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new Error('stored SCRAM verifier is malformed');
  return {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2]!, 'base64'),
    storedKey: Buffer.from(m[3]!, 'base64'),
    serverKey: Buffer.from(m[4]!, 'base64'),
  };
}

/** True when `secret` is the one the verifier was made from; constant time in the comparison. */
export function verifySecret(secret: string, v: ScramVerifier): boolean {
  const candidate = scramVerifier(secret, v.salt, v.iterations);
  return timingSafeEqual(candidate.storedKey, v.storedKey);
}

/** A fresh high-entropy secret, URL- and shell-safe, prefixed so it is recognisable in a leak scan. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Every grant of one user on one resource shares a SCRAM salt derived from a
 * server key, so the gateway can offer the salt before it knows which grant
 * the client holds, and offers a plausible salt for users with no grant at all
 * (no existence leak).
 */
export function grantSalt(serverKey: Buffer, user: string, resource: string): Buffer {
  return createHmac('sha256', serverKey).update(`grant-salt\0${user}\0${resource}`).digest().subarray(0, 16);
}
