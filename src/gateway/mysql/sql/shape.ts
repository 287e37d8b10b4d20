import { endOfIdentifier, endOfString } from './lexer.js';

/**
 * A statement's shape: its text (as the lexer normalized it) with plain
 * number and string literals replaced by `?`, the placeholder of a prepared
 * statement. `SELECT c FROM t WHERE id = 7` and `… id = 8` share one shape,
 * so the policy parses it once instead of once per id (sysbench, ORMs
 * without server-side prepares).
 *
 * Why a shape's decision holds for every text of that shape: the shape is
 * exactly what a client may send as COM_STMT_PREPARE and then run with any
 * values bound, so an allowed shape already lets the client run each of its
 * texts. The policy never reads a literal's value (only names: tables,
 * functions, variables). Only statements led by a data keyword qualify
 * (SET, USE and the rest read their literals: `SET NAMES 'latin1'`), and a
 * caller uses a shape's decision only when it allows; a refused shape (a
 * literal where `?` does not parse, say) sends the text itself to the policy.
 * Literals glued to a word (`_latin1'a'`, `x'41'`, `N'a'`, `1e5`, a name
 * like `9lives`) are kept as written.
 */

const DATA_STATEMENTS: ReadonlySet<string> = new Set(['select', 'insert', 'update', 'delete', 'replace', 'with']);

const isWordChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c === 0x40 || c === 0x2e || c >= 0x80;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The shape of `normalized` (lexMysql's output for one statement), or null when it does not qualify or has no literal. */
export function statementShape(normalized: string): string | null {
  const lead = /^[\s(]*([A-Za-z]+)/.exec(normalized);
  if (!lead || !DATA_STATEMENTS.has(lead[1]!.toLowerCase())) return null;
  const out: string[] = [];
  let from = 0;
  let replaced = false;
  const n = normalized.length;
  let i = 0;
  while (i < n) {
    const c = normalized.charCodeAt(i);
    const glued = i > 0 && isWordChar(normalized.charCodeAt(i - 1));
    if (c === 0x27 /* ' */ || c === 0x22 /* " */ || c === 0x60 /* ` */) {
      const end = c === 0x60 ? endOfIdentifier(normalized, i) : endOfString(normalized, i, c);
      if (end < 0) return null;
      if (c !== 0x60 && !glued) {
        out.push(normalized.slice(from, i), '?');
        from = end;
        replaced = true;
      }
      i = end;
      continue;
    }
    if (isDigit(c) && !glued) {
      let end = i;
      while (end < n && isDigit(normalized.charCodeAt(end))) end++;
      if (normalized.charCodeAt(end) === 0x2e && isDigit(normalized.charCodeAt(end + 1))) {
        end++;
        while (end < n && isDigit(normalized.charCodeAt(end))) end++;
      }
      if (end < n && isWordChar(normalized.charCodeAt(end))) {
        // 1e5, 0x1F, 9lives, 1.5.x: kept as written.
        while (end < n && isWordChar(normalized.charCodeAt(end))) end++;
      } else {
        out.push(normalized.slice(from, i), '?');
        from = end;
        replaced = true;
      }
      i = end;
      continue;
    }
    i++;
  }
  if (!replaced) return null;
  out.push(normalized.slice(from));
  return out.join('');
}
