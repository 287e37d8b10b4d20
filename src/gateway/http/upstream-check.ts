import type { IncomingMessage } from 'node:http';
import type { GrantAccess } from '../kernel/port.js';
import { credentialHeader } from './upstream-credential.js';
import { upstreamTarget } from './upstream-target.js';

/**
 * `airlock resources check` for an http resource: one GET of the upstream's
 * `check_path` (default `/`) with the role's credential, as the gateway
 * would send it. Answers a note on success and throws, in words an admin can
 * act on, when the upstream refuses the credential (401, 403), answers
 * another error, cannot be reached, or fails TLS verification. Never a
 * header, the credential or the response body in what it says.
 */

/** Node's codes for a certificate the upstream's TLS could not be verified with. */
const TLS_CODES = /^(?:ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_SSL_|HOSTNAME_MISMATCH)/;

export async function checkHttpUpstream(access: GrantAccess, timeoutMs: number): Promise<string> {
  const { resource, role } = access;
  // Throws CredentialMissing (naming the variable) when the server's environment lacks it.
  const credential = credentialHeader(role.http?.credential, access.password);
  const upstream = upstreamTarget(resource);
  const checkPath = resource.upstream.checkPath ?? '/';
  const asked = `GET ${upstream.base.origin}${upstream.prefix}${checkPath}`;
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { host: upstream.hostHeader, 'user-agent': 'airlock resources check', accept: 'application/json, */*' };
      if (credential) headers[credential[0]] = credential[1];
      const req = upstream.request({ method: 'GET', path: upstream.prefix + checkPath, headers }, false);
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    res.resume();
    const status = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
    const tls = upstream.base.protocol !== 'https:' ? '' : resource.upstream.tlsVerify === false ? ' over TLS, not verified (tls_verify: false)' : ' over verified TLS';
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new Error(`the upstream refused the credential: ${asked} answered ${status}`);
    }
    if ((res.statusCode ?? 500) >= 400) throw new Error(`${asked} answered ${status}; set upstream.check_path to a path the role's credential may read`);
    return `${asked} answered ${status}${tls}${credential ? '' : ' (the role sends no credential)'}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (TLS_CODES.test(code)) throw new Error(`TLS: the upstream's certificate could not be verified (${code}); set upstream.tls_ca to the CA that signed it`, { cause: err });
    if (code) throw new Error(`cannot reach ${upstream.base.origin} (${code})`, { cause: err });
    throw err;
  } finally {
    upstream.close();
  }
}
