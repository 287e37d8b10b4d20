import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

describe('durations', () => {
  it.each([
    ['1m30s', 90],
    ['45s', 45],
    ['15m', 900],
    ['1h30m', 5400],
    ['4h', 14400],
    ['2d', 172800],
  ])('reads %s as %i seconds and writes it back', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each(['', '10', '1x', '-5m', '0m', '1m1h', 'h'])('refuses %j with the accepted forms', (text) => {
    expect(() => parseDuration(text)).toThrow(/write it like 90s|is zero/);
  });
});
