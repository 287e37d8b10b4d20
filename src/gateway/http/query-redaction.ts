/**
 * The query string as the audit records it: names kept, every value replaced
 * by `<redacted>` unless the role lists its name in `audit_query_values`. A
 * bare item without "=" could itself be a token, so it is redacted whole.
 */
export const REDACTED = '<redacted>';

export function redactQuery(rawQuery: string | null, keepValuesOf: readonly string[]): string | null {
  if (rawQuery === null) return null;
  if (rawQuery === '') return '';
  const keep = new Set(keepValuesOf);
  return rawQuery
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair === '' ? '' : REDACTED;
      const name = pair.slice(0, eq);
      return keep.has(decodeName(name)) ? pair : `${name}=${REDACTED}`;
    })
    .join('&');
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
