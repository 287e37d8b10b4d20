import { createHash, createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mysqlVerifiers, decodeMysqlVerifiers, encodeMysqlVerifiers } from '../../../src/core/mysql-verifiers.js';
import { cachingSha2Scramble, cachingSha2ScrambleMatches, decryptPassword, encryptPassword, newRsaKeyPair } from '../../../src/gateway/mysql/auth/caching-sha2.js';
import { ed25519Sign } from '../../../src/gateway/mysql/auth/ed25519.js';
import { nativeScramble, nativeScrambleMatches } from '../../../src/gateway/mysql/auth/native-password.js';

const nonce = Buffer.from('0123456789abcdefghij');
const secret = 'als_2Kq8w0bH3nY5dZ1rT7uV9xA4cE6gI8kM';

describe('MySQL password plugins against stored verifiers', () => {
  const v = mysqlVerifiers(secret);

  it('verifiers are SHA1(SHA1()) and SHA256(SHA256()) and survive the store text form', () => {
    const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest();
    expect(v.nativePassword.equals(sha1(sha1(secret)))).toBe(true);
    expect(decodeMysqlVerifiers(encodeMysqlVerifiers(v))).toEqual(v);
    expect(() => decodeMysqlVerifiers('mysql$zz$00')).toThrow(/malformed/);
  });

  it('mysql_native_password: the right secret passes, a wrong one or another nonce fails', () => {
    expect(nativeScrambleMatches(nativeScramble(secret, nonce), nonce, v.nativePassword)).toBe(true);
    expect(nativeScrambleMatches(nativeScramble(`${secret}x`, nonce), nonce, v.nativePassword)).toBe(false);
    expect(nativeScrambleMatches(nativeScramble(secret, Buffer.from('x'.repeat(20))), nonce, v.nativePassword)).toBe(false);
    expect(nativeScrambleMatches(Buffer.alloc(0), nonce, v.nativePassword)).toBe(false);
  });

  it('caching_sha2_password fast path: the right secret passes, a wrong one fails', () => {
    expect(cachingSha2ScrambleMatches(cachingSha2Scramble(secret, nonce), nonce, v.cachingSha2)).toBe(true);
    expect(cachingSha2ScrambleMatches(cachingSha2Scramble('als_wrong', nonce), nonce, v.cachingSha2)).toBe(false);
    expect(cachingSha2ScrambleMatches(Buffer.alloc(31), nonce, v.cachingSha2)).toBe(false);
  });

  it('caching_sha2_password RSA exchange round-trips the password, and fails closed on garbage', () => {
    const keys = newRsaKeyPair();
    const cipher = encryptPassword(secret, nonce, keys.publicKeyPem);
    expect(decryptPassword(cipher, nonce, keys.privateKey)).toBe(secret);
    expect(decryptPassword(Buffer.alloc(256, 1), nonce, keys.privateKey)).toBeNull();
  });

  it('client_ed25519 equals standard Ed25519 when the password is a 32-byte seed', () => {
    const seed = Buffer.alloc(32, 7);
    const message = Buffer.from('a 32 byte nonce from the server.');
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    expect(ed25519Sign(seed.toString('latin1'), message).equals(sign(null, message, key))).toBe(true);
  });
});
