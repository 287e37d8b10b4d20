import type { HttpCredential } from '../../core/model.js';

/**
 * The header the gateway adds so the upstream knows it is Airlock acting for
 * a role. The value is read from the environment here and only here; it goes
 * into the outgoing request and nowhere else (not the audit, the logs, or any
 * error message, which name the variable instead).
 */

export class CredentialMissing extends Error {
  readonly code = 'http_credential_missing';
  constructor(variable: string) {
    super(`the upstream credential is not configured on the gateway (environment variable ${variable} is not set)`);
    this.name = 'CredentialMissing';
  }
}

export function credentialHeader(credential: HttpCredential | undefined, env: NodeJS.ProcessEnv): [string, string] | null {
  if (!credential) return null;
  const read = (variable: string): string => {
    const value = env[variable];
    if (value === undefined || value === '') throw new CredentialMissing(variable);
    return value;
  };
  switch (credential.kind) {
    case 'basic':
      return ['authorization', `Basic ${Buffer.from(`${credential.user}:${read(credential.passwordEnv)}`).toString('base64')}`];
    case 'bearer':
      return ['authorization', `Bearer ${read(credential.tokenEnv)}`];
    case 'header':
      return [credential.header.toLowerCase(), read(credential.valueEnv)];
  }
}
