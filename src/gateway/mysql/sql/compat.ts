import { endOfIdentifier, endOfString } from './lexer.js';

/**
 * MySQL forms sqlparser-rs does not read, put in words it does, without
 * changing which tables, functions or statement kind the policy sees:
 *
 * - `GROUP BY … WITH ROLLUP`: the two words go (they add summary rows, read
 *   nothing more); kept when a CTE named `rollup` follows (`WITH rollup AS`).
 * - `LOCK IN SHARE MODE` is `FOR SHARE`: a locking read, which needs write.
 * - `SET @a := 1`: in SET, `:=` is `=`.
 * - `TABLE t …` (MySQL 8) is `SELECT * FROM t …`.
 * - `CHECK`, `OPTIMIZE`, `REPAIR TABLE`: maintenance that locks, rebuilds or
 *   rewrites tables; not parsed, judged opaque (admin, never with table
 *   restrictions).
 *
 * Only words outside strings, quoted identifiers and comments (already gone)
 * are looked at. Also names, for a refusal, the forms known to stay unread.
 */

interface Token {
  readonly start: number;
  readonly end: number;
  /** Upper-cased word, `:=`, or the character. */
  readonly text: string;
  readonly word: boolean;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = c === '`' ? endOfIdentifier(text, i) : endOfString(text, i, c.charCodeAt(0));
      if (end < 0) return out;
      out.push({ start: i, end, text: c, word: false });
      i = end;
      continue;
    }
    if (/[A-Za-z0-9_$@]/.test(c)) {
      let end = i + 1;
      while (end < text.length && /[A-Za-z0-9_$@]/.test(text[end]!)) end++;
      out.push({ start: i, end, text: text.slice(i, end).toUpperCase(), word: true });
      i = end;
      continue;
    }
    if (c === ':' && text[i + 1] === '=') {
      out.push({ start: i, end: i + 2, text: ':=', word: false });
      i += 2;
      continue;
    }
    if (!/\s/.test(c)) out.push({ start: i, end: i + 1, text: c, word: false });
    i++;
  }
  return out;
}

export type ParserText = { readonly text: string } | { readonly maintenance: string };

const MAINTENANCE = new Set(['CHECK', 'OPTIMIZE', 'REPAIR']);

/** The text to give the parser (see above), or the maintenance statement it stands for. */
export function forParser(normalized: string): ParserText {
  const t = tokens(normalized);
  const first = t[0]?.text;
  if (first !== undefined && MAINTENANCE.has(first)) {
    const next = t.slice(1, 3).map((x) => x.text);
    if (next.includes('TABLE') || next.includes('TABLES')) return { maintenance: `${first} TABLE` };
  }
  const edits: { start: number; end: number; text: string }[] = [];
  if (first === 'TABLE' && t[1] && (t[1].word || t[1].text === '`')) edits.push({ start: t[0]!.start, end: t[0]!.end, text: 'SELECT * FROM' });
  for (let k = 0; k < t.length; k++) {
    const w = (n: number) => t[k + n]?.text;
    if (w(0) === 'WITH' && w(1) === 'ROLLUP' && w(2) !== 'AS' && w(2) !== '(') edits.push({ start: t[k]!.start, end: t[k + 1]!.end, text: ' ' });
    if (w(0) === 'LOCK' && w(1) === 'IN' && w(2) === 'SHARE' && w(3) === 'MODE') edits.push({ start: t[k]!.start, end: t[k + 3]!.end, text: 'FOR SHARE' });
    if (first === 'SET' && w(0) === ':=') edits.push({ start: t[k]!.start, end: t[k]!.end, text: '=' });
  }
  if (edits.length === 0) return { text: normalized };
  let out = '';
  let from = 0;
  for (const e of edits) {
    out += normalized.slice(from, e.start) + e.text;
    from = e.end;
  }
  return { text: out + normalized.slice(from) };
}

const UNREAD: readonly [RegExp, string][] = [
  [/\bFOR SYSTEM_TIME\b/, 'FOR SYSTEM_TIME (the history of system-versioned tables) is not read by airlock yet'],
  [/\bAS OF\b/, 'AS OF (the history of system-versioned tables) is not read by airlock yet'],
  [/\bSET STATEMENT\b/, 'SET STATEMENT … FOR is not read by airlock: send the SET and the statement apart'],
];

/** A plain reason for a statement the parser refused, when it is a form known to stay unread. */
export function unreadForm(normalized: string): string | undefined {
  const words = tokens(normalized)
    .filter((x) => x.word)
    .map((x) => x.text)
    .join(' ');
  return UNREAD.find(([re]) => re.test(words))?.[1];
}
