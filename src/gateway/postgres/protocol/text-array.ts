/**
 * Parses a one-dimensional PostgreSQL text-format array of names, e.g.
 * `{pg_catalog,public,"my schema"}`, as returned by current_schemas().
 */
export function parseTextArray(text: string): string[] {
  if (!text.startsWith('{') || !text.endsWith('}')) return [];
  const out: string[] = [];
  let i = 1;
  const end = text.length - 1;
  while (i < end) {
    let item = '';
    if (text[i] === '"') {
      i++;
      while (i < end && text[i] !== '"') {
        if (text[i] === '\\') i++;
        item += text[i] ?? '';
        i++;
      }
      i++; // closing quote
    } else {
      while (i < end && text[i] !== ',') item += text[i++];
    }
    out.push(item);
    if (text[i] === ',') i++;
  }
  return out;
}
