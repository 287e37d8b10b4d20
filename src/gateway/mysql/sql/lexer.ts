/**
 * The first pass over a statement's text, reading it the way the MySQL and
 * MariaDB servers do under the sql_mode the gateway pins (backslash escapes
 * on, `"` quoting strings, no ANSI_QUOTES, no IGNORE_SPACE):
 *
 * - `'…'` and `"…"` are strings where `\` escapes the next character and a
 *   doubled quote is a quote (`'a\''` is one string);
 * - `` `…` `` is an identifier where a doubled backtick is a backtick;
 * - `#…` and `-- …` run to the end of the line, but `--` only when followed by
 *   whitespace, a control character or the end (`1--x` is `1 - -x`);
 * - `/* … *\/` is a comment, except `/*!…*\/` and MariaDB's `/*M!…*\/`, whose
 *   content the server executes.
 *
 * The parser is then given the text with every comment replaced by a space,
 * so the parser and the server cannot disagree about what is a comment.
 * Executable comments and optimizer hints (`/*+`, which in MySQL 8 can set
 * session variables per statement) are refused outright, as are texts that
 * end inside a string or comment, and NUL bytes outside strings.
 */

export type LexResult =
  | { readonly ok: true; readonly normalized: string; readonly statements: number }
  | { readonly ok: false; readonly reason: string };

const isSpaceOrControl = (code: number): boolean => code <= 0x20 || code === 0x7f;

export function lexMysql(text: string): LexResult {
  const out: string[] = [];
  let from = 0;
  let statements = 0;
  let sawToken = false;
  const n = text.length;
  let i = 0;
  const cut = (start: number, end: number, replacement: string) => {
    out.push(text.slice(from, start), replacement);
    from = end;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x27 /* ' */ || c === 0x22 /* " */) {
      const end = endOfString(text, i, c);
      if (end < 0) return { ok: false, reason: 'a text that ends inside a string' };
      sawToken = true;
      i = end;
      continue;
    }
    if (c === 0x60 /* ` */) {
      const end = endOfIdentifier(text, i);
      if (end < 0) return { ok: false, reason: 'a text that ends inside a quoted identifier' };
      sawToken = true;
      i = end;
      continue;
    }
    if (c === 0x23 /* # */ || (c === 0x2d && text.charCodeAt(i + 1) === 0x2d && (i + 2 >= n || isSpaceOrControl(text.charCodeAt(i + 2))))) {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      cut(i, end, ' ');
      i = end;
      continue;
    }
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* /* */) {
      const next = text.charCodeAt(i + 2);
      if (next === 0x21 /* ! */ || (next === 0x4d /* M */ && text.charCodeAt(i + 3) === 0x21)) {
        return { ok: false, reason: 'executable comments (/*! … */, /*M! … */)' };
      }
      if (next === 0x2b /* + */) return { ok: false, reason: 'optimizer hints (/*+ … */)' };
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return { ok: false, reason: 'a text that ends inside a comment' };
      cut(i, end + 2, ' ');
      i = end + 2;
      continue;
    }
    if (c === 0) return { ok: false, reason: 'a NUL byte outside a string' };
    if (c === 0x3b /* ; */) {
      if (sawToken) statements++;
      sawToken = false;
      i++;
      continue;
    }
    if (!isSpaceOrControl(c)) sawToken = true;
    i++;
  }
  if (sawToken) statements++;
  out.push(text.slice(from));
  return { ok: true, normalized: out.join(''), statements };
}

/** Index just past the closing quote, or -1. */
export function endOfString(text: string, start: number, quote: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i++;
      continue;
    }
    if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) {
        i++;
        continue;
      }
      return i + 1;
    }
  }
  return -1;
}

/** Index just past the closing backtick, or -1. */
export function endOfIdentifier(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text.charCodeAt(i) === 0x60) {
      if (text.charCodeAt(i + 1) === 0x60) {
        i++;
        continue;
      }
      return i + 1;
    }
  }
  return -1;
}
