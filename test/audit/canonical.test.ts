import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { chainRows, hashRow } from '../../src/audit/chain.js';

/** The first, obviously-correct encoding: the fast one must match it byte for byte, or old chains stop verifying. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value === undefined ? null : value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = ['a', 'b', 'B', 'text', 'duration_ms', 'é', '😀', 'z\u0000', '', '10', '9', 'command_tag', 'grant'];

function value(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.35) {
    const k = Math.floor(rnd() * 7);
    return [null, undefined, true, Math.floor(rnd() * 1e6) / 7, `s${rnd()}"\\\n\u2028`, -0, new Date(Math.floor(rnd() * 2e12))][k];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rnd() * 6); i > 0; i--) o[KEYS[Math.floor(rnd() * KEYS.length)]!] = value(rnd, depth + 1);
  return o;
}

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members, keeps undefined array items as null', () => {
    expect(canonicalJson({ b: 1, a: [undefined, 'x'], c: undefined, A: { z: null, y: 2 } })).toBe('{"A":{"y":2,"z":null},"a":[null,"x"],"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('orders keys by UTF-16 code units, like the original comparator', () => {
    expect(canonicalJson({ '😀': 1, é: 2, Z: 3, a: 4, '10': 5, '9': 6 })).toBe(reference({ '😀': 1, é: 2, Z: 3, a: 4, '10': 5, '9': 6 }));
  });

  it('encodes 5,000 random values exactly as the reference encoding does', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const v = value(random(seed), 0);
      expect(canonicalJson(v), `seed ${seed}`).toBe(reference(v));
    }
  });
});

describe('hashRow', () => {
  it('hashes the canonical encoding of the row, as chains written before this encoder did', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rnd = random(seed);
      const row = {
        seq: seed,
        at: new Date(Math.floor(rnd() * 2e12)).toISOString(),
        actor: `u${rnd()}`,
        action: 'statement',
        target: 'ses_1',
        subject_user: rnd() < 0.5 ? null : 'bob "the" \\ admin',
        resource: rnd() < 0.5 ? null : 'orders-db',
        details: canonicalJson(value(rnd, 0) ?? {}),
        prev_hash: '0'.repeat(64),
      };
      const expected = createHash('sha256')
        .update(reference([row.seq, row.at, row.actor, row.action, row.target, row.subject_user, row.resource, row.details, row.prev_hash]))
        .digest('hex');
      expect(hashRow(row), `seed ${seed}`).toBe(expected);
    }
  });

  it('chains statement details the same whatever order their keys were built in', () => {
    const details = { text: 'select 1', outcome: 'ok', grant: 'grt_1', duration_ms: 0.5, rows: 1, command_tag: 'SELECT 1', reason: undefined };
    const sorted = { command_tag: 'SELECT 1', duration_ms: 0.5, grant: 'grt_1', outcome: 'ok', reason: undefined, rows: 1, text: 'select 1' };
    const at = new Date(0);
    const a = chainRows(undefined, at, [{ actor: 'a', action: 'statement', target: 't', details }]);
    const b = chainRows(undefined, at, [{ actor: 'a', action: 'statement', target: 't', details: sorted }]);
    expect(a.rows[0]!.details).toBe(b.rows[0]!.details);
    expect(a.head).toBe(b.head);
  });
});
