import { invalid } from './errors.js';

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses `90s`, `15m`, `1h30m`, `4h`, `2d` into whole seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const m = DURATION.exec(trimmed);
  if (!trimmed || !m || m.slice(1).every((p) => p === undefined)) {
    throw invalid('invalid_duration', `"${text}" is not a duration; write it like 90s, 15m, 1h30m, 4h or 2d`);
  }
  const [, d, h, min, s] = m;
  const seconds =
    Number(d ?? 0) * UNIT_SECONDS.d + Number(h ?? 0) * UNIT_SECONDS.h + Number(min ?? 0) * UNIT_SECONDS.m + Number(s ?? 0);
  if (seconds <= 0) throw invalid('invalid_duration', `"${text}" is zero; a duration must be longer than that`);
  return seconds;
}

/** The shortest exact spelling: 5400 → `1h30m`. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
