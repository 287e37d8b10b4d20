import type { IncomingMessage } from 'node:http';
import { headerValues } from './request-check.js';

/**
 * Method overrides inside form bodies. Rails, Laravel, Symfony and Express's
 * method-override read a `_method` field of a POSTed HTML form as the method
 * to run (`_method=DELETE`), so a role that allows `POST /x` would let a form
 * delete `/x`. Rules judge the method on the request line only; a form body
 * (`application/x-www-form-urlencoded` or `multipart/form-data`) is therefore
 * read whole before anything is forwarded, and one with a `_method` field is
 * refused like the override headers and `?_method=` — whatever method it
 * names, even one the role allows (the override says the upstream routes on
 * something other than what the audit shows). Other bodies are streamed
 * unread.
 */

/** The most of a form body read before it is judged; a larger form is refused (413) rather than forwarded unread. */
export const FORM_SCAN_BYTES = 1024 * 1024;

export type FormKind = 'urlencoded' | 'multipart';

export function formKind(rawHeaders: readonly string[]): FormKind | null {
  const types = headerValues(rawHeaders, 'content-type').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.includes('application/x-www-form-urlencoded')) return 'urlencoded';
  if (types.includes('multipart/form-data')) return 'multipart';
  return null;
}

/** The whole body, or null once it passes `limit` (the rest is not read). */
export function readWhole(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        return resolve(null);
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

const OVERRIDE_FIELD = '_method';
// A multipart part's name: `Content-Disposition: form-data; name="_method"` (quoted or not, any case).
const MULTIPART_OVERRIDE = /^content-disposition:[^\r\n]*;\s*name\s*=\s*"?\s*_method\s*"?\s*(?:;|\r?$)/im;

/** True when the form carries a method override field. */
export function hasFormOverride(kind: FormKind, body: Buffer): boolean {
  if (kind === 'multipart') return MULTIPART_OVERRIDE.test(body.toString('latin1'));
  for (const pair of body.toString('latin1').split('&')) {
    const name = pair.split('=')[0]!.replace(/\+/g, ' ');
    let decoded: string;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      decoded = name;
    }
    if (decoded.trim().toLowerCase() === OVERRIDE_FIELD) return true;
  }
  return false;
}
