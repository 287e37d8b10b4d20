import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditTextFor } from '../../../src/gateway/kernel/audit-text.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('what the audit keeps of a statement', () => {
  it('keeps a text under the cap as it is, and only the start of a longer one with the whole text\'s size and SHA-256', () => {
    const keep = auditTextFor('text', (s) => s, 1024);
    expect(keep('select 1')).toEqual({ text: 'select 1' });
    const big = `select '${'é'.repeat(5000)}'`;
    const kept = keep(big)!;
    expect(Buffer.byteLength(kept.text, 'utf8')).toBeLessThanOrEqual(1024);
    expect(big.startsWith(kept.text)).toBe(true);
    expect(kept.whole).toEqual({ bytes: Buffer.byteLength(big, 'utf8'), sha256: sha256(big) });
  });

  it('redacts with the adapter\'s dialect, and keeps nothing when off', () => {
    expect(auditTextFor('redacted', () => 'select $1')('select 42')).toEqual({ text: 'select $1' });
    expect(auditTextFor('off', (s) => s)('select 42')).toBeUndefined();
  });
});
