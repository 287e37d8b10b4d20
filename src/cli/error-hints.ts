import { ApiError } from '../server/api-client.js';
import type { LoginSource } from './login-store.js';

/**
 * Turns what went wrong talking to the server into the next step for the
 * case at hand: a refused token is not a missing login, and a server that
 * does not answer is named with where its address came from.
 */
export function explainApiError(err: ApiError, used: LoginSource | undefined): string {
  const server = used?.server ?? 'the server';
  if (err.status === 401) {
    const said = err.message.replace(/;\s*run `airlock login[^`]*`\s*$/, '');
    const from = used?.tokenFrom ?? 'the token';
    return `${server} refused ${from}: ${said}. Check the token, or ask an admin for a new one (\`airlock tokens issue USER\` on the server host)`;
  }
  if (err.code === 'unreachable') {
    const where = used?.serverFrom ? ` (from ${used.serverFrom})` : '';
    if (/ECONNREFUSED/.test(err.message)) {
      return `nothing is listening at ${server}${where}: the connection was refused. Is \`airlock server\` (or \`npm start\`) running there? Check AIRLOCK_SERVER or log in again with \`airlock login --server URL\``;
    }
    if (/ENOTFOUND|EAI_AGAIN/.test(err.message)) {
      return `cannot resolve the host of ${server}${where}. Check AIRLOCK_SERVER or log in again with \`airlock login --server URL\``;
    }
    if (/ECONNRESET|EPROTO|wrong version number|packet length too long/i.test(err.message) && server.startsWith('https:')) {
      return `${server}${where} did not answer TLS (${err.message.replace(/^.*?: /, '')}); a server on plain HTTP needs http:// in AIRLOCK_SERVER or \`airlock login --server\``;
    }
    return `${err.message}${where}. Check AIRLOCK_SERVER or log in again with \`airlock login --server URL\``;
  }
  return err.message;
}
