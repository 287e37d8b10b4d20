import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { PgGatewayError } from './errors.js';

/**
 * Client side of SCRAM-SHA-256, used when the gateway signs in to the
 * upstream with a role's credential. Verifies the server's signature so a
 * spoofed upstream cannot pretend the exchange succeeded.
 */
export class ScramClient {
  private readonly clientNonce = randomBytes(18).toString('base64');
  private readonly clientFirstBare = `n=*,r=${this.clientNonce}`;
  private expectedServerSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  clientFirst(): Buffer {
    return Buffer.from(`n,,${this.clientFirstBare}`);
  }

  clientFinal(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString('utf8');
    const attrs = new Map(serverFirst.split(',').map((p) => [p.slice(0, 1), p.slice(2)] as const));
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce?.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new PgGatewayError('upstream_protocol', 'the upstream sent a malformed SCRAM server-first-message');
    }
    // SASLprep is the identity for ASCII; PostgreSQL itself uses the raw bytes when prep fails.
    const salted = pbkdf2Sync(this.password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    for (let i = 0; i < 32; i++) signature[i]! ^= clientKey[i]!;
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    this.expectedServerSignature = createHmac('sha256', serverKey).update(authMessage).digest();
    return Buffer.from(`${withoutProof},p=${signature.toString('base64')}`);
  }

  verifyServerFinal(serverFinalBytes: Buffer): void {
    const text = serverFinalBytes.toString('utf8');
    const got = text.startsWith('v=') ? Buffer.from(text.slice(2), 'base64') : Buffer.alloc(0);
    const want = this.expectedServerSignature;
    if (!want || got.length !== want.length || !timingSafeEqual(got, want)) {
      throw new PgGatewayError('upstream_auth_refused', 'the upstream could not prove it knows the role credential (SCRAM server signature mismatch)');
    }
  }
}
