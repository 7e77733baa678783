// A real OpenID provider on loopback for the browser tests: oidc-provider
// (a certified implementation, from npm) with the dashboard as a public
// client (PKCE, no secret), JWT access tokens for the audience `urn:usher:api`
// carrying the person's e-mail and name, its development login form (any
// login; the login names the account), no consent screen (a first-party
// client), and RP-initiated logout.

import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

/** The dashboard's client id at the provider. */
export const CLIENT_ID = 'usher-dashboard';
/** The audience (resource) of the access tokens: what Usher requires as `auth.audience`. */
export const AUDIENCE = 'urn:usher:api';
const SCOPES = 'openid email profile';

/**
 * Starts the provider on 127.0.0.1 for a dashboard at `dashboardUrl`.
 * `users` maps a login to `{email, name}`. Resolves with its `issuer`,
 * `requests` (every URL it was asked for, and the Referer it got, so tests
 * can check what it saw), `clockBehind(seconds)` and `stop()`.
 */
export async function startProvider({ dashboardUrl, users }) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'browser-tests', use: 'sig', alg: 'RS256' };
  // Listen first: the issuer names the port.
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  let behind = 0;
  const claimsOf = (login) => {
    const user = users[login] || { email: `${login}@example.com`, name: login };
    return { email: user.email, email_verified: true, name: user.name };
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${dashboardUrl}/dashboard/`],
        post_logout_redirect_uris: [`${dashboardUrl}/dashboard/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, ...claimsOf(id) }) }),
    claims: { email: ['email', 'email_verified'], profile: ['name'] },
    // Usher provisions the person from the access token.
    extraTokenClaims: async (_ctx, token) => (token.kind === 'AccessToken' ? claimsOf(token.accountId) : undefined),
    // A first-party client: the grant is made at once, so there is no consent screen.
    loadExistingGrant: async (ctx) => {
      const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(SCOPES);
      grant.addResourceScope(AUDIENCE, SCOPES);
      await grant.save();
      return grant;
    },
    // The provider's clock as the tests set it: access tokens are dated `behind` seconds earlier.
    formats: {
      customizers: {
        jwt: (_ctx, _token, jwt) => {
          jwt.payload.iat -= behind;
          jwt.payload.exp -= behind;
        },
      },
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: SCOPES, audience: AUDIENCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
  const requests = [];
  const handle = provider.callback();
  server.on('request', (req, res) => {
    requests.push({ method: req.method, url: req.url, referer: req.headers.referer || null });
    handle(req, res);
  });
  return {
    issuer,
    requests,
    /** From now on, access tokens are issued as if the provider's clock were `seconds` behind (0 puts it right). */
    clockBehind(seconds) {
      behind = seconds;
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}
