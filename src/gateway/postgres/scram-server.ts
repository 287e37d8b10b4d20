import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramVerifier } from '../../core/secret.js';
import { PgGatewayError } from './errors.js';

/**
 * Server side of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it, run
 * against several candidate verifiers at once: a user may hold more than one
 * grant on a resource, all sharing one salt, and the proof tells us which.
 * The user name inside the SCRAM message is ignored, as PostgreSQL does: the
 * startup packet's `user` is the identity.
 */

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';

export interface ScramServerFirst {
  /** Bytes for AuthenticationSASLContinue. */
  readonly serverFirst: Buffer;
  readonly state: ScramServerState;
}

export interface ScramServerState {
  readonly gs2Header: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly nonce: string;
}

const bad = (why: string) => new PgGatewayError('protocol_violation', `malformed SCRAM message: ${why}`);

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw bad(`attribute "${part.slice(0, 20)}"`);
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** Handles client-first-message; `mechanism` is the one the client picked in SASLInitialResponse. */
export function scramServerFirst(mechanism: string, clientFirst: string, salt: Buffer, iterations: number): ScramServerFirst {
  if (mechanism !== SCRAM_MECHANISM) {
    throw new PgGatewayError('protocol_violation', `SASL mechanism ${JSON.stringify(mechanism.slice(0, 40))} is not offered`);
  }
  // gs2-header is `flag,authzid,`; `p` (channel binding) is refused because PLUS is not offered.
  const firstComma = clientFirst.indexOf(',');
  const flagEnd = clientFirst.indexOf(',', firstComma + 1);
  const flag = clientFirst.slice(0, firstComma);
  if ((flag !== 'n' && flag !== 'y') || flagEnd < 0) throw bad('client-first-message (channel binding is not offered)');
  const gs2Header = clientFirst.slice(0, flagEnd + 1);
  const clientFirstBare = clientFirst.slice(flagEnd + 1);
  const clientNonce = attributes(clientFirstBare).get('r');
  if (!clientNonce || !/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) throw bad('client nonce');
  const nonce = clientNonce + randomBytes(18).toString('base64');
  const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
  return { serverFirst: Buffer.from(serverFirst), state: { gs2Header, clientFirstBare, serverFirst, nonce } };
}

export interface ScramServerFinal<T> {
  /** The candidate whose verifier the proof matched. */
  readonly match: T;
  /** Bytes for AuthenticationSASLFinal (`v=<server signature>`). */
  readonly serverFinal: Buffer;
}

/** Handles client-final-message; returns the first candidate whose StoredKey the proof opens, or null. */
export function scramServerFinal<T extends { readonly verifier: ScramVerifier }>(
  state: ScramServerState,
  clientFinal: string,
  candidates: readonly T[],
): ScramServerFinal<T> | null {
  const proofAt = clientFinal.lastIndexOf(',p=');
  if (proofAt < 0) throw bad('client-final-message has no proof');
  const withoutProof = clientFinal.slice(0, proofAt);
  const attrs = attributes(withoutProof);
  if (attrs.get('c') !== Buffer.from(state.gs2Header).toString('base64')) throw bad('channel binding data');
  if (attrs.get('r') !== state.nonce) throw bad('nonce does not match');
  const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
  if (proof.length !== 32) return null;

  const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
  let found: T | null = null;
  // Every candidate is checked, so timing does not tell which one matched.
  for (const candidate of candidates) {
    const v = candidate.verifier;
    const signature = createHmac('sha256', v.storedKey).update(authMessage).digest();
    for (let i = 0; i < 32; i++) signature[i]! ^= proof[i]!;
    const storedKey = createHash('sha256').update(signature).digest();
    if (v.storedKey.length === 32 && timingSafeEqual(storedKey, v.storedKey) && !found) found = candidate;
  }
  if (!found) return null;
  const serverSignature = createHmac('sha256', found.verifier.serverKey).update(authMessage).digest('base64');
  return { match: found, serverFinal: Buffer.from(`v=${serverSignature}`) };
}
