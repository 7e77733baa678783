// Sign-in at the identity provider: the OAuth 2.0 authorization code flow
// with PKCE (RFC 7636) for a public client, as `/dashboard/config.json`
// describes it. Nothing secret lives in the page: the code verifier, `state`
// and `nonce` are kept in sessionStorage for the one round trip, together
// with where to come back to (the invitation landing keeps its token in the
// fragment, which the provider never sees). The ID token stays in
// sessionStorage only as the hint for ending the provider's session.

const PENDING_KEY = 'usher.oidc.pending';
const ID_TOKEN_KEY = 'usher.oidc.id_token';

/**
 * The sign-in configuration the service gives the page: `{signIn:
 * 'development'}`, or `{signIn: 'oidc', …}` with the provider's endpoints.
 * Rejects with the service's problem (title, detail) when it cannot say.
 */
export async function loadConfig() {
  const res = await fetch('/dashboard/config.json', { cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body) {
    const problem = new Error(body?.detail || `HTTP ${res.status}`);
    problem.title = body?.title || 'Sign-in is unavailable';
    problem.detail = body?.detail || `The sign-in configuration could not be read (HTTP ${res.status}).`;
    throw problem;
  }
  return body;
}

function base64url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/**
 * Sends the browser to the provider; `returnTo` is where to land afterwards
 * (path, query and fragment). `prompt: 'login'` asks the provider for the
 * login form even when it has a session: signing in with another account.
 */
export async function begin(config, returnTo, { prompt } = {}) {
  const pending = { state: randomString(), nonce: randomString(), verifier: randomString(), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(config.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', config.redirectUri);
  url.searchParams.set('scope', config.scopes.join(' '));
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', await challengeOf(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (config.audience) url.searchParams.set('audience', config.audience);
  if (prompt) url.searchParams.set('prompt', prompt);
  location.assign(url);
}

function claimsOf(jwt) {
  const payload = jwt.split('.')[1] || '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json);
}

/**
 * Finishes a sign-in when the page is the provider's redirect (`?code=…&state=…`
 * or `?error=…`): checks `state`, trades the code for tokens, checks the ID
 * token's `nonce`, and resolves with `{ accessToken, returnTo }`. Resolves
 * with null when the page is no such redirect. Throws, with a message for
 * the person, when the redirect is refused.
 */
export async function complete(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', location.pathname);
  if (!pending || params.get('state') !== pending.state) {
    throw new Error('This sign-in did not start here (its state does not match); sign in again.');
  }
  if (params.has('error')) {
    throw new Error(`The identity provider refused the sign-in: ${params.get('error_description') || params.get('error')}.`);
  }
  const res = await fetch(config.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: config.redirectUri,
      client_id: config.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await res.json().catch(() => ({}));
  if (!res.ok || !tokens.access_token) {
    throw new Error(`The identity provider did not issue a token: ${tokens.error_description || tokens.error || `HTTP ${res.status}`}.`);
  }
  if (tokens.id_token) {
    if (claimsOf(tokens.id_token).nonce !== pending.nonce) {
      throw new Error('The identity provider answered another sign-in (its nonce does not match); sign in again.');
    }
    sessionStorage.setItem(ID_TOKEN_KEY, tokens.id_token);
  }
  return { accessToken: tokens.access_token, returnTo: pending.returnTo };
}

/** Ends the provider's session too, when it offers that; resolves false when it does not. */
export function endProviderSession(config) {
  const idToken = sessionStorage.getItem(ID_TOKEN_KEY);
  sessionStorage.removeItem(ID_TOKEN_KEY);
  if (!config.endSessionEndpoint) return false;
  const url = new URL(config.endSessionEndpoint);
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('post_logout_redirect_uri', config.redirectUri);
  location.assign(url);
  return true;
}
