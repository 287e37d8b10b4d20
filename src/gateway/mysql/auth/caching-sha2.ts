import { constants, createHash, createPrivateKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { constantTimeEqual } from '../../../core/secret.js';
import { xor } from './native-password.js';

/**
 * caching_sha2_password. Fast path: XOR(SHA256(password),
 * SHA256(SHA256(SHA256(password)) + nonce)). Full authentication sends the
 * password itself: in clear over TLS, or over plain TCP XORed with the nonce
 * and encrypted with the server's RSA public key (OAEP, SHA-1), as MySQL 8 does.
 */

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function cachingSha2Scramble(password: string, nonce: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha256(Buffer.from(password, 'utf8'));
  return xor(stage1, sha256(sha256(stage1), nonce.subarray(0, 20)));
}

/** True when `scramble` proves knowledge of the password whose SHA256(SHA256()) is `verifier`; constant time. */
export function cachingSha2ScrambleMatches(scramble: Buffer, nonce: Buffer, verifier: Buffer): boolean {
  if (scramble.length !== 32 || verifier.length !== 32) return false;
  const stage1 = xor(scramble, sha256(verifier, nonce.subarray(0, 20)));
  return constantTimeEqual(sha256(stage1), verifier);
}

/** NUL-terminated password XOR nonce, encrypted for the server (what a client sends on plain TCP). */
export function encryptPassword(password: string, nonce: Buffer, publicKeyPem: string): Buffer {
  const plain = xor(Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]), nonce.subarray(0, 20));
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING }, plain);
}

/** The server's side of `encryptPassword`; null when the bytes do not decrypt. */
export function decryptPassword(cipher: Buffer, nonce: Buffer, privateKey: KeyObject): string | null {
  let plain: Buffer;
  try {
    plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, cipher);
  } catch {
    return null;
  }
  const clear = xor(plain, nonce.subarray(0, 20));
  const nul = clear.indexOf(0);
  return (nul < 0 ? clear : clear.subarray(0, nul)).toString('utf8');
}

export interface RsaKeyPair {
  readonly publicKeyPem: string;
  readonly privateKey: KeyObject;
}

/** The gateway's RSA pair for the plain-TCP exchange: generated once per process, never stored. */
export function newRsaKeyPair(): RsaKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKey: createPrivateKey(privateKey) };
}
