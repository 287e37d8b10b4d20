import type { Page } from 'playwright-core';
import { ManualClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from './cli.js';
import { startTestProvider, type TestProvider } from './openid-provider.js';

/** What a test may do to the provider's token answer in transit (an attacker on the wire); null passes it through. */
export type TokenTamper = ((body: Record<string, unknown>) => Promise<Record<string, unknown>>) | null;

export interface OidcWorld {
  readonly provider: TestProvider;
  readonly cp: RunningControlPlane;
  readonly clock: ManualClock;
  /** Set to alter the next token answers; reset to null to stop. */
  tamper: TokenTamper;
  stop(): Promise<void>;
}

export const oidcConfig = (issuer: string) => `
users:
  - { name: root, groups: [airlock-admins] }
  - { name: lead, groups: [sre-leads] }
admins: { groups: [airlock-admins] }
identity:
  oidc:
    issuer: ${issuer}
    client_id: airlock
    client_secret_env: TEST_OIDC_SECRET
    username_claim: preferred_username
    groups_claim: groups
    groups_map: { eng-oncall: oncall, eng: engineering, sre: sre-leads }
    scopes: [openid, email, profile, groups]
    session_ttl: 1h
    display_name: Test IdP
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: orders }
    labels: { env: prod }
    roles:
      read: { credential: { user: orders_ro }, allow: [read] }
      write: { credential: { user: orders_rw }, allow: [read, write] }
policies:
  - name: oncall-reads
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read]
    max_duration: 1h
    approval: none
  - name: writes-need-a-lead
    who: { groups: [engineering] }
    resources: { names: [orders-db] }
    roles: [write]
    max_duration: 1h
    approval: { count: 1, from: { groups: [sre-leads] } }
`;

/** The test IdP's users: alice is on call and an engineer; carol leads SRE. */
export function testUsers() {
  return {
    alice: { password: 'alice-password', email: 'alice@example.com', groups: ['eng-oncall', 'eng'] },
    carol: { password: 'carol-password', email: 'carol@example.com', groups: ['sre'] },
  };
}

/** A real OpenID Provider and a control plane that signs users in with it, every provider call through a wire the test may tamper with. */
export async function startOidcWorld(): Promise<OidcWorld> {
  const provider = await startTestProvider(testUsers());
  const text = oidcConfig(provider.issuer);
  const tmp = tempConfig(text);
  const clock = new ManualClock(new Date());
  const world = { tamper: null as TokenTamper } as OidcWorld & { tamper: TokenTamper };
  const wire: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!world.tamper || !url.endsWith('/token') || !res.ok) return res;
    const body = (await res.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(await world.tamper(body)), { status: res.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
  };
  const cp = await startControlPlane(parseConfig(text, 'airlock.yaml', tmp.dir), {
    clock,
    listen: '127.0.0.1:0',
    identity: { env: { TEST_OIDC_SECRET: provider.clientSecret }, fetch: wire },
  });
  provider.register(`${cp.url}/auth/oidc/callback`);
  return Object.assign(world, {
    provider,
    cp,
    clock,
    async stop() {
      await cp.close();
      await provider.stop();
      tmp.cleanup();
    },
  });
}

/** Goes through the provider's own login page (when it asks). */
export async function logInAtProvider(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in to Test IdP' }).click();
}
