import { describe, expect, it } from 'vitest';
import { missingCredentialWarnings } from '../../src/config/credential-warnings.js';
import { parseConfig } from '../../src/config/load.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

const directory = parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', '/tmp').directory;

describe('warnings for role passwords missing from the environment', () => {
  it('names each unset or empty password_env variable once, with the resource and role that read it', () => {
    expect(missingCredentialWarnings(directory, { ORDERS_RW_PASSWORD: '' })).toEqual([
      `warning: ORDERS_RO_PASSWORD is not set: role "read" on orders-db will fail to log in upstream until it holds the credential's secret`,
      `warning: ORDERS_RW_PASSWORD is empty: role "write" on orders-db will fail to log in upstream until it holds the credential's secret`,
    ]);
  });

  it('is silent when every variable is set, and for roles that name no variable', () => {
    expect(missingCredentialWarnings(directory, { ORDERS_RO_PASSWORD: 'x', ORDERS_RW_PASSWORD: 'y' })).toEqual([]);
  });

  it('lists every role that shares one variable on its single line', () => {
    const shared = parseConfig(EXAMPLE_CONFIG.replaceAll('ORDERS_RW_PASSWORD', 'ORDERS_RO_PASSWORD'), 'airlock.yaml', '/tmp').directory;
    expect(missingCredentialWarnings(shared, {})).toEqual([
      `warning: ORDERS_RO_PASSWORD is not set: role "read" on orders-db and role "write" on orders-db will fail to log in upstream until it holds the credential's secret`,
    ]);
  });

  it('covers the variables of HTTP credentials too', () => {
    const withHttp = EXAMPLE_CONFIG.replace(
      'policies:\n',
      `  - name: rabbit
    kind: http
    upstream: { url: "http://127.0.0.1:15672" }
    roles:
      ops:
        credential: { bearer_env: RABBIT_TOKEN }
        http: { allow: ["GET /api/**"] }
policies:
`,
    );
    const dir = parseConfig(withHttp, 'airlock.yaml', '/tmp').directory;
    expect(missingCredentialWarnings(dir, { ORDERS_RO_PASSWORD: 'x', ORDERS_RW_PASSWORD: 'y' })).toEqual([
      `warning: RABBIT_TOKEN is not set: role "ops" on rabbit will fail to log in upstream until it holds the credential's secret`,
    ]);
  });

  it('never prints a password it found', () => {
    expect(missingCredentialWarnings(directory, { ORDERS_RO_PASSWORD: 's3cret-ro' }).join('\n')).not.toContain('s3cret');
  });
});
