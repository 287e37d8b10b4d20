import { AirlockError } from '../core/errors.js';

const LOOPBACK = /^(?:localhost|[^.]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The server's URL as typed by a person: `localhost:8700` and `127.0.0.1:8700`
 * mean plain http (a loopback server, as the demo and `airlock server` start
 * it); any other host without a scheme means https, since a token must not
 * cross a network in clear. Anything that is not an http(s) URL is explained.
 */
export function serverUrl(text: string, from = 'the server URL'): string {
  const trimmed = text.trim().replace(/\/+$/, '');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  const candidate = hasScheme ? trimmed : `${LOOPBACK.test(trimmed.replace(/:\d+$/, '')) ? 'http' : 'https'}://${trimmed}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new AirlockError('bad_server_url', 'invalid', `${from} "${text}" is not a URL; write it like http://127.0.0.1:8700 or https://airlock.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AirlockError('bad_server_url', 'invalid', `${from} "${text}" uses ${url.protocol.slice(0, -1)}://; Airlock's API is http:// (on loopback) or https://, e.g. http://127.0.0.1:8700`);
  }
  if (url.search || url.hash) {
    throw new AirlockError('bad_server_url', 'invalid', `${from} "${text}" has a query or fragment; give the scheme, host and port, e.g. https://airlock.example.com:8700`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
