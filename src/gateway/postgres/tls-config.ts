import tls from 'node:tls';
import { generate } from 'selfsigned';

/** The client-facing TLS setup: a configured certificate, or a self-signed one generated at start. */
export type GatewayTls = { readonly cert: string; readonly key: string } | 'self-signed';

export async function secureContextFor(config: GatewayTls | undefined): Promise<tls.SecureContext | null> {
  if (!config) return null;
  if (config !== 'self-signed') return tls.createSecureContext({ cert: config.cert, key: config.key });
  const pems = await generate([{ name: 'commonName', value: 'airlock-gateway' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return tls.createSecureContext({ cert: pems.cert, key: pems.private });
}
