import { lexMysql } from './sql/lexer.js';

/**
 * The statement with its literals replaced by `?`, for `audit.statements:
 * redacted`: strings, numbers and hex/bit literals go; identifiers,
 * keywords and structure stay. Comments are dropped (they may hold data too).
 */
export function redactMysql(sql: string): string {
  const lexed = lexMysql(sql);
  if (!lexed.ok) return '[statement that could not be read; text redacted]';
  const text = lexed.normalized;
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      // A doubled quote continues the string.
      while (text[j + 1] === c) {
        j += 2;
        while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      }
      out += '?';
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      out += text.slice(i, end < 0 ? text.length : end + 1);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (/[0-9]/.test(c) && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? ' ')) {
      let j = i;
      while (j < text.length && /[0-9a-fA-FxXbB.eE]/.test(text[j]!)) j++;
      out += '?';
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out.replace(/\s+/g, ' ').trim();
}
