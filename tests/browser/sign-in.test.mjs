// Signing in at the identity provider (issue 17): the dashboard as a public
// OIDC client (authorization code flow with PKCE) against a real provider
// on loopback (oidc-provider from npm, two people), with Usher verifying
// the provider's access tokens through its discovery document and JWKS.
// Invitation e-mails go to an SMTP sink, so the invitee opens the link of
// a real e-mail.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, shot, testWithEvidence } from './harness.mjs';
import { plainText } from './smtp-sink.mjs';

const ADA = { login: 'ada', email: 'ada@example.com', name: 'Ada Lovelace' };
const BOB = { login: 'bob', email: 'bob@example.com', name: 'Bob Smith' };

let world;
const test = testWithEvidence(() => world);
let usher;
let provider;

before(async () => {
  world = await startWorld({
    superusers: [],
    oidcUsers: { [ADA.login]: { email: ADA.email, name: ADA.name }, [BOB.login]: { email: BOB.email, name: BOB.name } },
  });
  ({ usher, provider } = world);
});

after(async () => {
  await world?.stop();
});

/** At the provider's login form: signs in as `person`. */
async function loginAtProvider(page, person) {
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').fill(person.login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

/** Waits until the dashboard shows `person` signed in. */
async function signedInAs(page, person) {
  await page.locator('#whoami', { hasText: person.name }).waitFor();
}

/** The access token the tab holds. */
function storedToken(page) {
  return page.evaluate(() => sessionStorage.getItem('usher.token'));
}

/** A fresh tab signed in as `person` at the provider, on the dashboard. */
async function signIn(person) {
  const page = await world.newPage();
  await page.goto(`${usher.base}/dashboard/`);
  await page.getByRole('button', { name: /^Sign in with 127\.0\.0\.1:\d+$/ }).click();
  await loginAtProvider(page, person);
  await signedInAs(page, person);
  return page;
}

/** Calls the API with a bearer token; resolves with the parsed body, failing on an error status. */
async function api(token, path, body) {
  const res = await fetch(`${usher.base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Ada's organization `name` with an invitation e-mailed to Bob; resolves with the link in the e-mail. */
async function emailedInvitation(adaToken, name) {
  // Creating answers with the creator, now in the new organization.
  const organizationId = (await api(adaToken, '/organization/create', { name })).currentOrganizationId;
  const created = await api(adaToken, '/invitation/create', { organizationId, role: 'member', email: BOB.email });
  const id = created.invitation.id;
  const mail = await world.smtp.received((m) => plainText(m).includes(id));
  assert.deepEqual(mail.to, [`<${BOB.email}>`]);
  const link = plainText(mail).match(/https?:\/\/\S+\/dashboard\/invite\?invitation=[0-9a-f-]{36}/);
  assert.ok(link, `no invitation link in the e-mail:\n${plainText(mail)}`);
  return { link: link[0], id };
}

/** Nothing the provider was asked for, nor any page it was sent from, carries `secret`. */
function providerNeverSaw(secret) {
  const seen = provider.requests.filter((r) => r.url.includes(secret) || (r.referer || '').includes(secret));
  assert.deepEqual(seen, [], `the provider saw ${secret}`);
}

let adaToken;

test('a person signs in at the provider and out again, which ends the provider session too', async () => {
  const page = await world.newPage();
  await page.goto(`${usher.base}/dashboard/#/orgs`);
  // No development sign-in is offered as the way in; the token form is folded away.
  assert.equal(await page.locator('.dev-mode').count(), 0);
  assert.equal(await page.locator('details.token-signin').getAttribute('open'), null);
  await shot(page, 'oidc-signin');
  await page.getByRole('button', { name: /^Sign in with 127\.0\.0\.1:\d+$/ }).click();

  // The request the provider got: a public client with PKCE (S256), state and nonce.
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  const authorize = provider.requests.find((r) => r.url.startsWith('/auth?'));
  const params = new URL(authorize.url, provider.issuer).searchParams;
  assert.equal(params.get('client_id'), 'usher-dashboard');
  assert.equal(params.get('redirect_uri'), `${usher.base}/dashboard/`);
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(params.get('state') && params.get('nonce'), 'state and nonce are sent');
  assert.equal(params.get('scope'), 'openid email profile');
  assert.equal(authorize.referer, null, 'the dashboard sends no Referer');

  await loginAtProvider(page, ADA);
  await signedInAs(page, ADA);
  // Back on the screen the sign-in started from, with the code gone from the address.
  await page.locator('main h1', { hasText: 'My organizations' }).waitFor();
  assert.equal(new URL(page.url()).search, '');
  assert.ok(page.url().endsWith('/dashboard/#/orgs'), page.url());
  adaToken = await storedToken(page);
  const session = await api(adaToken, '/user/session', {});
  assert.equal(session.platformRole, 'user');
  const me = await api(adaToken, '/user/get', {});
  assert.equal(me.email, ADA.email);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.locator('#signin-title').waitFor();
  assert.equal(await storedToken(page), null);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('usher.oidc.id_token')), null);
  // The provider's session ended too: signing in asks for the login again.
  await page.getByRole('button', { name: /^Sign in with/ }).click();
  await page.locator('input[name="login"]').waitFor();
  await page.context().close();
});

test('an invitee who is not signed in opens the e-mailed link, signs in at the provider and accepts', async () => {
  assert.ok(adaToken, 'the first test signed Ada in');
  const { link, id } = await emailedInvitation(adaToken, 'Acme');
  const page = await world.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Sign in to see your invitation' }).waitFor();
  await page.getByRole('button', { name: /^Sign in with/ }).click();
  await loginAtProvider(page, BOB);

  // Back on the landing of that invitation, signed in, with accept or decline.
  await page.waitForURL((url) => url.pathname === '/dashboard/invite' && url.searchParams.get('invitation') === id);
  await page.locator('.signed-in-as', { hasText: BOB.email }).waitFor();
  await page.getByRole('button', { name: 'Decline' }).waitFor();
  await page.getByRole('button', { name: 'Accept and join Acme' }).click();
  await page.locator('.joined', { hasText: 'You joined Acme as member.' }).waitFor();
  providerNeverSaw(id);
  await page.context().close();
});

test('a link token waits in the fragment through the sign-in, and the provider never sees it', async () => {
  const organizationId = (await api(adaToken, '/organization/create', { name: 'Initech' })).currentOrganizationId;
  const created = await api(adaToken, '/invitation/create', { organizationId, role: 'guest', maxUses: 5 });
  const page = await world.newPage();
  await page.goto(created.url);
  await page.getByRole('heading', { name: 'Sign in to accept' }).waitFor();
  await page.getByRole('button', { name: /^Sign in with/ }).click();
  await loginAtProvider(page, BOB);
  await page.waitForURL((url) => url.pathname === '/dashboard/invite' && url.hash === `#token=${created.token}`);
  await page.getByRole('button', { name: 'Accept and join Initech' }).click();
  await page.locator('.joined', { hasText: 'You joined Initech as guest.' }).waitFor();
  providerNeverSaw(created.token);
  await page.context().close();
});

test('an account the invitation is not for is told which address it is for, and switches', async () => {
  const { link } = await emailedInvitation(adaToken, 'Globex');
  // Ada is signed in at the provider and opens Bob's e-mail.
  const page = await signIn(ADA);
  await page.goto(link);
  const notice = page.locator('[data-reason="email_mismatch"]');
  await notice.locator('.title', { hasText: 'This invitation is for b***@example.com' }).waitFor();
  await notice.getByText(`You are signed in as ${ADA.email}.`).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Accept/ }).count(), 0);
  await shot(page, 'oidc-invitation-other-account');

  await page.getByRole('button', { name: 'Sign in with another account' }).click();
  // The provider asks for a login although Ada's session there is alive.
  await loginAtProvider(page, BOB);
  await page.locator('.signed-in-as', { hasText: BOB.email }).waitFor();
  await page.getByRole('button', { name: 'Accept and join Globex' }).click();
  await page.locator('.joined', { hasText: 'You joined Globex as member.' }).waitFor();
  await page.context().close();
});

test('a session that expires mid-action says so, keeps the page, and signing in again comes back to it', async () => {
  const page = await signIn(BOB);
  await page.goto(`${usher.base}/dashboard/#/me`);
  await page.locator('main h1', { hasText: 'Me' }).waitFor();

  // An access token the provider issued two hours ago, as the tab would hold by now.
  provider.clockBehind(2 * 60 * 60);
  const other = await world.newPage();
  await other.goto(`${usher.base}/dashboard/`);
  const issued = other.waitForResponse((res) => res.url() === `${provider.issuer}/token`);
  await other.getByRole('button', { name: /^Sign in with/ }).click();
  await loginAtProvider(other, BOB);
  const expired = (await (await issued).json()).access_token;
  await other.context().close();
  provider.clockBehind(0);
  await page.evaluate((token) => sessionStorage.setItem('usher.token', token), expired);

  const input = page.getByLabel('Display name', { exact: true });
  await input.fill('Bob the Builder');
  await page.getByRole('button', { name: 'Save name' }).click();
  const notice = page.getByRole('alertdialog', { name: 'Your session has ended' });
  await notice.waitFor();
  // The page is still there, with what was typed; nothing was saved.
  assert.equal(await input.inputValue(), 'Bob the Builder');
  assert.equal(await storedToken(page), null);
  assert.ok(page.url().endsWith('/dashboard/#/me'), page.url());
  // Said once, over the page, not again in the screen's own message box.
  assert.equal(await page.locator('main .notices [role="alert"]').count(), 0);
  await shot(page, 'oidc-session-ended');

  // The provider still has Bob's session: back at once, on the same screen.
  await notice.getByRole('button', { name: 'Sign in again' }).click();
  await page.waitForURL((url) => url.pathname === '/dashboard/' && url.hash === '#/me' && !url.search);
  await signedInAs(page, BOB);
  await page.getByLabel('Display name', { exact: true }).fill('Bob the Builder');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.locator('#whoami', { hasText: 'Bob the Builder' }).waitFor();
  await page.context().close();
});

test('a redirect whose state does not match the sign-in that started is refused', async () => {
  const page = await world.newPage();
  // The provider is asked for another state than the one the page keeps, so
  // its redirect comes back the way a forged one (someone else's sign-in) would.
  const toProvider = (url) => url.href.startsWith(`${provider.issuer}/auth?`) && url.searchParams.get('state') !== 'forged';
  await page.route(toProvider, (route) => {
    const url = new URL(route.request().url());
    url.searchParams.set('state', 'forged');
    return route.continue({ url: url.href });
  });
  await page.goto(`${usher.base}/dashboard/`);
  await page.getByRole('button', { name: /^Sign in with/ }).click();
  const tokensBefore = provider.requests.filter((r) => r.url === '/token').length;
  await loginAtProvider(page, BOB);
  const refusal = page.getByRole('alert').filter({ hasText: 'Sign-in refused' });
  await refusal.waitFor();
  await refusal.getByText('its state does not match').waitFor();
  assert.equal(await storedToken(page), null);
  assert.equal(provider.requests.filter((r) => r.url === '/token').length, tokensBefore, 'the code was never traded for a token');
  assert.equal(new URL(page.url()).search, '', 'the code left the address bar');
  await page.context().close();
});

test('no page broke its Content-Security-Policy or threw', () => {
  assert.deepEqual(world.problems, []);
});
