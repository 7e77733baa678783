// A `#token=…` link never replaces another account's session silently
// (issue 13, "Dashboard session swap"): a link can carry anyone's token, and
// whoever follows an attacker's link would otherwise file their KYC data
// into the attacker's account. The page names both accounts and switches
// only when asked; the token leaves the address bar whatever the answer.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, shot, testWithEvidence } from './harness.mjs';

const ADMIN = { email: 'root@example.com', name: 'Root Reviewer' };
const ALICE = { email: 'alice@example.com', name: 'Alice Victim' };
const MALLORY = { email: 'mallory@example.com', name: 'Mallory Attacker' };
const NEWCOMER = { email: 'nora@example.com', name: 'Nora Newcomer' };

let world;
const test = testWithEvidence(() => world);
let usher;
let page; // Alice's tab, signed in through her own link

before(async () => {
  world = await startWorld({ superusers: [ADMIN.email] });
  ({ usher } = world);
});

after(async () => {
  await world?.stop();
});

/** The token the tab holds. */
function storedToken(p) {
  return p.evaluate(() => sessionStorage.getItem('usher.token'));
}

/** The e-mail of the account the tab's token signs in as, asked of the API. */
function storedEmail(p) {
  return p.evaluate(async () => {
    const token = sessionStorage.getItem('usher.token');
    if (!token) return null;
    const res = await fetch('/user/get', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    return res.ok ? (await res.json()).email : `HTTP ${res.status}`;
  });
}

/** The address holds no token and shows the default screen. */
function assertFragmentCleared(p) {
  const url = p.url();
  assert.ok(!url.includes('token='), `the token is still in ${url}`);
  assert.ok(url.endsWith('#/me'), `the address is ${url}`);
}

/** The Me screen shows `person`, in the header and on the card. */
async function showsMe(p, person) {
  await p.locator('#whoami', { hasText: person.name }).waitFor();
  await p.locator('.me-card').getByText(person.email).waitFor();
}

test('without a session, a token link signs in directly', async () => {
  const fresh = await world.newPage();
  const token = usher.token(NEWCOMER.email, NEWCOMER.name);
  await fresh.goto(`${usher.base}/dashboard/#token=${token}`);
  await showsMe(fresh, NEWCOMER);
  assert.equal(await fresh.getByRole('alertdialog').count(), 0, 'nothing to confirm without a session');
  assertFragmentCleared(fresh);
  assert.equal(await storedToken(fresh), token);
  await fresh.context().close();
});

test("another account's link asks first, names both accounts; Keep my session keeps it", async () => {
  page = await world.openSession(ALICE);
  const aliceToken = await storedToken(page);
  const malloryToken = usher.token(MALLORY.email, MALLORY.name);

  // Opened as a new page load in the signed-in tab (a link followed from elsewhere).
  await page.goto(`${usher.base}/dashboard/?from=mail#token=${malloryToken}`);
  const dialog = page.getByRole('alertdialog', { name: 'Switch accounts?' });
  await dialog.waitFor();
  await dialog.locator('.swap-current', { hasText: ALICE.email }).waitFor();
  await dialog.locator('.swap-current', { hasText: ALICE.name }).waitFor();
  await dialog.locator('.swap-link', { hasText: MALLORY.email }).waitFor();
  await dialog.locator('.swap-link', { hasText: MALLORY.name }).waitFor();
  assert.ok(!page.url().includes('token='), `the token is still in ${page.url()} while the page asks`);
  assert.equal(await storedToken(page), aliceToken, 'the session is still Alice’s while the page asks');
  const keep = dialog.getByRole('button', { name: `Keep my session as ${ALICE.email}` });
  assert.ok(await keep.evaluate((el) => el === document.activeElement), 'the safe answer has the focus');
  await shot(page, 'swap-01-confirm');

  await keep.click();
  await showsMe(page, ALICE);
  assert.equal(await page.getByRole('alertdialog').count(), 0);
  assertFragmentCleared(page);
  assert.equal(await storedToken(page), aliceToken);
  assert.equal(await storedEmail(page), ALICE.email);

  // The link is gone from the history too: reloading does not ask again.
  await page.reload();
  await showsMe(page, ALICE);
  assert.equal(await page.getByRole('alertdialog').count(), 0);
  assert.equal(await storedEmail(page), ALICE.email);
});

test('the same link opened in the signed-in tab again: Switch replaces the session', async () => {
  const malloryToken = usher.token(MALLORY.email, MALLORY.name);
  // This time only the fragment changes (a hashchange on the running page).
  await page.evaluate((token) => {
    location.hash = `#token=${token}`;
  }, malloryToken);
  const dialog = page.getByRole('alertdialog', { name: 'Switch accounts?' });
  await dialog.locator('.swap-current', { hasText: ALICE.email }).waitFor();
  await dialog.locator('.swap-link', { hasText: MALLORY.email }).waitFor();
  assert.ok(!page.url().includes('token='), `the token is still in ${page.url()} while the page asks`);
  assert.equal(await storedEmail(page), ALICE.email, 'the session is still Alice’s while the page asks');

  await dialog.getByRole('button', { name: `Switch to ${MALLORY.email}` }).click();
  await showsMe(page, MALLORY);
  assertFragmentCleared(page);
  assert.equal(await storedToken(page), malloryToken);
  assert.equal(await storedEmail(page), MALLORY.email);
  await shot(page, 'swap-02-switched');
});

test('an invalid token in the link says so and keeps the session', async () => {
  // Mallory's tab now; a token whose signature does not match, opened as a hashchange
  // (only the fragment differs from the address the tab shows).
  const good = usher.token(ALICE.email, ALICE.name);
  const forged = `${good.slice(0, good.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
  await page.goto(`${usher.base}/dashboard/?from=mail#token=${forged}`);
  const notice = page.getByRole('alertdialog', { name: 'Sign-in link not used' });
  await notice.waitFor();
  await notice.getByText(/token is not valid/).waitFor();
  await notice.getByText(`You are still signed in as ${MALLORY.name} (${MALLORY.email}).`).waitFor();
  assert.ok(!page.url().includes('token='), `the token is still in ${page.url()}`);
  await shot(page, 'swap-03-invalid-link');

  await notice.getByRole('button', { name: `Continue as ${MALLORY.email}` }).click();
  await showsMe(page, MALLORY);
  assertFragmentCleared(page);
  assert.equal(await storedEmail(page), MALLORY.email);
});

test('a newer token of the signed-in account replaces the old one without asking', async () => {
  const old = await storedToken(page);
  // Minted with a longer lifetime, so it differs from the old one even
  // within the same second.
  const newer = usher.token(MALLORY.email, MALLORY.name, 7_200);
  assert.notEqual(newer, old);
  // Another query string: a new page load, not only a hashchange.
  await page.goto(`${usher.base}/dashboard/?from=chat#token=${newer}`);
  await page.waitForFunction((token) => sessionStorage.getItem('usher.token') === token, newer);
  await showsMe(page, MALLORY);
  assert.equal(await page.getByRole('alertdialog').count(), 0, 'the same account is not asked about');
  assertFragmentCleared(page);
  assert.equal(await storedToken(page), newer);
  await page.context().close();
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
