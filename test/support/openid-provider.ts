import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real, certified OpenID Provider (panva's `oidc-provider`) on a loopback
 * port, with the test's own users, passwords and groups, and a login page of
 * its own. Nothing about it is a stand-in: discovery, JWKS, the
 * authorization, token, UserInfo and device endpoints are the library's.
 */

export interface TestUser {
  readonly password: string;
  readonly email: string;
  groups: string[];
}

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: Map<string, TestUser>;
  /** The provider's signing key (private JWK): tests use it to forge tokens the provider itself could have signed. */
  readonly signingKey: Record<string, unknown>;
  /** Registers Airlock's redirect URI once Airlock knows its own port. */
  register(redirectUri: string): void;
  stop(): Promise<void>;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

const escape = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="off">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Log in to Test IdP</button>
</form></body></html>`;
}

export async function startTestProvider(users: Record<string, TestUser>): Promise<TestProvider> {
  const accounts = new Map(Object.entries(users));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const clientId = 'airlock';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const redirectUris: string[] = [];
  let provider: Provider | null = null;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!provider) {
      res.writeHead(503).end('provider not configured yet');
      return;
    }
    const m = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!m) return provider.callback()(req, res);
    const details = await provider.interactionDetails(req, res);
    if (!m[2]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid));
      return;
    }
    const form = await readForm(req);
    const account = accounts.get(form.get('username') ?? '');
    if (!account || account.password !== form.get('password')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, 'Wrong username or password'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: form.get('username')! } }, { mergeWithLastSubmission: false });
  }

  function configure(): Provider {
    const p = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: [signingKey as never] },
      cookies: { keys: ['test-cookie-key-for-the-provider'] },
      scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
      features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
      ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 86_400, Interaction: 600, Grant: 86_400, Session: 86_400, DeviceCode: 600, AuthorizationCode: 60 },
      pkce: { required: () => true, methods: ['S256'] },
      interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      // The test's users consent by signing in: every requested scope and claim is granted.
      async loadExistingGrant(ctx: KoaContextWithOIDC) {
        const existing = ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
        if (existing) {
          const found = await ctx.oidc.provider.Grant.find(existing);
          if (found) return found;
        }
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid offline_access email profile groups');
        grant.addOIDCClaims(['email', 'email_verified', 'preferred_username', 'groups']);
        await grant.save();
        return grant;
      },
      async findAccount(_ctx, id) {
        const account = accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: async () => ({ sub: id, email: account.email, email_verified: true, preferred_username: id, groups: [...account.groups] }),
        };
      },
    });
    return p;
  }

  return {
    issuer,
    clientId,
    clientSecret,
    users: accounts,
    signingKey,
    register(redirectUri) {
      redirectUris.push(redirectUri);
      provider = configure();
    },
    async stop() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
