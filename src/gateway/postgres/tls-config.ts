import tls from 'node:tls';
import { generate } from 'selfsigned';

/** The client-facing TLS setup: a configured certificate, or a self-signed one generated at start. */
export type GatewayTls = { readonly cert: string; readonly key: string } | 'self-signed';

/**
 * The certificate and key (PEM) a gateway serves: the configured ones, or a
 * self-signed pair made now for `dnsNames` and 127.0.0.1 (the HTTP gateway
 * passes `*.<public_host>`).
 */
export async function gatewayPems(config: GatewayTls | undefined, dnsNames: readonly string[] = ['localhost']): Promise<{ cert: string; key: string } | null> {
  if (!config) return null;
  if (config !== 'self-signed') return { cert: config.cert, key: config.key };
  const pems = await generate([{ name: 'commonName', value: 'airlock-gateway' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

export async function secureContextFor(config: GatewayTls | undefined): Promise<tls.SecureContext | null> {
  const pems = await gatewayPems(config);
  return pems && tls.createSecureContext(pems);
}
