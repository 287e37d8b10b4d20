import { createHash } from 'node:crypto';

/**
 * MariaDB's client_ed25519: an Ed25519 signature of the server's 32-byte
 * nonce with a key derived from the password itself (SHA-512 of the
 * password in place of the 32-byte seed standard Ed25519 hashes), so
 * node:crypto's seed-based keys cannot produce it. Plain curve arithmetic
 * on BigInt, RFC 8032 section 5.1; runs once per upstream login.
 */

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inv(121666n));
const BASE: Point = [
  15112221349535400772501151409588531511454012693041857206046113283949847762202n,
  46316835694926478169428394003475163141307993866256225615783033603165251855960n,
  1n,
  0n,
];
BASE[3] = mod(BASE[0] * BASE[1]);

type Point = [bigint, bigint, bigint, bigint];

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r >= 0n ? r : r + m;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return result;
}

function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** Extended twisted Edwards addition (RFC 8032, 5.1.4). */
function add(p: Point, q: Point): Point {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(2n * p[3] * q[3] * D);
  const d = mod(2n * p[2] * q[2]);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(scalar: bigint, point: Point): Point {
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = point;
  let s = scalar;
  while (s > 0n) {
    if (s & 1n) result = add(result, addend);
    addend = add(addend, addend);
    s >>= 1n;
  }
  return result;
}

function encodePoint(p: Point): Buffer {
  const zi = inv(p[2]);
  const x = mod(p[0] * zi);
  const y = mod(p[1] * zi);
  const out = Buffer.alloc(32);
  let v = y | ((x & 1n) << 255n);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function littleEndian(bytes: Buffer): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

const sha512 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The 64-byte signature a MariaDB client sends for `password` and the server's `nonce`. */
export function ed25519Sign(password: string, nonce: Buffer): Buffer {
  const az = sha512(Buffer.from(password, 'utf8'));
  const scalarBytes = Buffer.from(az.subarray(0, 32));
  scalarBytes[0]! &= 248;
  scalarBytes[31]! &= 127;
  scalarBytes[31]! |= 64;
  const a = littleEndian(scalarBytes);
  const publicKey = encodePoint(multiply(a, BASE));
  const r = mod(littleEndian(sha512(az.subarray(32), nonce)), L);
  const R = encodePoint(multiply(r, BASE));
  const k = mod(littleEndian(sha512(R, publicKey, nonce)), L);
  const s = mod(r + k * a, L);
  const S = Buffer.alloc(32);
  let v = s;
  for (let i = 0; i < 32; i++) {
    S[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return Buffer.concat([R, S]);
}
