import * as client from 'openid-client';
import { AirlockError } from '../core/errors.js';

/** What Airlock needs of the OpenID Provider named by `identity.oidc`. */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly usernameClaim: string;
  readonly groupsClaim: string;
  readonly groupsMap: ReadonlyMap<string, readonly string[]>;
  readonly scopes: readonly string[];
  readonly sessionTtlSeconds: number;
  readonly sessionMaxSeconds: number;
  readonly displayName: string;
}

/** Claims of a verified ID token merged with the UserInfo answer, and the refresh token if one came. */
export interface ProviderTokens {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly refreshToken: string | null;
}

export interface DeviceStart {
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string | null;
  readonly expiresInSeconds: number;
  readonly intervalSeconds: number;
  /** Resolves once the user approved on another device; rejects when refused or expired. */
  readonly done: Promise<ProviderTokens>;
  readonly cancel: () => void;
}

export interface ProviderOptions {
  /** Every request to the provider goes through this (tests put a tampering network here; never a stand-in provider). */
  readonly fetch?: typeof fetch;
  /** Seconds before a provider call is given up (default 10). */
  readonly timeoutSeconds?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A refusal the person signing in can act on; `code` names the failed check for tools and the audit log. */
export function signInRefused(code: string, message: string): AirlockError {
  return new AirlockError(code, 'unauthenticated', message);
}

function unreachable(issuer: string, err: unknown): AirlockError {
  const cause = (err as Error & { cause?: { message?: string; code?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new AirlockError('idp_unreachable', 'unavailable', `cannot reach the identity provider at ${issuer} (${why}); nothing was granted — try again, or sign in with an API token`);
}

/** openid-client's own check failures, in words a person signing in can act on. */
function describeFailure(err: unknown): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = err as Error & { code?: string; error?: string; error_description?: string };
  if (e instanceof client.ResponseBodyError || e.error) {
    if (e.error === 'invalid_grant') {
      return signInRefused('oidc_code_refused', `the identity provider refused the sign-in code (${e.error_description ?? e.error}): it was already used, has expired, or belongs to another sign-in; start again`);
    }
    return signInRefused('oidc_provider_error', `the identity provider refused: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
  }
  // openid-client wraps the check that failed; its cause names it (`unexpected JWT "aud" (audience) claim value`).
  const cause = (e as { cause?: { message?: string } }).cause;
  const text = [e.message ?? String(err), typeof cause?.message === 'string' ? cause.message : ''].filter(Boolean).join(': ');
  if (/unexpected JWT "aud"/i.test(text)) return signInRefused('oidc_wrong_audience', `the ID token was issued for another application (${text}); refused`);
  if (/unexpected JWT "iss"|unexpected "iss"/i.test(text)) return signInRefused('oidc_wrong_issuer', `the ID token comes from another issuer (${text}); refused`);
  if (/signature|JWS/i.test(text)) return signInRefused('oidc_bad_signature', `the ID token's signature does not verify — it was altered or not signed by the provider; refused`);
  if (/"exp"|expired|timestamp/i.test(text)) return signInRefused('oidc_token_expired', `the ID token has expired (${text}); sign in again`);
  if (/nonce/i.test(text)) return signInRefused('oidc_nonce_mismatch', `the ID token does not belong to this sign-in (nonce mismatch); refused`);
  if (/state/i.test(text)) return signInRefused('oidc_state_mismatch', `the sign-in answer does not match the sign-in that was started (state mismatch); refused`);
  if (e.code === 'OAUTH_TIMEOUT' || /fetch failed|ECONNREFUSED|timed? ?out|aborted/i.test(text)) return unreachable('the provider', err);
  return signInRefused('oidc_invalid_response', `the identity provider's answer did not pass validation (${text}); refused`);
}

/**
 * The relying party, on openid-client (certified; every JWT check is the
 * library's): discovery, the authorization code flow with PKCE, state and
 * nonce, refresh, UserInfo, and the device authorization grant. Token
 * timestamps are checked against real time (the provider's), not Airlock's
 * injectable clock, which governs only Airlock's own sign-in sessions.
 */
export function createIdentityProvider(settings: OidcSettings, options: ProviderOptions = {}) {
  let discovered: Promise<client.Configuration> | null = null;
  const issuerUrl = new URL(settings.issuer);

  async function discover(): Promise<client.Configuration> {
    const auth = settings.clientSecret ? client.ClientSecretBasic(settings.clientSecret) : client.None();
    const config = await client.discovery(issuerUrl, settings.clientId, undefined, auth, {
      // Plain http only to a provider on this machine (development and tests).
      // Non-repudiation: the ID token's signature is verified against the provider's keys even though it came
      // straight from the token endpoint, so an answer altered on the way is refused, not just trusted to TLS.
      execute: [client.enableNonRepudiationChecks, ...(LOOPBACK.has(issuerUrl.hostname) ? [client.allowInsecureRequests] : [])],
      timeout: options.timeoutSeconds ?? 10,
      ...(options.fetch ? { [client.customFetch]: options.fetch as client.CustomFetch } : {}),
    });
    config.timeout = options.timeoutSeconds ?? 10;
    return config;
  }

  /** Discovery is lazy and retried: a provider down at start does not stop Airlock, only sign-ins, until it is back. */
  async function configuration(): Promise<client.Configuration> {
    discovered ??= discover();
    try {
      return await discovered;
    } catch (err) {
      discovered = null;
      throw unreachable(settings.issuer, err);
    }
  }

  async function withUserInfo(config: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<ProviderTokens> {
    const idClaims = tokens.claims();
    if (!idClaims) throw signInRefused('oidc_no_id_token', 'the identity provider answered without an ID token; is the `openid` scope allowed for this client?');
    let claims: Record<string, unknown> = { ...idClaims };
    if (config.serverMetadata().userinfo_endpoint) {
      // Many providers put groups only in UserInfo; the subject must be the ID token's.
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims, ...(info[settings.groupsClaim] !== undefined ? { [settings.groupsClaim]: info[settings.groupsClaim] } : {}) };
    }
    return { claims, refreshToken: tokens.refresh_token ?? null };
  }

  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw describeFailure(err);
    }
  }

  return {
    settings,

    /** Where to send the browser: PKCE (S256), state and nonce are the caller's to keep. */
    async authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<URL> {
      const config = await configuration();
      return client.buildAuthorizationUrl(config, {
        redirect_uri: p.redirectUri,
        scope: settings.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(p.codeVerifier),
        code_challenge_method: 'S256',
        state: p.state,
        nonce: p.nonce,
      });
    },

    /** Redeems the code the provider sent back to `callbackUrl`, checking state, nonce and the ID token. */
    async redeemCode(callbackUrl: URL, checks: { codeVerifier: string; state: string; nonce: string; redirectUri: string }): Promise<ProviderTokens> {
      const config = await configuration();
      return guarded(async () => {
        const tokens = await client.authorizationCodeGrant(
          config,
          callbackUrl,
          { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
          { redirect_uri: checks.redirectUri },
        );
        return withUserInfo(config, tokens);
      });
    },

    async refresh(refreshToken: string): Promise<ProviderTokens> {
      const config = await configuration();
      return guarded(async () => {
        const tokens = await client.refreshTokenGrant(config, refreshToken);
        const result = await withUserInfo(config, tokens);
        return { claims: result.claims, refreshToken: result.refreshToken ?? refreshToken };
      });
    },

    async startDevice(): Promise<DeviceStart> {
      const config = await configuration();
      const started = await guarded(() => client.initiateDeviceAuthorization(config, { scope: settings.scopes.join(' ') }));
      const abort = new AbortController();
      const done = guarded(async () => {
        const tokens = await client.pollDeviceAuthorizationGrant(config, started, undefined, { signal: abort.signal });
        return withUserInfo(config, tokens);
      });
      done.catch(() => undefined);
      return {
        userCode: started.user_code,
        verificationUri: started.verification_uri,
        verificationUriComplete: started.verification_uri_complete ?? null,
        expiresInSeconds: started.expires_in,
        intervalSeconds: started.interval ?? 5,
        done,
        cancel: () => abort.abort(),
      };
    },
  };
}

export type IdentityProvider = ReturnType<typeof createIdentityProvider>;
