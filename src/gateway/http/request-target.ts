/**
 * Path safety: turns the request-target a client sent into the one canonical,
 * decoded path the role's rules are matched against, or refuses it.
 *
 * The bytes sent are what the upstream receives (RabbitMQ needs `%2F`, the
 * default vhost, forwarded as sent), so a path is only accepted when every
 * reasonable upstream reads it the way the rules do. Anything that servers are
 * known to read differently (dot segments, encoded dots, double encoding,
 * backslashes, `;` parameters, empty segments, control characters, invalid
 * UTF-8, fragments, absolute-form targets) is refused rather than guessed.
 * The query string is kept apart: it is forwarded as sent and never matched.
 */

export type TargetRefusal =
  | 'target_form'
  | 'fragment'
  | 'raw_character'
  | 'bad_percent'
  | 'bad_utf8'
  | 'dot_segment'
  | 'empty_segment'
  | 'encoded_slash'
  | 'backslash'
  | 'control_character'
  | 'double_encoding'
  | 'lookalike';

export interface RequestTarget {
  /** Decoded path segments, the only thing path rules are matched against. */
  readonly segments: readonly string[];
  /** The path exactly as sent (still percent-encoded): what the upstream receives. */
  readonly rawPath: string;
  /** The query as sent, without `?`; null when there is none. Forwarded, never matched. */
  readonly rawQuery: string | null;
  /** The canonical spelling of the decoded path (audit, refusal messages). */
  readonly path: string;
}

export type TargetReading =
  | { readonly ok: true; readonly target: RequestTarget }
  | { readonly ok: false; readonly refusal: TargetRefusal; readonly why: string };

export interface TargetOptions {
  /** What `%2F` means to the upstream (see Upstream.encodedSlash). */
  readonly encodedSlash: 'segment' | 'refuse';
}

const refuse = (refusal: TargetRefusal, why: string): TargetReading => ({ ok: false, refusal, why });

// RFC 3986 pchar without ";" (a path parameter to Tomcat, Jetty and Spring, which
// drop it before routing), plus "/" and "%", plus the few characters browsers send
// unencoded that no server gives structure to. Everything else (";", "\", space,
// non-ASCII bytes) must arrive percent-encoded or is refused.
const RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%|^[\]{}"<>`]*$/;
const PERCENT = /%(?![0-9A-Fa-f]{2})/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const STILL_ENCODED = /%[0-9A-Fa-f]{2}/;

export function readTarget(raw: string, options: TargetOptions): TargetReading {
  if (!raw.startsWith('/')) {
    return refuse('target_form', 'only origin-form request targets ("/path") are accepted; absolute-form, authority-form and "*" are refused');
  }
  if (raw.includes('#')) return refuse('fragment', 'a request target never carries a "#" fragment');
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? null : raw.slice(q + 1);
  if (!RAW_PATH.test(rawPath)) {
    if (rawPath.includes(';')) return refuse('raw_character', 'a ";" path parameter is read as a separator by some servers; send it encoded as %3B');
    if (rawPath.includes('\\')) return refuse('backslash', 'a "\\" is read as "/" by some servers');
    return refuse('raw_character', 'the path has a character that must be percent-encoded');
  }
  if (PERCENT.test(rawPath)) return refuse('bad_percent', 'a "%" in the path is not followed by two hex digits');
  const rawSegments = rawPath.split('/').slice(1);
  const segments: string[] = [];
  for (let i = 0; i < rawSegments.length; i++) {
    const read = readSegment(rawSegments[i]!, i === rawSegments.length - 1, options);
    if (typeof read !== 'string') return read;
    segments.push(read);
  }
  return { ok: true, target: { segments, rawPath, rawQuery, path: canonicalPath(segments) } };
}

function readSegment(raw: string, last: boolean, options: TargetOptions): string | TargetReading {
  // A trailing slash is a real (empty) last segment; "//" in the middle is collapsed by some servers and not others.
  if (raw === '') return last ? '' : refuse('empty_segment', 'an empty path segment ("//") is read differently by different servers');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return refuse('bad_utf8', 'the path decodes to invalid UTF-8 (for example an overlong encoding)');
  }
  if (isDot(decoded)) return refuse('dot_segment', 'a "." or ".." segment, plain or percent-encoded, is refused');
  if (CONTROL.test(decoded)) return refuse('control_character', 'the path decodes to a control character');
  if (decoded.includes('\\')) return refuse('backslash', 'a "\\" (also as %5C) is read as "/" by some servers');
  if (STILL_ENCODED.test(decoded)) return refuse('double_encoding', 'the path is percent-encoded twice (%25 followed by hex digits)');
  if (decoded.includes('/')) {
    if (options.encodedSlash === 'refuse') return refuse('encoded_slash', 'this upstream reads %2F as "/", so an encoded slash is refused');
    if (decoded.split('/').some(isDot)) return refuse('dot_segment', 'an encoded slash next to "." or ".." could climb the path at a server that decodes it');
  }
  const folded = decoded.normalize('NFKC');
  if (folded !== decoded && (isDot(folded) || /[/\\]/.test(folded) || folded.split('/').some(isDot))) {
    return refuse('lookalike', 'the path has a Unicode look-alike of ".", "/" or "\\"');
  }
  return decoded;
}

function isDot(s: string): boolean {
  return s === '.' || s === '..';
}

/** Decoded segments spelled one way: `%2f`, `%2F` and `/`-in-a-segment all read `%2F`; `%61` reads `a`. */
export function canonicalPath(segments: readonly string[]): string {
  return '/' + segments.map(canonicalSegment).join('/');
}

const KEEP = /[A-Za-z0-9\-._~!$&'()*+,=:@]/;

function canonicalSegment(segment: string): string {
  let out = '';
  for (const ch of segment) {
    if (KEEP.test(ch)) out += ch;
    else out += encodeURIComponent(ch);
  }
  return out;
}
