import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../../core/secret.js';

/** mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))). */

const sha1 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!;
  return out;
}

/** What a client sends for `password` (empty for an empty password, as the servers expect). */
export function nativeScramble(password: string, nonce: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  return xor(stage1, sha1(nonce.subarray(0, 20), sha1(stage1)));
}

/** True when `scramble` proves knowledge of the password whose SHA1(SHA1()) is `verifier`; constant time. */
export function nativeScrambleMatches(scramble: Buffer, nonce: Buffer, verifier: Buffer): boolean {
  if (scramble.length !== 20 || verifier.length !== 20) return false;
  const stage1 = xor(scramble, sha1(nonce.subarray(0, 20), verifier));
  return constantTimeEqual(sha1(stage1), verifier);
}
