import { createHash } from 'node:crypto';

/**
 * The verifiers MySQL's own password plugins check a grant secret against,
 * computed when the secret is issued and stored beside the SCRAM verifier:
 *
 * - `mysql_native_password` proves knowledge of SHA1(secret) against
 *   SHA1(SHA1(secret));
 * - `caching_sha2_password`'s fast path proves knowledge of SHA256(secret)
 *   against SHA256(SHA256(secret)).
 *
 * Neither is salted (the protocols leave no room for a salt). That is
 * acceptable only because grant secrets are 192 random bits: no dictionary
 * reaches them. A stolen verifier alone does not sign in; with it, a
 * recorded plain-TCP native-password handshake would, which is why the
 * gateway offers TLS.
 */
export interface MysqlVerifiers {
  readonly nativePassword: Buffer;
  readonly cachingSha2: Buffer;
}

const sha1 = (b: Buffer | string): Buffer => createHash('sha1').update(b).digest();
const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();

export function mysqlVerifiers(secret: string): MysqlVerifiers {
  return { nativePassword: sha1(sha1(secret)), cachingSha2: sha256(sha256(secret)) };
}

/** Text form for the store: `mysql$<hex SHA1(SHA1)>$<hex SHA256(SHA256)>`. */
export function encodeMysqlVerifiers(v: MysqlVerifiers): string {
  return `mysql$${v.nativePassword.toString('hex')}$${v.cachingSha2.toString('hex')}`;
}

export function decodeMysqlVerifiers(text: string): MysqlVerifiers {
  const m = /^mysql\$([0-9a-f]{40})\$([0-9a-f]{64})$/.exec(text);
  if (!m) throw new Error('stored MySQL verifiers are malformed');
  return { nativePassword: Buffer.from(m[1]!, 'hex'), cachingSha2: Buffer.from(m[2]!, 'hex') };
}
