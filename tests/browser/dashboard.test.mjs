// The dashboard in a real browser: Debian's Chromium driven by
// playwright-core against the real `usher` binary. The tests run in order
// and share one service: a user signs in, edits her name, a superuser links
// her Discord id, she uploads a photo, the superuser approves it, she
// uploads another, the superuser rejects it with a reason.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, png, shot, imagesLoaded, countIs, go, noSidewaysScroll, testWithEvidence } from './harness.mjs';

const ADMIN = { email: 'root@example.com', name: 'Root Reviewer' };
const USER = { email: 'ada@example.com', name: 'Ada Lovelace' };
const DISCORD_ID = '80351110224678912';

let world;
const test = testWithEvidence(() => world);
let discord;
let openSession;
let userPage;
let adminPage;

before(async () => {
  world = await startWorld({ superusers: [ADMIN.email] });
  ({ discord, openSession } = world);
});

after(async () => {
  await world?.stop();
});

test('without an identity provider the sign-in says it is the development mode and offers `usher token`', async () => {
  const page = await world.newPage();
  await page.goto(`${world.usher.base}/dashboard/`);
  const note = page.locator('.dev-mode');
  await note.getByText('Development mode.').waitFor();
  assert.match(await note.textContent(), /No identity provider is configured \(auth\.oidc\)/);
  await page.getByText('usher token --email you@example.com').waitFor();
  assert.equal(await page.getByRole('button', { name: /^Sign in with/ }).count(), 0);
  await page.context().close();
});

test('signs in through the link `usher token` prints, and the token leaves the address bar', async () => {
  userPage = await openSession(USER);
  const card = userPage.locator('.me-card');
  await card.locator('.name', { hasText: USER.name }).waitFor();
  await card.getByText(USER.email).waitFor();
  assert.ok(!userPage.url().includes('token='), `the token is still in ${userPage.url()}`);
  assert.ok(userPage.url().endsWith('#/me'));
  const stored = await userPage.evaluate(() => sessionStorage.getItem('usher.token'));
  assert.ok(stored && stored.split('.').length === 3, 'the token is in sessionStorage');
  // A regular user does not get the superuser screens.
  assert.equal(await userPage.getByRole('link', { name: 'Photo verifications' }).count(), 0);
  await shot(userPage, '01-signed-in');
});

test('edits the display name; a refused one shows the problem title and detail', async () => {
  const input = userPage.getByLabel('Display name', { exact: true });
  await input.fill('   ');
  await userPage.getByRole('button', { name: 'Save name' }).click();
  const alert = userPage.getByRole('alert');
  await alert.locator('.title', { hasText: 'Validation failed' }).waitFor();
  assert.ok((await alert.locator('.detail').textContent()).trim().length > 0, 'the detail is shown');
  await shot(userPage, '02-display-name-refused');

  await input.fill('Ada King');
  await userPage.getByRole('button', { name: 'Save name' }).click();
  await userPage.getByRole('status').filter({ hasText: 'Display name saved.' }).waitFor();
  await userPage.locator('.me-card .name', { hasText: 'Ada King' }).waitFor();
  await userPage.locator('#whoami', { hasText: 'Ada King' }).waitFor();

  await userPage.getByLabel('Manual status').selectOption('busy');
  await userPage.getByRole('button', { name: 'Set status' }).click();
  await userPage.locator('.me-card dd', { hasText: 'Busy' }).waitFor();
  await shot(userPage, '03-display-name-saved');
});

test('an upload before Discord is linked shows why it is refused', async () => {
  await userPage.getByLabel('New photo').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: png([20, 120, 200]) });
  await userPage.getByRole('button', { name: 'Upload photo' }).click();
  const alert = userPage.getByRole('alert');
  await alert.locator('.detail').filter({ hasText: /discord/i }).waitFor();
  assert.ok((await alert.locator('.title').textContent()).trim().length > 0);
  await shot(userPage, '04-upload-refused-no-discord');
});

test('a superuser links the Discord id on the Users screen', async () => {
  adminPage = await openSession(ADMIN);
  await go(adminPage, 'Users');
  await adminPage.getByLabel('Search users').fill('ada');
  const row = adminPage.locator(`article[data-email="${USER.email}"]`);
  await countIs('the search narrows the list to ada', adminPage.locator('article.user-row'), 1);
  await row.waitFor();
  await row.getByLabel('Discord id').fill(DISCORD_ID);
  await row.getByRole('button', { name: 'Save Discord id' }).click();
  await adminPage.getByRole('status').filter({ hasText: `Discord id ${DISCORD_ID} linked` }).waitFor();
  await shot(adminPage, '05-users-discord-linked');
});

test('the avatar upload goes through the real two-step upload and waits for review', async () => {
  await userPage.getByLabel('New photo').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: png([20, 120, 200]) });
  await userPage.getByRole('button', { name: 'Upload photo' }).click();
  await userPage.getByRole('status').filter({ hasText: 'waiting for review' }).waitFor();
  const pending = userPage.locator('.review[data-status="PENDING"]');
  await pending.waitFor();
  await imagesLoaded(pending);
  // The live avatar does not change before a reviewer approves.
  assert.equal(await userPage.locator('.me-card img').count(), 0);
  await shot(userPage, '06-avatar-pending');
});

test('photo verification: approve both, and the new photo goes live', async () => {
  await go(adminPage, 'Photo verifications');
  await adminPage.getByLabel('Username').fill('ada');
  const card = adminPage.locator('article.verification[data-status="PENDING"]');
  await card.waitFor();
  await card.getByRole('button', { name: 'Refresh Discord avatar' }).click();
  await adminPage.getByRole('status').filter({ hasText: 'Discord avatar read again' }).waitFor();
  const fresh = adminPage.locator('article.verification[data-status="PENDING"]');
  await fresh.getByRole('img', { name: /Discord avatar of/ }).waitFor();
  await fresh.getByRole('img', { name: /New photo from/ }).waitFor();
  await imagesLoaded(fresh);
  assert.ok(discord.requests.some((r) => r === `GET /users/${DISCORD_ID}`), 'usher asked the fake Discord');
  await shot(adminPage, '07-verification-card');

  await fresh.getByRole('button', { name: 'Approve both' }).click();
  await adminPage.getByRole('status').filter({ hasText: 'accepted, the new photo is live' }).waitFor();
  await adminPage.locator('.empty-list').waitFor(); // no PENDING left for ada
  await shot(adminPage, '08-verification-approved');

  await userPage.reload();
  const avatar = userPage.locator('.me-card img');
  await avatar.waitFor();
  assert.match(await avatar.getAttribute('src'), /\/files\//);
  await imagesLoaded(userPage.locator('.me-card'));
  await userPage.locator('.review[data-status="ACCEPTED"]').waitFor();
  await shot(userPage, '09-avatar-live');
});

test('photo verification: reject with a reason, which the user sees', async () => {
  const liveSrc = await userPage.locator('.me-card img').getAttribute('src');
  await userPage.getByLabel('New photo').setInputFiles({ name: 'other.png', mimeType: 'image/png', buffer: png([200, 60, 40]) });
  await userPage.getByRole('button', { name: 'Upload photo' }).click();
  await userPage.locator('.review[data-status="PENDING"]').waitFor();

  await adminPage.getByRole('button', { name: 'Refresh' , exact: true }).click();
  const card = adminPage.locator('article.verification[data-status="PENDING"]');
  await card.waitFor();
  await card.getByRole('button', { name: 'Reject…' }).click();
  const reason = 'Please upload a photo that shows your face.';
  await card.getByLabel(/Reason for rejecting/).fill(reason);
  await shot(adminPage, '10-reject-reason');
  await card.getByRole('button', { name: 'Confirm reject' }).click();
  await adminPage.getByRole('status').filter({ hasText: 'rejected' }).waitFor();

  await adminPage.getByLabel('Status').selectOption('REJECTED');
  await adminPage.locator('article.verification[data-status="REJECTED"] .reason', { hasText: reason }).waitFor();
  await shot(adminPage, '11-rejected-list');

  await userPage.reload();
  await userPage.locator('.review[data-status="REJECTED"] .reason', { hasText: reason }).waitFor();
  assert.equal(await userPage.locator('.me-card img').getAttribute('src'), liveSrc, 'the approved photo stays live');
  await shot(userPage, '12-user-sees-rejection');
});

test('works at 375 px wide without horizontal scrolling', async () => {
  const page = await openSession(ADMIN, { width: 375, height: 812 });
  await page.locator('.me-card').waitFor();
  await shot(page, '13-mobile-me');
  await go(page, 'Photo verifications');
  await page.getByLabel('Status').selectOption('all');
  await page.locator('article.verification').first().waitFor();
  await page.locator('article.verification[data-status="REJECTED"] .photo.empty', { hasText: 'Photo deleted' }).waitFor();
  await imagesLoaded(page.locator('.cards')); // no broken image anywhere in the history
  await noSidewaysScroll(page);
  await shot(page, '14-mobile-verifications');
  await page.context().close();
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
