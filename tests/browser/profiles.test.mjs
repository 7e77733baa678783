// KYC profiles in a real browser (seed 001): a user drafts, fixes, edits and
// submits her profile; a superuser verifies it; a superuser files a profile
// for another user and the four-eyes rule sends it to a second superuser; a
// rejection with a reason; two reviewers racing; the screens at 375 px.
// The tests run in order and share one service.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, shot, countIs, go, noSidewaysScroll, testWithEvidence } from './harness.mjs';

const ADMIN_A = { email: 'alice.admin@example.com', name: 'Alice Reviewer' };
const ADMIN_B = { email: 'bob.admin@example.com', name: 'Bob Reviewer' };
const GRACE = { email: 'grace@example.com', name: 'Grace Hopper' };
const ALAN = { email: 'alan@example.com', name: 'Alan Turing' };

let world;
const test = testWithEvidence(() => world);
let gracePage;
let alanPage;
let adminA;
let adminB;

before(async () => {
  world = await startWorld({ superusers: [ADMIN_A.email, ADMIN_B.email] });
});

after(async () => {
  await world?.stop();
});

/** The inline message under the field labelled `label`. */
const fieldError = (page, label) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');

async function fill(page, values, scope = page) {
  for (const [label, value] of Object.entries(values)) await scope.getByLabel(label, { exact: true }).fill(value);
}

/** Opens the profile of `email` from the queue on Profile reviews. */
async function openFromQueue(page, email) {
  const card = page.locator(`article.profile-item[data-email="${email}"]`).first();
  await card.waitFor();
  await card.getByRole('button', { name: /^Open the profile of/ }).click();
  const detail = page.locator('section.profile-detail');
  await detail.waitFor();
  return detail;
}

test('a draft with invalid fields shows each message next to its field, and the problem title', async () => {
  gracePage = await world.openSession(GRACE);
  await go(gracePage, 'My KYC profile');
  await gracePage.getByText('No decided profiles yet.').waitFor();
  await fill(gracePage, { 'First name': 'Grace', 'Last name': 'Hopper@navy', Country: 'XX', City: 'Arlington' });
  await gracePage.getByRole('button', { name: 'Save draft' }).click();

  const alert = gracePage.getByRole('alert');
  await alert.locator('.title').filter({ hasText: /\S/ }).waitFor();
  await fieldError(gracePage, 'Last name').filter({ hasText: 'Last name must be' }).waitFor();
  await fieldError(gracePage, 'Country').filter({ hasText: 'ISO 3166-1' }).waitFor();
  assert.equal(await gracePage.getByLabel('Last name', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await fieldError(gracePage, 'First name').isVisible(), false, 'a valid field has no message');
  // Nothing was created.
  assert.equal(await gracePage.locator('.kyc-form[data-state="none"]').count(), 1);
  await shot(gracePage, 'kyc-01-invalid-fields');
});

test('fixing the fields saves a draft; an edit keeps untouched fields and clears emptied ones', async () => {
  await fill(gracePage, {
    'Last name': 'Hopper',
    Country: 'usa',
    'Date of birth': '1906-12-09',
    Address: '1 Navy Yard, Apt. 3',
    Postcode: '22201',
  });
  await gracePage.getByRole('button', { name: 'Save draft' }).click();
  await gracePage.getByRole('status').filter({ hasText: 'Draft saved.' }).waitFor();
  await gracePage.locator('.kyc-form[data-state="drafted"]').waitFor();
  assert.equal(await gracePage.locator('.field-error:visible').count(), 0, 'the messages are gone');
  // The service stores the alpha-2 code.
  assert.equal(await gracePage.getByLabel('Country', { exact: true }).inputValue(), 'US');

  await gracePage.getByLabel('City', { exact: true }).fill('New York');
  await gracePage.getByLabel('Postcode', { exact: true }).fill('');
  await gracePage.getByRole('button', { name: 'Save draft' }).click();
  await gracePage.getByRole('status').filter({ hasText: 'Draft saved.' }).waitFor();
  await gracePage.reload();
  await gracePage.locator('.kyc-form[data-state="drafted"]').waitFor();
  assert.equal(await gracePage.getByLabel('City', { exact: true }).inputValue(), 'New York');
  assert.equal(await gracePage.getByLabel('Postcode', { exact: true }).inputValue(), '');
  assert.equal(await gracePage.getByLabel('First name', { exact: true }).inputValue(), 'Grace');
  assert.equal(await gracePage.getByLabel('Date of birth', { exact: true }).inputValue(), '1906-12-09');
  await shot(gracePage, 'kyc-02-draft-saved');
});

test('submitting shows the profile read-only, waiting for review', async () => {
  await gracePage.getByLabel('Postcode', { exact: true }).fill('10001');
  await gracePage.getByRole('button', { name: 'Submit for review' }).click();
  await gracePage.getByRole('status').filter({ hasText: 'sent for review' }).waitFor();
  const current = gracePage.locator('.kyc-current[data-state="submitted"]');
  await current.getByText('Waiting for review').first().waitFor();
  await current.locator('dd[data-field="postcode"]', { hasText: '10001' }).waitFor();
  assert.equal(await gracePage.getByRole('button', { name: 'Save draft' }).count(), 0, 'no editing while in review');
  assert.equal(await current.locator('input').count(), 0);
  await shot(gracePage, 'kyc-03-waiting-for-review');
});

test('superuser A sees it in the queue, with the user, and verifies it', async () => {
  adminA = await world.openSession(ADMIN_A);
  await go(adminA, 'Profile reviews');
  const detail = await openFromQueue(adminA, GRACE.email);
  await detail.locator('h2', { hasText: `Profile of ${GRACE.name}` }).waitFor();
  await detail.locator('.email', { hasText: '(verified)' }).waitFor();
  await detail.locator('.author', { hasText: 'the user' }).waitFor();
  await detail.getByText(/Level 1/).waitFor();
  await detail.locator('dd[data-field="lastName"]', { hasText: 'Hopper' }).waitFor();
  await detail.getByText('None: this is the first profile of this user.').waitFor();
  await shot(adminA, 'kyc-04-review-detail');

  await detail.getByRole('button', { name: 'Verify', exact: true }).click();
  await detail.getByRole('status').filter({ hasText: 'profile verified' }).waitFor();
  const decided = adminA.locator('section.profile-detail[data-state="verified"]');
  await decided.locator('.decisions li[data-state="verified"]', { hasText: 'by you' }).waitFor();
  await decided.getByText(/Level 2/).waitFor();
  // It left the queue of profiles waiting for review.
  await countIs('the queue no longer lists Grace', adminA.locator(`article.profile-item[data-email="${GRACE.email}"]`), 0);
  await shot(adminA, 'kyc-05-verified');
});

test('the user sees the verified outcome in her past profiles', async () => {
  await gracePage.reload();
  const past = gracePage.locator('.kyc-past[data-state="verified"]');
  await past.waitFor();
  await past.getByText('A reviewer verified this profile.').waitFor();
  await past.getByText(/verified .*\d/).first().waitFor();
  await gracePage.getByRole('heading', { name: 'Start a new profile' }).waitFor();
  await shot(gracePage, 'kyc-06-user-sees-verified');
});

test('a profile filed by superuser A needs another superuser: A sees the four-eyes message, B verifies', async () => {
  alanPage = await world.openSession(ALAN); // Alan exists once he has signed in
  const file = adminA.locator('section.file-profile');
  await file.getByLabel('Find the user').fill('alan');
  await file.locator(`.user-choices li[data-email="${ALAN.email}"]`).getByRole('button', { name: /^Choose/ }).click();
  await file.locator('.chosen', { hasText: ALAN.email }).waitFor();
  // The same inline messages work on this form.
  await fill(adminA, { 'First name': 'Alan', 'Last name': 'Turing', City: 'Wilmslow #9', Country: 'GB' }, file);
  await file.getByRole('button', { name: 'File profile for review' }).click();
  await fieldError(adminA, 'City').filter({ hasText: 'City must be' }).waitFor();
  await file.getByLabel('City', { exact: true }).fill('Wilmslow');
  await file.getByRole('button', { name: 'File profile for review' }).click();
  await file.getByRole('status').filter({ hasText: `Filed a profile for ${ALAN.name}` }).waitFor();

  const detail = await openFromQueue(adminA, ALAN.email);
  await detail.locator('.author', { hasText: 'you' }).waitFor();
  await detail.getByRole('button', { name: 'Verify', exact: true }).click();
  const refusal = detail.locator('.four-eyes[role="alert"]');
  await refusal.getByText('Another superuser has to decide this profile.').waitFor();
  await refusal.getByText(/different superuser must verify or reject it/).waitFor();
  assert.ok((await refusal.locator('.problem-title').textContent()).trim().length > 0, 'the problem title is shown');
  assert.equal(await adminA.locator('section.profile-detail[data-state="submitted"]').count(), 1, 'still waiting');
  await shot(adminA, 'kyc-07-four-eyes');

  adminB = await world.openSession(ADMIN_B);
  await go(adminB, 'Profile reviews');
  const detailB = await openFromQueue(adminB, ALAN.email);
  await detailB.locator('.author', { hasText: ADMIN_A.email }).waitFor();
  await detailB.getByRole('button', { name: 'Verify', exact: true }).click();
  await detailB.getByRole('status').filter({ hasText: 'profile verified' }).waitFor();
  await adminB.locator('section.profile-detail[data-state="verified"] .decisions li[data-state="verified"]').waitFor();
  await shot(adminB, 'kyc-08-second-superuser-verified');
});

test('a rejection with a reason; the slower reviewer is told someone else decided', async () => {
  // Alan files a new profile himself and submits it at once.
  await go(alanPage, 'My KYC profile');
  await alanPage.locator('.kyc-past[data-state="verified"]').waitFor();
  await fill(alanPage, { 'First name': 'Alan', 'Last name': 'Turing', City: 'Manchester', Country: 'GBR' });
  await alanPage.getByRole('button', { name: 'Submit for review' }).click();
  await alanPage.locator('.kyc-current[data-state="submitted"]').waitFor();

  // Both reviewers open it.
  await adminA.getByRole('button', { name: 'Refresh' }).click();
  const detailA = await openFromQueue(adminA, ALAN.email);
  await detailA.locator('.other-profiles li[data-state="verified"]').waitFor();
  await detailA.locator('dd.differs[data-field="city"]').waitFor(); // Wilmslow → Manchester
  await adminB.getByRole('button', { name: 'Refresh' }).click();
  const detailB = await openFromQueue(adminB, ALAN.email);

  await detailA.getByRole('button', { name: 'Reject…' }).click();
  const reason = 'The city does not match the proof of address.';
  await detailA.getByLabel('Reason for rejecting').fill(reason);
  await shot(adminA, 'kyc-09-reject-reason');
  await detailA.getByRole('button', { name: 'Confirm reject' }).click();
  await detailA.getByRole('status').filter({ hasText: 'profile rejected' }).waitFor();
  const rejected = adminA.locator('section.profile-detail[data-state="rejected"]');
  await rejected.locator('.decisions li[data-state="rejected"] .reason', { hasText: reason }).waitFor();
  await rejected.locator('.decisions li[data-state="verified"]').waitFor(); // the earlier decision too
  await shot(adminA, 'kyc-10-rejected-with-history');

  // B still sees the old state and clicks Verify: 409, reloaded, and told so.
  await detailB.getByRole('button', { name: 'Verify', exact: true }).click();
  const now = adminB.locator('section.profile-detail[data-state="rejected"]');
  await now.getByRole('status').filter({ hasText: 'Another reviewer decided first: this profile is now Rejected.' }).waitFor();
  await now.getByRole('alert').locator('.title').filter({ hasText: /\S/ }).waitFor();
  await shot(adminB, 'kyc-11-already-decided');

  // The state filter finds it among the rejected ones.
  await adminB.getByLabel('Show', { exact: true }).selectOption('rejected');
  await adminB.locator(`article.profile-item[data-state="rejected"][data-email="${ALAN.email}"]`).waitFor();

  await alanPage.reload();
  const past = alanPage.locator('.kyc-past[data-state="rejected"]');
  await past.getByText(/A reviewer rejected this profile/).waitFor();
  await alanPage.locator('.kyc-past[data-state="verified"]').waitFor();
  await shot(alanPage, 'kyc-12-user-sees-rejected');
});

test('the queue pages with nextCursor, newest first', async () => {
  // Nine more users submit a profile through the API, so every state together fills more than one page of ten.
  for (let i = 1; i <= 9; i += 1) {
    const token = world.usher.token(`kyc-user-${i}@example.com`, `Queue Person ${i}`);
    const res = await fetch(`${world.usher.base}/resource/profiles`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ firstName: 'Queue', lastName: `Person ${i}`, country: 'DE', confirm: true }),
    });
    assert.equal(res.status, 201, await res.text());
  }
  await adminB.getByLabel('Show', { exact: true }).selectOption('');
  const cards = adminB.locator('article.profile-item');
  await countIs('the first page is full', cards, 10);
  assert.equal(await cards.first().getAttribute('data-email'), 'kyc-user-9@example.com', 'newest first');
  const next = adminB.getByRole('button', { name: 'Next page' });
  assert.equal(await next.isDisabled(), false);
  await next.click();
  await adminB.getByText('Page 2').waitFor();
  await countIs('the second page holds the rest', cards, 2);
  await adminB.locator(`article.profile-item[data-email="${GRACE.email}"]`).waitFor(); // the oldest
  assert.equal(await next.isDisabled(), true);
  await shot(adminB, 'kyc-12b-queue-page-2');
  await adminB.getByRole('button', { name: 'Previous page' }).click();
  await adminB.getByText('Page 1').waitFor();
  await countIs('back on the first page', cards, 10);
});

test('both screens work at 375 px wide without sideways scrolling', async () => {
  const user = await world.openSession(GRACE, { width: 375, height: 812 });
  await go(user, 'My KYC profile');
  await user.locator('.kyc-past[data-state="verified"]').waitFor();
  await user.getByLabel('Country', { exact: true }).fill('XX');
  await user.getByRole('button', { name: 'Save draft' }).click();
  await fieldError(user, 'Country').filter({ hasText: /\S/ }).waitFor();
  await noSidewaysScroll(user);
  await shot(user, 'kyc-13-mobile-my-profile');
  await user.context().close();

  const admin = await world.openSession(ADMIN_A, { width: 375, height: 812 });
  await go(admin, 'Profile reviews');
  await admin.getByLabel('Show', { exact: true }).selectOption('');
  const detail = await openFromQueue(admin, ALAN.email);
  await detail.locator('.decisions li').first().waitFor();
  await noSidewaysScroll(admin);
  await shot(admin, 'kyc-14-mobile-profile-reviews');
  await admin.context().close();
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
