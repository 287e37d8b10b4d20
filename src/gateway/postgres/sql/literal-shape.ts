/**
 * The "shape" of a query: its text with numeric literals masked, so
 * `... WHERE aid = 17` and `... WHERE aid = 42` share one cached decision
 * instead of each paying a full parse. A policy decision never depends on a
 * number's value (it depends on statement kinds, relations, functions and
 * setting names), but to keep the reasoning simple this is applied only to
 * plain queries and DML, and anything the small lexer below is not sure of
 * returns null (no shape; the exact-text cache and the parser decide).
 */

const QUERY_START = /^\s*(select|with|values|table|insert|update|delete)\b/i;
/** Quote forms whose contents the lexer would have to decode (escapes, unicode, bit strings) or that hide `$` parameters. */
const UNSURE = /[\\$]|\b[eubxn]&?'|u&"/i;

const isIdentChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isDigit = (c: number) => c >= 48 && c <= 57;

export function literalShape(sql: string): string | null {
  if (!QUERY_START.test(sql) || UNSURE.test(sql)) return null;
  let out = '';
  let from = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39 /* ' */ || c === 34 /* " */) {
      // Quoted string or identifier; a doubled quote is an escaped one.
      let j = i + 1;
      for (;;) {
        if (j >= n) return null;
        if (sql.charCodeAt(j) === c) {
          if (sql.charCodeAt(j + 1) === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      // Comments nest in PostgreSQL.
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= n) return null;
        if (sql.charCodeAt(j) === 47 && sql.charCodeAt(j + 1) === 42) {
          depth++;
          j += 2;
        } else if (sql.charCodeAt(j) === 42 && sql.charCodeAt(j + 1) === 47) {
          depth--;
          j += 2;
        } else j++;
      }
      i = j;
    } else if (isDigit(c) && (i === 0 || !isIdentChar(sql.charCodeAt(i - 1)))) {
      let j = i;
      while (j < n && (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46 /* . */)) j++;
      if (j < n && (sql.charCodeAt(j) === 101 || sql.charCodeAt(j) === 69) /* e E */) {
        let k = j + 1;
        if (sql.charCodeAt(k) === 43 || sql.charCodeAt(k) === 45) k++;
        if (isDigit(sql.charCodeAt(k))) {
          j = k;
          while (j < n && isDigit(sql.charCodeAt(j))) j++;
        }
      }
      out += sql.slice(from, i) + '\u0002';
      from = i = j;
    } else if (isIdentChar(c)) {
      // Skip the whole identifier or keyword, digits included (t1, col_2).
      while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
    } else {
      i++;
    }
  }
  return out + sql.slice(from);
}
