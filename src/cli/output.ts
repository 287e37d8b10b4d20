/**
 * How the CLI shows things to a person: one table renderer, colour only on a
 * terminal, ISO-8601 UTC times with a relative hint, and user text escaped so
 * it cannot rewrite the screen or mislead a reviewer.
 */

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type Tone = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const SGR: Record<Tone, [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };

interface ColourStream {
  readonly isTTY?: boolean;
}

/**
 * Colour on a terminal only. `FORCE_COLOR` (anything but 0/false) forces it, as
 * Node's own `tty` does, and wins over `NO_COLOR` (https://no-color.org), which
 * turns it off.
 */
export function colourEnabled(stream: ColourStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase());
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function paint(text: string, tone: Tone | undefined, colour = colourEnabled()): string {
  if (!tone || !colour || text === '') return text;
  const [on, off] = SGR[tone];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

// Characters that move the cursor, clear the screen or reorder text on display (Trojan Source, CVE-2021-42574).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const MISLEADING = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0', '\x1b': '\\e' };

/** User text as it can be shown safely: control characters and direction overrides become visible escapes. */
export function visible(text: string): string {
  return text.replace(MISLEADING, (c) => {
    if (NAMED[c]) return NAMED[c];
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Multi-line text (SQL above all) on one line: whitespace runs collapsed, cut with `…` past `max` characters. */
export function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, Math.max(1, max - 1)).trimEnd()}…` : flat;
}

/** A value as `"…"` with quotes, backslashes and anything invisible escaped. */
export function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${visible(text.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

/** An audit event's details as `key="value"` pairs, in the order they were written; empty values left out. */
export function keyValues(details: Record<string, unknown>, first: readonly string[] = ['role']): string {
  const keys = [...first.filter((k) => k in details), ...Object.keys(details).filter((k) => !first.includes(k))];
  return keys
    .filter((k) => details[k] !== null && details[k] !== undefined && details[k] !== '')
    .map((k) => `${visible(k)}=${quoted(details[k])}`)
    .join(' ');
}

export type Cell = string | { readonly text: string; readonly tone?: Tone };

const cellText = (c: Cell) => visible(typeof c === 'string' ? c : c.text);
const cellTone = (c: Cell) => (typeof c === 'string' ? undefined : c.tone);

/**
 * The one table renderer: a header row, columns aligned on the visible text
 * (colour codes are added after padding, so they never shift a column), the
 * last column unpadded.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], colour = colourEnabled()): string[] {
  const texts = rows.map((r) => r.map(cellText));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], tones: readonly (Tone | undefined)[]) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
        return tones[i] ? paint(c, tones[i], colour) + padded.slice(c.length) : padded;
      })
      .join('  ')
      .trimEnd();
  return [
    line(headers.map((h) => h.toUpperCase()), headers.map(() => 'bold' as const)),
    ...texts.map((t, i) => line(t, rows[i]!.map(cellTone))),
  ];
}

/** Prints rows as an aligned table with a header; an empty list prints `empty` instead. */
export function printTable(headers: readonly string[], rows: readonly (readonly Cell[])[], empty: string): void {
  if (rows.length === 0) {
    console.log(paint(empty, 'dim'));
    return;
  }
  console.log(renderTable(headers, rows).join('\n'));
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A span as a person says it, rounded down: `45s`, `29m`, `1h30m`, `2d4h`. */
function roughly(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  if (d > 0) return `${d}d${h ? `${h}h` : ''}`;
  if (h > 0) return `${h}h${m ? `${m}m` : ''}`;
  return m > 0 ? `${m}m` : `${seconds}s`;
}

/** `in 29m`, `3m ago`: how a person reads a deadline at a glance. */
export function relative(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 1) return 'now';
  return seconds > 0 ? `in ${roughly(seconds)}` : `${roughly(-seconds)} ago`;
}

/** ISO-8601 UTC to the second: `2026-03-01T12:30:00Z`. */
export function isoTime(iso: string | null): string {
  if (!iso) return '-';
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-03-01T12:30:00Z (in 29m)`: the exact time, and what it means now. */
export function when(iso: string | null, now = Date.now()): string {
  return iso ? `${isoTime(iso)} (${relative(iso, now)})` : '-';
}
