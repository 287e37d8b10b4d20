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

/** The environment variable that holds the credential's value. */
export function credentialVariable(credential: HttpCredential): string {
  return credential.kind === 'basic' ? credential.passwordEnv : credential.kind === 'bearer' ? credential.tokenEnv : credential.valueEnv;
}

/** `value` is what the control plane read from the credential's variable (undefined when it is not set). */
export function credentialHeader(credential: HttpCredential | undefined, value: string | undefined): [string, string] | null {
  if (!credential) return null;
  if (value === undefined || value === '') throw new CredentialMissing(credentialVariable(credential));
  switch (credential.kind) {
    case 'basic':
      return ['authorization', `Basic ${Buffer.from(`${credential.user}:${value}`).toString('base64')}`];
    case 'bearer':
      return ['authorization', `Bearer ${value}`];
    case 'header':
      return [credential.header.toLowerCase(), value];
  }
}
