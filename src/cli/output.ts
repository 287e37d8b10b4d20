import { formatDuration } from '../core/duration.js';

/** Prints rows as an aligned table with a header; an empty list prints `empty` instead. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): void {
  if (rows.length === 0) {
    console.log(empty);
    return;
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(headers.map((h) => h.toUpperCase())));
  for (const r of rows) console.log(line(r));
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `in 29m`, `3m ago`: how a person reads a deadline at a glance. */
export function relative(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 1) return 'now';
  return seconds > 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
}

/** `14:32:05Z` for today, the full date otherwise. */
export function shortTime(iso: string | null): string {
  if (!iso) return '-';
  const today = new Date().toISOString().slice(0, 10);
  return iso.startsWith(today) ? `${iso.slice(11, 19)}Z` : `${iso.slice(0, 16).replace('T', ' ')}Z`;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
