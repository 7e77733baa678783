// Reviews and personal-data rights in a real browser: a photo rejected with
// an internal note as final, with its event log; the four-eyes rule and a
// decision another reviewer made first on photos; a KYC profile rejected
// with a note and "retry" (the user sees the reason and may try again) and
// one rejected as final (no form, and the refusal when the form was
// already open); withdrawing a draft; downloading one's data; erasing a
// user. Photo verification is on without requiring Discord, so anyone may
// upload. The tests run in order and share one service.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorld, png, shot, countIs, go, imagesLoaded, noSidewaysScroll, testWithEvidence } from './harness.mjs';

const ADMIN_A = { email: 'ana.admin@example.com', name: 'Ana Reviewer' };
const ADMIN_B = { email: 'ben.admin@example.com', name: 'Ben Reviewer' };
const MARY = { email: 'mary@example.com', name: 'Mary Somerville' };
const KATE = { email: 'kate@example.com', name: 'Katherine Johnson' };
const LINUS = { email: 'linus@example.com', name: 'Linus Pauling' };
const WENDY = { email: 'wendy@example.com', name: 'Wendy Carlos' };
const ZED = { email: 'zed@example.com', name: 'Zed Shaw' };
const ROSALIND = { email: 'rosalind@example.com', name: 'Rosalind Franklin' };
const DISCORD_ID = '80351110224678999';

let world;
const test = testWithEvidence(() => world);
const tokens = new Map();
let adminA;
let adminB;
let maryPage;
let katePage;

before(async () => {
  world = await startWorld({
    superusers: [ADMIN_A.email, ADMIN_B.email],
    settings: { USHER_PHOTO_VERIFICATION__REQUIRE_DISCORD: 'false' },
  });
});

after(async () => {
  await world?.stop();
});

/** The bearer token of `person`, made once with `usher token`. */
function tokenOf(person) {
  if (!tokens.has(person.email)) tokens.set(person.email, world.usher.token(person.email, person.name));
  return tokens.get(person.email);
}

/** A request to the API as `person` (set-up only); resolves with the JSON answer. */
async function call(person, method, path, body, expect = 200) {
  const res = await fetch(`${world.usher.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(person)}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, expect, `${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function fill(scope, values) {
  for (const [label, value] of Object.entries(values)) await scope.getByLabel(label, { exact: true }).fill(value);
}

async function upload(page, colour) {
  await go(page, 'Me');
  await page.getByLabel('New photo').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: png(colour) });
  await page.getByRole('button', { name: 'Upload photo' }).click();
}

/** The PENDING card of `username` on Photo verifications. */
async function pendingCard(page, username) {
  await go(page, 'Photo verifications');
  await page.getByLabel('Username').fill(username);
  const cards = page.locator('article.verification[data-status="PENDING"]');
  const card = cards.filter({ has: page.locator('h2.who', { hasText: `(@${username})` }) });
  // The search is debounced: wait until the list holds that user's card alone.
  await countIs(`one pending card, of ${username}`, card, 1);
  await countIs('no other pending card', cards, 1);
  return card;
}

/** Opens the profile of `email` from the queue on Profile reviews. */
async function openFromQueue(page, email) {
  await go(page, 'Profile reviews');
  await page.getByRole('button', { name: 'Refresh', exact: true }).click(); // the screen may have been open a while
  const card = page.locator(`article.profile-item[data-email="${email}"]`).first();
  await card.waitFor();
  await card.getByRole('button', { name: /^Open the profile of/ }).click();
  const detail = page.locator('section.profile-detail');
  await detail.waitFor();
  return detail;
}

/** `person` signs in and sends a KYC profile for review. */
async function submitProfile(person, fields) {
  const page = await world.openSession(person);
  await go(page, 'My KYC profile');
  await fill(page, fields);
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await page.locator('.kyc-current[data-state="submitted"]').waitFor();
  return page;
}

test('four eyes on photos: a superuser is told plainly that another has to review their own photo', async () => {
  adminA = await world.openSession(ADMIN_A);
  await upload(adminA, [30, 160, 90]);
  await adminA.getByRole('status').filter({ hasText: 'waiting for review' }).waitFor();
  await go(adminA, 'Photo verifications');
  const own = adminA.locator('article.verification[data-status="PENDING"]', { hasText: ADMIN_A.name });
  await own.getByRole('button', { name: 'Approve profile' }).click();
  const refusal = adminA.locator('[role="alert"][data-code="photo.own_verification"]');
  await refusal.getByText('This is your own photo.').waitFor();
  await refusal.getByText('another superuser has to review it').waitFor();
  assert.ok((await refusal.locator('.problem-title').textContent()).trim().length > 0, "the service's title is shown too");
  await own.locator('.approval.no', { hasText: 'Profile: not approved' }).waitFor();
  await shot(adminA, 'reviews-01-photo-four-eyes');
});

test('a photo rejected with an internal note as final: the card, its event log, and the user sees the reason but not the note', async () => {
  maryPage = await world.openSession(MARY);
  const [mary] = (await call(ADMIN_A, 'GET', '/admin/users?q=mary')).items;
  await call(ADMIN_A, 'PATCH', `/admin/users/${mary.id}`, { discordId: DISCORD_ID });
  await upload(maryPage, [200, 80, 40]);
  await maryPage.locator('.review[data-status="PENDING"]').waitFor();

  // Ana approves the new photo (one side); Ben rejects it.
  const cardA = await pendingCard(adminA, 'mary');
  await cardA.getByRole('button', { name: 'Approve profile' }).click();
  await adminA.getByRole('status').filter({ hasText: 'profile side approved' }).waitFor();
  await cardA.locator('.approval.yes', { hasText: 'Profile: approved by you' }).waitFor();

  adminB = await world.openSession(ADMIN_B);
  const cardB = await pendingCard(adminB, 'mary');
  await cardB.locator('.approval.yes', { hasText: 'Profile: approved by a superuser' }).waitFor();
  await cardB.getByRole('button', { name: 'Reject…' }).click();
  const reason = 'The photo shows a drawing, not you.';
  const note = 'Third drawing from this account; escalated to trust & safety.';
  await cardB.getByLabel(/Reason for rejecting/).fill(reason);
  await cardB.getByLabel('Internal note (optional)').fill(note);
  await cardB.getByRole('radio', { name: 'Final: no more photos' }).check();
  assert.equal(await cardB.getByRole('radio', { name: 'May upload another photo' }).isChecked(), false);
  await shot(adminB, 'reviews-02-photo-reject-form');
  await cardB.getByRole('button', { name: 'Confirm reject' }).click();
  await adminB.getByRole('status').filter({ hasText: 'rejected (Final: no more photos)' }).waitFor();

  await adminB.getByLabel('Status').selectOption('REJECTED');
  const rejected = adminB.locator('article.verification[data-status="REJECTED"]');
  await rejected.locator('.decided', { hasText: 'Rejected by you' }).waitFor();
  await rejected.locator('.reason', { hasText: reason }).first().waitFor();
  await rejected.locator('.retry-line[data-retry="final"]', { hasText: 'Final: no more photos' }).first().waitFor();
  await rejected.locator('.note', { hasText: note }).first().waitFor();

  // The event log: the upload, Ana's approval of one side, Ben's rejection with its note.
  await rejected.getByRole('button', { name: 'Show history' }).click();
  const log = rejected.locator('.event-log');
  await log.locator('li[data-kind="created"]', { hasText: 'uploaded the new photo' }).waitFor();
  await log.locator('li[data-kind="profile_approved"]', { hasText: 'approved the new photo (profile side)' }).waitFor();
  const rejection = log.locator('li[data-kind="rejected"]');
  await rejection.getByText('You rejected the photo.', { exact: true }).waitFor();
  await rejection.locator('.reason', { hasText: reason }).waitFor();
  await rejection.locator('.note', { hasText: note }).waitFor();
  assert.equal(await rejected.getByRole('button', { name: 'Hide history' }).getAttribute('aria-expanded'), 'true');
  await shot(adminB, 'reviews-03-photo-event-log');

  // Ana's card is stale: her rejection is refused, in plain words, with the state it is in now.
  await cardA.getByRole('button', { name: 'Reject…' }).click();
  await cardA.getByLabel(/Reason for rejecting/).fill('Blurry.');
  await cardA.getByRole('button', { name: 'Confirm reject' }).click();
  const late = adminA.getByRole('alert').filter({ hasText: 'Another reviewer decided this first.' });
  await late.getByText('It is now Rejected.').waitFor();
  await shot(adminA, 'reviews-04-photo-decided-first');

  // Mary sees the reason and that it is final, never the note, and a new upload is refused.
  await maryPage.reload();
  const review = maryPage.locator('.review[data-status="REJECTED"]');
  await review.locator('.reason', { hasText: reason }).waitFor();
  await review.locator('.retry-line[data-retry="final"]', { hasText: 'you may not upload another photo' }).waitFor();
  assert.equal(await maryPage.getByText(note).count(), 0, 'the internal note stays with the reviewers');
  await maryPage.getByLabel('New photo').setInputFiles({ name: 'again.png', mimeType: 'image/png', buffer: png([10, 10, 200]) });
  await maryPage.getByRole('button', { name: 'Upload photo' }).click();
  await maryPage.getByRole('alert').locator('.detail', { hasText: /rejected/i }).waitFor();
  await shot(maryPage, 'reviews-05-user-sees-final-photo-rejection');
});

test('a profile rejected with a note and "retry": the decision log shows all three, the user sees the reason and may try again', async () => {
  katePage = await submitProfile(KATE, { 'First name': 'Katherine', 'Last name': 'Johnson', Country: 'US', City: 'Hampton' });
  const detail = await openFromQueue(adminA, KATE.email);
  await detail.getByRole('button', { name: 'Reject…' }).click();
  const reason = 'The last name does not match the passport scan.';
  const note = 'Passport scan says Coleman: maybe a maiden name.';
  await detail.getByLabel('Reason for rejecting').fill(reason);
  await detail.getByLabel('Internal note (optional)').fill(note);
  assert.equal(await detail.getByRole('radio', { name: 'May send a new profile' }).isChecked(), true, 'retry is the default');
  await shot(adminA, 'reviews-06-profile-reject-form');
  await detail.getByRole('button', { name: 'Confirm reject' }).click();
  await detail.getByRole('status').filter({ hasText: 'profile rejected' }).waitFor();
  const decision = adminA.locator('section.profile-detail[data-state="rejected"] .decisions li[data-state="rejected"]');
  await decision.locator('.reason', { hasText: reason }).waitFor();
  await decision.locator('.retry-line[data-retry="retry"]', { hasText: 'May send a new profile' }).waitFor();
  await decision.locator('.note', { hasText: note }).waitFor();
  await shot(adminA, 'reviews-07-profile-decision-log');

  await katePage.reload();
  const past = katePage.locator('.kyc-past[data-state="rejected"]');
  await past.locator('.reason', { hasText: reason }).waitFor();
  await past.locator('.retry-line[data-retry="retry"]', { hasText: 'You may send a new profile' }).waitFor();
  assert.equal(await katePage.getByText(note).count(), 0, 'the internal note stays with the reviewers');
  await katePage.getByRole('heading', { name: 'Start a new profile' }).waitFor();
  await katePage.locator('.kyc-form[data-state="none"]').getByText(reason).waitFor();
  await shot(katePage, 'reviews-08-user-may-try-again');

  // She does.
  await fill(katePage, { 'First name': 'Katherine', 'Last name': 'Coleman Johnson', Country: 'US' });
  await katePage.getByRole('button', { name: 'Submit for review' }).click();
  await katePage.locator('.kyc-current[data-state="submitted"]').waitFor();
});

test('a profile rejected as final: the user sees why and gets no new form; the slower reviewer is told who came first', async () => {
  const linus = await submitProfile(LINUS, { 'First name': 'Linus', 'Last name': 'Pauling', Country: 'US' });
  const slow = await openFromQueue(adminA, LINUS.email);
  const detail = await openFromQueue(adminB, LINUS.email);
  await detail.getByRole('button', { name: 'Reject…' }).click();
  const reason = 'The documents were altered.';
  await detail.getByLabel('Reason for rejecting').fill(reason);
  await detail.getByLabel('Internal note (optional)').fill('Edited PDF metadata.');
  await detail.getByRole('radio', { name: 'Final: no new profile from the user' }).check();
  await detail.getByRole('button', { name: 'Confirm reject' }).click();
  await adminB
    .locator('section.profile-detail[data-state="rejected"] .decisions .retry-line[data-retry="final"]', { hasText: 'Final: no new profile' })
    .waitFor();

  // Ana still has it open as waiting and verifies it: refused, and told it is now rejected.
  await slow.getByRole('button', { name: 'Verify', exact: true }).click();
  const now = adminA.locator('section.profile-detail[data-state="rejected"]');
  await now.getByRole('status').filter({ hasText: 'Another reviewer decided first: this profile is now Rejected.' }).waitFor();
  await shot(adminA, 'reviews-09-profile-decided-first');

  await linus.reload();
  const final = linus.locator('.kyc-final');
  await final.getByText(/the decision is final: you cannot send a new profile/).waitFor();
  await final.locator('.reason', { hasText: reason }).waitFor();
  await linus.locator('.kyc-past[data-state="rejected"] .retry-line[data-retry="final"]').waitFor();
  assert.equal(await linus.locator('.kyc-form').count(), 0, 'no form after a final rejection');
  assert.equal(await linus.getByRole('button', { name: 'Submit for review' }).count(), 0);
  assert.equal(await linus.getByText('Edited PDF metadata.').count(), 0);
  await shot(linus, 'reviews-10-user-final-no-form');
});

test('a final rejection that lands while the form is open: the refusal is shown and the form goes away', async () => {
  const page = await world.openSession(ROSALIND);
  await go(page, 'My KYC profile');
  await page.locator('.kyc-form[data-state="none"]').waitFor();
  // Meanwhile Ana files a profile for her and Ben rejects it as final.
  const [rosalind] = (await call(ADMIN_A, 'GET', '/admin/users?q=rosalind')).items;
  const filed = await call(ADMIN_A, 'POST', '/admin/profiles', { userId: rosalind.id, firstName: 'Rosalind', lastName: 'Franklin', country: 'GB' }, 201);
  await call(ADMIN_B, 'PUT', `/admin/profiles/${filed.id}`, { state: 'rejected', reason: 'Not a real person.', retry: 'final' });

  await fill(page, { 'First name': 'Rosalind', Country: 'GB' });
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await page.getByRole('alert').locator('.detail').filter({ hasText: /\S/ }).waitFor();
  await page.locator('.kyc-final .reason', { hasText: 'Not a real person.' }).waitFor();
  assert.equal(await page.locator('.kyc-form').count(), 0);
  await shot(page, 'reviews-10b-final-while-form-open');
});

test('withdrawing a draft asks first, then keeps it in the history as Withdrawn', async () => {
  const page = await world.openSession(WENDY);
  await go(page, 'My KYC profile');
  await fill(page, { 'First name': 'Wendy', City: 'Pawtucket' });
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.locator('.kyc-form[data-state="drafted"]').waitFor();

  await page.getByRole('button', { name: 'Withdraw draft…' }).click();
  const ask = page.getByRole('group', { name: /Withdraw this draft\?/ });
  await ask.getByText('stays in your past profiles as “Withdrawn”').waitFor();
  await shot(page, 'reviews-11-withdraw-confirm');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await ask.isVisible(), false);
  await page.getByRole('button', { name: 'Withdraw draft…' }).click();
  await ask.getByRole('button', { name: 'Withdraw draft', exact: true }).click();

  await page.getByRole('status').filter({ hasText: 'Your draft was withdrawn.' }).waitFor();
  const past = page.locator('.kyc-past[data-state="withdrawn"]');
  await past.locator('.badge', { hasText: 'Withdrawn' }).waitFor();
  await past.getByText('You withdrew this draft').waitFor();
  await page.locator('.kyc-form[data-state="none"]').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Withdraw draft…' }).count(), 0, 'nothing left to withdraw');
  await shot(page, 'reviews-12-withdrawn');

  // Reviewers find it under Withdrawn.
  await go(adminA, 'Profile reviews');
  await adminA.getByLabel('Show', { exact: true }).selectOption('withdrawn');
  await adminA.locator(`article.profile-item[data-state="withdrawn"][data-email="${WENDY.email}"]`).waitFor();
});

test('"Download my data" saves the export as a JSON file', async () => {
  await go(katePage, 'Me');
  const [download] = await Promise.all([katePage.waitForEvent('download'), katePage.getByRole('button', { name: 'Download my data' }).click()]);
  assert.match(download.suggestedFilename(), /^usher-export-\d+\.json$/);
  const data = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(data.user.email, KATE.email);
  assert.equal(data.profiles.length, 2);
  assert.ok(!JSON.stringify(data).includes('maiden name'), 'no reviewer note in the export');
  await katePage.getByRole('status').filter({ hasText: 'Your data was saved as usher-export-' }).waitFor();
});

test('erasing a user: the confirmation names them and says what happens; afterwards they are an Erased user', async () => {
  const zed = await world.openSession(ZED);
  await upload(zed, [90, 90, 90]);
  await zed.getByRole('status').filter({ hasText: 'waiting for review' }).waitFor();

  await go(adminA, 'Users');
  await adminA.getByLabel('Search users').fill('zed');
  const row = adminA.locator(`article.user-row[data-email="${ZED.email}"]`);
  await countIs('the search narrows the list to zed', adminA.locator('article.user-row'), 1);
  await row.getByRole('button', { name: 'Erase personal data…' }).click();
  const ask = row.locator('.confirm');
  await ask.getByText(`Erase the personal data of ${ZED.name} (${ZED.email})? This cannot be undone.`).waitFor();
  await ask.getByText(/replaced by a pseudonym/).waitFor();
  await ask.getByText(/KYC profile data is destroyed/).waitFor();
  await ask.getByText(/photo they sent for review are deleted/).waitFor();
  await ask.getByText(/Decisions, memberships and history are kept/).waitFor();
  await noSidewaysScroll(adminA);
  await shot(adminA, 'reviews-13-erase-confirm');
  await ask.getByRole('button', { name: `Erase ${ZED.name}'s data` }).click();
  await adminA.getByRole('status').filter({ hasText: `Erased the personal data of ${ZED.name}` }).waitFor();
  await adminA.getByRole('status').filter({ hasText: '1 photo deleted' }).waitFor();
  await adminA.getByText('No users match.').waitFor(); // the search for zed finds nobody now
  await shot(adminA, 'reviews-14-erased');

  // Under the pseudonym the row is still there; erasing again says so.
  await adminA.getByLabel('Search users').fill('Erased user');
  const erased = adminA.locator('article.user-row', { has: adminA.locator('h2', { hasText: 'Erased user' }) });
  await countIs('one erased user', erased, 1);
  assert.ok(!(await erased.textContent()).includes('zed'), 'nothing of the e-mail is left');
  await erased.getByRole('button', { name: 'Erase personal data…' }).click();
  await erased.locator('.confirm').getByRole('button', { name: "Erase Erased user's data" }).click();
  await adminA.getByRole('status').filter({ hasText: 'was already erased' }).waitFor();

  // The photo review is closed; the old session is refused.
  await go(adminA, 'Photo verifications');
  await adminA.getByLabel('Status').selectOption('all');
  await adminA.getByLabel('Username').fill('zed');
  await adminA.getByText('No verifications match.').waitFor();
  await zed.reload();
  await zed.getByRole('alert').getByText(/erased/).waitFor();
  await shot(zed, 'reviews-15-erased-session');
});

test("erasing one's own account shows the service's refusal in plain words", async () => {
  await go(adminA, 'Users');
  await adminA.getByLabel('Search users').fill(ADMIN_A.email);
  const row = adminA.locator(`article.user-row[data-email="${ADMIN_A.email}"]`);
  await countIs('the search narrows the list to Ana', adminA.locator('article.user-row'), 1);
  await row.getByRole('button', { name: 'Erase personal data…' }).click();
  await row.locator('.confirm').getByRole('button', { name: `Erase ${ADMIN_A.name}'s data` }).click();
  const refusal = adminA.locator('[role="alert"][data-code="user.erase_own_account"]');
  await refusal.getByText('You cannot erase your own account.').waitFor();
  await refusal.getByText('Another superuser has to erase it for you.').waitFor();
  await row.waitFor(); // still there
  await shot(adminA, 'reviews-16-erase-own-account');
});

test('the review screens work at 375 px wide with the forms and the log open', async () => {
  const page = await world.openSession(ADMIN_B, { width: 375, height: 812 });
  await go(page, 'Photo verifications');
  await page.getByLabel('Status').selectOption('all');
  const card = page.locator('article.verification[data-status="REJECTED"]').first();
  await card.getByRole('button', { name: 'Show history' }).click();
  await card.locator('.event-log li[data-kind="rejected"]').waitFor();
  await imagesLoaded(page.locator('.cards'));
  await noSidewaysScroll(page);
  await shot(page, 'reviews-17-mobile-event-log');
  const pending = page.locator('article.verification[data-status="PENDING"]').first();
  await pending.getByRole('button', { name: 'Reject…' }).click();
  await pending.getByRole('radio', { name: 'Final: no more photos' }).waitFor();
  await noSidewaysScroll(page);

  const detail = await openFromQueue(page, KATE.email);
  await detail.getByRole('button', { name: 'Reject…' }).click();
  await detail.getByRole('radio', { name: 'Final: no new profile from the user' }).waitFor();
  await noSidewaysScroll(page);
  await shot(page, 'reviews-18-mobile-profile-reject');
  await page.context().close();
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
