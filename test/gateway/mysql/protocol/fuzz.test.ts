import { describe, expect, it } from 'vitest';
import { fuzzPacketDecoder } from '../../../../src/bench/mysql-packet-fuzz.js';

describe('MySQL packet decoder under random input', () => {
  it('never throws anything but a protocol error, for any bytes (short run; npm run bench-style script runs 1M)', () => {
    const started = Date.now();
    const result = fuzzPacketDecoder({ inputs: 10_000, seed: 20261129 });
    expect(result.unexpected).toEqual([]);
    expect(result.inputs).toBe(10_000);
    expect(result.packets + result.violations).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
