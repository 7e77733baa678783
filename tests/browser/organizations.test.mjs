// The organization screens in a real browser, in order on one service: Ada
// creates an organization, invites Bob by e-mail and makes an open link
// (QR code and link shown once); Bob accepts in his own browser context; Ada
// changes his role; Carol opens the open link signed out, signs in on the
// landing page and joins; a withdrawn invitation's landing says so; the
// screens work at 375 px; no CSP violation or script error.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, shot, go, noSidewaysScroll, png, imagesLoaded, countIs, testWithEvidence } from './harness.mjs';

const ADA = { email: 'ada@example.com', name: 'Ada Lovelace' };
const BOB = { email: 'bob@example.com', name: 'Bob Babbage' };
const CAROL = { email: 'carol@example.com', name: 'Carol Herschel' };
const ORG = 'Analytical Engines';

let world;
const test = testWithEvidence(() => world);
let ada;
let bob;
let openLink; // the open link's URL, read from the page that showed it once
let withdrawnLink;
let bobLink; // Bob's e-mail invitation, single use

before(async () => {
  world = await startWorld({ superusers: [] });
});

after(async () => {
  await world?.stop();
});

/** Creates an invitation on the admin screen and returns the link shown once. */
async function createInvitation(page, { email, maxUses }) {
  const form = page.locator('form.invite-form');
  if (email) {
    await form.getByLabel('Who', { exact: true }).selectOption('email');
    await form.getByLabel('E-mail address').fill(email);
  } else {
    await form.getByLabel('Who', { exact: true }).selectOption('open');
    await form.getByLabel('How many people may use it').fill(String(maxUses));
  }
  await form.getByLabel('Role').selectOption('member');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  const once = page.getByRole('region', { name: email ? `Invitation for ${email}` : 'Open invitation link' });
  await once.waitFor();
  await once.getByText('This link is shown only once.').waitFor();
  const url = await once.getByRole('textbox', { name: 'Invitation link' }).inputValue();
  assert.match(url, /\/dashboard\/invite#token=[A-Za-z0-9_-]{43}$/);
  return { once, url };
}

test('Ada creates an organization on My organizations', async () => {
  ada = await world.openSession(ADA);
  await go(ada, 'My organizations');
  await ada.getByText('You do not belong to any organization yet.').waitFor();
  await ada.getByLabel('Organization name').fill(ORG);
  await ada.getByRole('button', { name: 'Create organization' }).click();
  await ada.getByRole('status').filter({ hasText: `${ORG} is created` }).waitFor();
  const card = ada.getByRole('article', { name: ORG });
  await card.locator('.current-badge', { hasText: 'Current' }).waitFor();
  await card.locator('dd.role', { hasText: 'Admin' }).waitFor();
  await shot(ada, 'orgs-01-created');
});

test('Ada invites Bob by e-mail and makes an open link, each shown once with its QR code', async () => {
  await ada.getByRole('article', { name: ORG }).getByRole('link', { name: 'Manage' }).click();
  await ada.locator('main h1', { hasText: 'Organization admin' }).waitFor();
  assert.match(ada.url(), /#\/org\/[0-9a-f-]{36}$/);
  await ada.locator('.org-header .org-name', { hasText: ORG }).waitFor();
  await ada.getByRole('article', { name: ADA.name }).waitFor(); // herself in Members

  const forBob = await createInvitation(ada, { email: BOB.email });
  bobLink = forBob.url;
  await forBob.once.getByRole('img', { name: /QR code of the invitation link/ }).waitFor();
  await ada.locator(`.invitation[data-status="pending"]`, { hasText: BOB.email }).waitFor();

  const open = await createInvitation(ada, { maxUses: 5 });
  openLink = open.url;
  const qr = open.once.getByRole('img', { name: /QR code/ });
  await qr.waitFor();
  // The server's SVG is shown as an image (where SVG runs no script), made
  // of shapes only, and drawn.
  const qrShape = await qr.evaluate(async (img) => {
    await img.decode();
    const svg = atob(img.src.slice('data:image/svg+xml;base64,'.length));
    return {
      tag: img.localName,
      src: img.src.slice(0, 26),
      elements: [...svg.matchAll(/<([a-zA-Z][\w:-]*)/g)].map((m) => m[1]),
      width: img.getBoundingClientRect().width,
      drawn: img.naturalWidth,
    };
  });
  assert.equal(qrShape.tag, 'img');
  assert.equal(qrShape.src, 'data:image/svg+xml;base64,');
  assert.ok(qrShape.elements.every((t) => ['svg', 'rect', 'path'].includes(t)), qrShape.elements.join());
  assert.ok(qrShape.width > 100 && qrShape.drawn > 0, `the QR code is ${qrShape.width}px wide`);
  await ada.locator('.invitation', { hasText: 'Open link' }).first().waitFor();
  await shot(ada, 'orgs-02-open-link-shown-once');

  // Shown once: after "Done" it is gone, and the list does not hold the link.
  await open.once.getByRole('button', { name: 'Done, hide it' }).click();
  assert.equal(await ada.getByRole('region', { name: 'Open invitation link' }).count(), 0);
  assert.equal(await ada.getByText(openLink).count(), 0);
});

test('Bob, in his own browser, sees the invitation on My organizations and accepts it', async () => {
  bob = await world.openSession(BOB);
  await go(bob, 'My organizations');
  const pending = bob.getByRole('article', { name: `Invitation to ${ORG}` });
  await pending.waitFor();
  await shot(bob, 'orgs-03-bob-pending');
  await pending.getByRole('button', { name: 'Accept' }).click();
  await bob.getByRole('status').filter({ hasText: `You joined ${ORG} as member.` }).waitFor();
  const card = bob.getByRole('article', { name: ORG });
  await card.locator('dd.role', { hasText: 'Member' }).waitFor();
  assert.equal(await bob.getByRole('article', { name: `Invitation to ${ORG}` }).count(), 0);
  // A member does not manage: no Manage link.
  assert.equal(await card.getByRole('link', { name: 'Manage' }).count(), 0);
  await shot(bob, 'orgs-04-bob-joined');
});

test('Ada sees Bob in Members and makes him a moderator; the history shows it', async () => {
  await ada.reload();
  const row = ada.locator(`.member[data-email="${BOB.email}"]`);
  await row.waitFor();
  await row.locator('.role-badge', { hasText: 'Member' }).waitFor();
  await row.getByLabel(`Role of ${BOB.name}`).selectOption('moderator');
  await row.getByRole('button', { name: 'Change role' }).click();
  await ada.getByRole('status').filter({ hasText: `${BOB.name} is now moderator.` }).waitFor();
  const fresh = ada.locator(`.member[data-email="${BOB.email}"]`);
  await fresh.locator('.role-badge', { hasText: 'Moderator' }).waitFor();
  await fresh.getByRole('button', { name: 'History' }).click();
  await fresh.locator('.history-list li', { hasText: 'role changed' }).waitFor();
  await fresh.locator('.history-list li', { hasText: 'joined by invitation' }).waitFor();
  // Bob's e-mail invitation reads as used up, with its acceptance in the log.
  const inv = ada.locator('.invitation', { hasText: BOB.email });
  await inv.locator('.status-badge', { hasText: 'Used up' }).waitFor();
  await inv.getByRole('button', { name: 'Acceptance log' }).click();
  await inv.locator('.history-list li[data-outcome="accepted"]').waitFor();
  await shot(ada, 'orgs-05-members-role-changed');
});

test('Ada adds a zone, uploads a logo through the two-step upload, and invites to the zone for 30 days', async () => {
  await ada.getByLabel('New zone name').fill('Workshop');
  await ada.getByRole('button', { name: 'Add zone' }).click();
  await ada.getByRole('status').filter({ hasText: 'Zone Workshop added.' }).waitFor();
  await ada.locator('.zone-list li', { hasText: 'Workshop' }).waitFor();

  await ada.getByLabel('New logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png([200, 120, 20]) });
  await ada.getByRole('button', { name: 'Upload logo' }).click();
  await ada.getByRole('status').filter({ hasText: 'The new logo is live.' }).waitFor();
  const header = ada.locator('.org-header');
  await header.getByRole('img', { name: `Logo of ${ORG}` }).waitFor();
  await header.scrollIntoViewIfNeeded(); // the logo loads lazily, once in view
  await imagesLoaded(header);

  const form = ada.locator('form.invite-form');
  await form.getByLabel('Who', { exact: true }).selectOption('open');
  await form.getByLabel('Zone').selectOption({ label: 'Workshop' });
  await form.getByLabel('Role').selectOption('guest');
  await form.getByLabel('Membership lasts (days)').fill('30');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  await ada.getByRole('region', { name: 'Open invitation link' }).waitFor();
  const inv = ada.locator('.invitation').first();
  await inv.locator('dd', { hasText: 'Workshop' }).waitFor();
  await inv.locator('dd', { hasText: 'lasts 30 days' }).waitFor();
  await shot(ada, 'orgs-05b-zone-logo-timebound');
});

test('Bob, now a moderator, manages members and invitations but not roles, zones or the logo', async () => {
  await go(bob, 'Organization admin');
  await bob.locator('.org-header .org-name', { hasText: ORG }).waitFor();
  await bob.locator(`.member[data-email="${ADA.email}"]`).waitFor();
  assert.equal(await bob.getByRole('button', { name: 'Change role' }).count(), 0);
  assert.equal(await bob.getByRole('button', { name: 'Add zone' }).count(), 0);
  assert.equal(await bob.getByRole('button', { name: 'Upload logo' }).count(), 0);
  // He cannot remove the admin, and invites guests and members only.
  assert.equal(await bob.locator(`.member[data-email="${ADA.email}"]`).getByRole('button', { name: 'Remove…' }).count(), 0);
  const roles = await bob.locator('form.invite-form').getByLabel('Role').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(roles, ['guest', 'member']);
  await bob.locator('.invitation').first().waitFor();
  await shot(bob, 'orgs-05c-moderator-view');
});

test('Carol opens the open link signed out, sees the preview, signs in there and joins', async () => {
  const page = await world.newPage();
  await page.goto(openLink);
  const preview = page.getByRole('article', { name: `Invitation to ${ORG}` });
  await preview.waitFor();
  await preview.getByText(`${ADA.name} invited you to join ${ORG}.`).waitFor();
  await preview.locator('dd.role', { hasText: 'Member' }).waitFor();
  await shot(page, 'orgs-06-landing-signed-out');

  await page.getByLabel('Access token').fill(world.usher.token(CAROL.email, CAROL.name));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${CAROL.name} (${CAROL.email}).`).waitFor();
  // The invitation token stayed in the fragment, and out of the session storage.
  assert.equal(page.url(), openLink);
  const stored = await page.evaluate(() => Object.values(sessionStorage));
  const invitationToken = openLink.split('#token=')[1];
  assert.ok(!stored.some((v) => v.includes(invitationToken)), 'the invitation token is not stored');

  await page.getByRole('button', { name: `Accept and join ${ORG}` }).click();
  await page.getByRole('status').filter({ hasText: `You joined ${ORG} as member.` }).waitFor();
  await shot(page, 'orgs-07-landing-joined');
  await page.getByRole('link', { name: 'Go to My organizations' }).click();
  await page.getByRole('article', { name: ORG }).locator('dd.role', { hasText: 'Member' }).waitFor();
  await page.context().close();
});

test('Ada withdraws an invitation, and its landing page says it was withdrawn', async () => {
  await ada.reload();
  withdrawnLink = (await createInvitation(ada, { email: 'dave@example.com' })).url;
  await ada.getByRole('button', { name: 'Done, hide it' }).click();
  const inv = ada.locator('.invitation[data-status="pending"]', { hasText: 'dave@example.com' });
  await inv.getByRole('button', { name: 'Withdraw…' }).click();
  await inv.getByRole('button', { name: 'Withdraw invitation' }).click();
  await ada.getByRole('status').filter({ hasText: 'The invitation was withdrawn.' }).waitFor();
  await ada.locator('.invitation[data-status="revoked"]', { hasText: 'dave@example.com' }).waitFor();
  await ada.getByLabel('Which invitations').selectOption('revoked');
  await until1(ada, '.invitation-list .invitation');
  await shot(ada, 'orgs-08-withdrawn-list');

  const page = await world.newPage();
  await page.goto(withdrawnLink);
  await page.getByRole('alert').locator('.title', { hasText: 'This invitation was withdrawn' }).waitFor();
  assert.equal(await page.getByLabel('Access token').count(), 0, 'no sign-in for an unusable invitation');
  await shot(page, 'orgs-09-landing-withdrawn');
  await page.context().close();
});

test('a used invitation says so; Decline on the landing answers an e-mail invitation and explains an open link', async () => {
  const used = await world.newPage();
  await used.goto(bobLink);
  await used.getByRole('alert').locator('.title', { hasText: 'This invitation was already accepted' }).waitFor();
  await used.context().close();

  await ada.reload();
  const forGrace = await createInvitation(ada, { email: 'grace@example.com' });
  const grace = await world.openSession({ email: 'grace@example.com', name: 'Grace Hopper' });
  await grace.goto(forGrace.url);
  await grace.getByRole('button', { name: 'Decline' }).click();
  await grace.getByRole('status').filter({ hasText: `You declined the invitation to ${ORG}.` }).waitFor();
  await shot(grace, 'orgs-09b-landing-declined');
  await grace.goto(openLink);
  await grace.getByRole('button', { name: 'Decline' }).click();
  await grace.getByRole('status').filter({ hasText: 'not addressed to you personally' }).waitFor();
  await grace.context().close();
  await ada.reload();
  await ada.locator('.invitation[data-status="rejected"]', { hasText: 'grace@example.com' }).waitFor();
});

/** Waits until exactly one element matches (the filtered list answered). */
async function until1(page, selector) {
  await page.waitForFunction((s) => document.querySelectorAll(s).length === 1, selector);
}

test('the e-mail link ?invitation= shows the invitation to its addressee, and says so to anyone else', async () => {
  await ada.reload();
  const form = ada.locator('form.invite-form');
  await form.getByLabel('Who', { exact: true }).selectOption('email');
  await form.getByLabel('E-mail address').fill('erin@example.com');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  await ada.getByRole('region', { name: 'Invitation for erin@example.com' }).waitFor();
  const id = await ada.locator('.invitation', { hasText: 'erin@example.com' }).getAttribute('data-invitation');
  const link = `${world.usher.base}/dashboard/invite?invitation=${id}`;

  // Signed in as someone else: which address it is for (masked), and the way to switch.
  const other = await world.openSession(CAROL);
  await other.goto(link);
  const notice = other.locator('[data-reason="email_mismatch"]');
  await notice.locator('.title', { hasText: 'This invitation is for e***@example.com' }).waitFor();
  await notice.getByText(`You are signed in as ${CAROL.email}.`).waitFor();
  await other.getByRole('button', { name: 'Sign in with another account' }).click();
  // In development mode the switch is the sign-in form on the same page, the invitation kept.
  await other.getByLabel('Access token').waitFor();
  assert.equal(await other.evaluate(() => sessionStorage.getItem('usher.token')), null);
  assert.ok(other.url().endsWith(`/dashboard/invite?invitation=${id}`), other.url());
  await other.context().close();

  // An id that is no pending invitation bound to an address: the general words.
  const stranger = await world.openSession(CAROL);
  await stranger.goto(`${world.usher.base}/dashboard/invite?invitation=${id.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}`);
  await stranger.getByRole('alert').locator('.title', { hasText: 'This invitation is not waiting for you' }).waitFor();
  await stranger.context().close();

  // Signed out: sign in on the page, then accept by id.
  const page = await world.newPage({ width: 375, height: 812 });
  await page.goto(link);
  await page.getByLabel('Access token').fill(world.usher.token('erin@example.com', 'Erin Noether'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: `Accept and join ${ORG}` }).click();
  await page.getByRole('status').filter({ hasText: `You joined ${ORG}` }).waitFor();
  await noSidewaysScroll(page);
  await shot(page, 'orgs-10-email-link-joined-mobile');
  await page.context().close();
});

test('Ada resends the open link: a new link is shown once and the old one no longer opens', async () => {
  await ada.reload();
  const inv = ada.locator('.invitation[data-status="pending"]').filter({ hasText: /\d of 5/ });
  await inv.getByRole('button', { name: 'Resend (new link)' }).click();
  const once = ada.getByRole('region', { name: 'New open invitation link' });
  await once.getByRole('img', { name: /QR code/ }).waitFor();
  const fresh = await once.getByRole('textbox', { name: 'Invitation link' }).inputValue();
  assert.notEqual(fresh, openLink);
  await ada.getByRole('status').filter({ hasText: 'A new link was made' }).waitFor();

  const page = await world.newPage();
  await page.goto(openLink);
  await page.getByRole('alert').locator('.title', { hasText: 'Invitation not found' }).waitFor();
  await shot(page, 'orgs-09c-landing-old-link');
  await page.goto(fresh);
  await page.getByRole('article', { name: `Invitation to ${ORG}` }).waitFor();
  await page.context().close();
  openLink = fresh;
});

test('the organization screens work at 375 px wide', async () => {
  const page = await world.openSession(ADA, { width: 375, height: 812 });
  await go(page, 'My organizations');
  await page.getByRole('article', { name: ORG }).waitFor();
  await noSidewaysScroll(page);
  await shot(page, 'orgs-11-mobile-my-orgs');

  await go(page, 'Organization admin');
  await page.locator(`.member[data-email="${BOB.email}"]`).waitFor();
  await page.locator('.invitation').first().waitFor();
  await createInvitation(page, { maxUses: 3 });
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  await noSidewaysScroll(page);
  await shot(page, 'orgs-12-mobile-admin');

  const landing = await world.newPage({ width: 375, height: 812 });
  await landing.goto(openLink);
  await landing.getByRole('article', { name: `Invitation to ${ORG}` }).waitFor();
  await landing.getByLabel('Access token').waitFor();
  await noSidewaysScroll(landing);
  await shot(landing, 'orgs-13-mobile-landing');
  await landing.context().close();
  await page.context().close();
});

test('Frank declines an invitation on My organizations; Bob switches organizations and leaves one', async () => {
  await ada.reload();
  await createInvitation(ada, { email: 'frank@example.com' });
  const frank = await world.openSession({ email: 'frank@example.com', name: 'Frank' });
  await go(frank, 'My organizations');
  const pending = frank.getByRole('article', { name: `Invitation to ${ORG}` });
  await pending.getByRole('button', { name: 'Decline' }).click();
  await frank.getByRole('status').filter({ hasText: `You declined the invitation to ${ORG}.` }).waitFor();
  assert.equal(await frank.getByRole('article', { name: `Invitation to ${ORG}` }).count(), 0);
  await frank.context().close();
  await ada.reload();
  await ada.locator('.invitation[data-status="rejected"]', { hasText: 'frank@example.com' }).waitFor();

  await go(bob, 'My organizations');
  await bob.getByLabel('Organization name').fill("Bob's Workshop");
  await bob.getByRole('button', { name: 'Create organization' }).click();
  await bob.getByRole('article', { name: "Bob's Workshop" }).locator('.current-badge').waitFor();
  await bob.getByRole('article', { name: ORG }).getByRole('button', { name: 'Make current' }).click();
  await bob.getByRole('status').filter({ hasText: `${ORG} is now your current organization.` }).waitFor();
  await bob.getByRole('article', { name: ORG }).locator('.current-badge').waitFor();

  // The last admin cannot leave: the refusal is shown as the service words it.
  const own = bob.getByRole('article', { name: "Bob's Workshop" });
  await own.getByRole('button', { name: 'Leave…' }).click();
  await own.getByRole('button', { name: "Leave Bob's Workshop" }).click();
  await bob.getByRole('alert').waitFor();
  assert.ok((await bob.getByRole('alert').locator('.title').textContent()).trim().length > 0);
  await shot(bob, 'orgs-14-last-admin-refused');

  const joined = bob.getByRole('article', { name: ORG });
  await joined.getByRole('button', { name: 'Leave…' }).click();
  await joined.getByRole('button', { name: `Leave ${ORG}` }).click();
  await bob.getByRole('status').filter({ hasText: `You left ${ORG}.` }).waitFor();
  assert.equal(await bob.getByRole('article', { name: ORG }).count(), 0);
  await shot(bob, 'orgs-15-left');
});

test('Ada renames the organization and removes its logo', async () => {
  await go(ada, 'Organization admin');
  const settings = ada.getByRole('region', { name: 'Name and logo' });
  await settings.getByLabel('Organization name').fill(`${ORG} Ltd`);
  await settings.getByRole('button', { name: 'Rename' }).click();
  await ada.getByRole('status').filter({ hasText: `Renamed to ${ORG} Ltd.` }).waitFor();
  await ada.locator('.org-header .org-name', { hasText: `${ORG} Ltd` }).waitFor();
  await settings.getByRole('button', { name: 'Remove logo' }).click();
  await ada.getByRole('status').filter({ hasText: 'Logo removed.' }).waitFor();
  assert.equal(await ada.locator('.org-header img').count(), 0);
  await ada.locator('.org-header .photo.empty', { hasText: 'AE' }).waitFor();
  assert.ok(await settings.getByRole('button', { name: 'Remove logo' }).isHidden());
});

test('members come in pages: "Show more members" appends the next page', async () => {
  const { url } = await createInvitation(ada, { maxUses: 60 });
  const token = decodeURIComponent(url.split('#token=')[1]);
  for (let i = 0; i < 52; i += 1) {
    const res = await fetch(`${world.usher.base}/invitation/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${world.usher.token(`crowd${i}@example.com`)}` },
      body: JSON.stringify({ token }),
    });
    assert.equal(res.status, 200, `crowd${i} joins`);
  }
  await ada.reload();
  const members = ada.getByRole('region', { name: 'Members' });
  const rows = members.locator('article.member');
  await countIs('the first page is shown', rows, 50);
  const more = members.getByRole('button', { name: 'Show more members' });
  await more.click();
  // The next page is appended: a 51st row.
  await rows.nth(50).waitFor({ state: 'attached' });
  await more.waitFor({ state: 'hidden' });
  const emails = await rows.locator('.email').allTextContents();
  assert.equal(new Set(emails).size, emails.length, 'nobody is listed twice');
  await members.locator('article.member', { hasText: 'ada@example.com' }).waitFor(); // the founder joined first: last page
  await shot(ada, 'orgs-16-members-paged');
});

test('the members search asks the server for a prefix of a name or an e-mail', async () => {
  const members = ada.getByRole('region', { name: 'Members' });
  const rows = members.locator('article.member');
  const search = members.getByLabel('Name or e-mail starts with');
  await search.fill('CROWD1');
  await search.press('Enter');
  // crowd1 and crowd10..crowd19, whatever the case typed; nobody else.
  await countIs('the search is answered', rows, 11);
  const emails = await rows.locator('.email').allTextContents();
  assert.ok(emails.every((e) => e.startsWith('crowd1')), emails.join(', '));
  assert.equal(await search.inputValue(), 'CROWD1');
  await search.fill('nobody-starts-like-this');
  await search.press('Enter');
  await members.locator('.empty-list', { hasText: 'Nobody here.' }).waitFor();
  await search.fill('');
  await search.press('Enter');
  await countIs('everyone is back', rows, 50);
});

test('the QR code is shown as an image, where even a hostile SVG runs nothing', async () => {
  // A context of its own: no dialog may open, no script error may happen,
  // and nothing the samples try may reach the page.
  const context = await world.browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${world.usher.base}/dashboard/invite`);
  await page.getByRole('heading', { name: 'Invitation' }).waitFor();
  const verdicts = await page.evaluate(async () => {
    const { qrImage } = await import('./screens/org-shared.js');
    const ns = 'xmlns="http://www.w3.org/2000/svg"';
    const pwn = 'top.pwned=1;alert(1)';
    const cases = {
      plain: `<?xml version="1.0" standalone="yes"?><svg ${ns} width="10" height="10" viewBox="0 0 10 10"><rect x="0" y="0" width="10" height="10" fill="#fff"/><path fill="#000" d="M0 0h1v1H0V0"/></svg>`,
      script: `<svg ${ns}><script>${pwn}</script></svg>`,
      handler: `<svg ${ns}><rect width="5" height="5" onclick="${pwn}"/></svg>`,
      rootHandler: `<svg ${ns} onload="${pwn}"><rect/></svg>`,
      foreign: `<svg ${ns}><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="${pwn}"/></div></foreignObject></svg>`,
      html: '<div>not svg</div>',
      notAscii: `<svg ${ns}><title>é</title></svg>`,
    };
    const verdicts = {};
    for (const [name, text] of Object.entries(cases)) {
      const node = qrImage(text, 'QR');
      if (!node) {
        verdicts[name] = null;
        continue;
      }
      document.body.append(node);
      await node.decode().catch(() => {});
      node.click();
      verdicts[name] = `${node.localName}:${node.alt}:${node.src.startsWith('data:image/svg+xml;base64,')}`;
    }
    return { verdicts, pwned: window.pwned === undefined ? 'no' : 'yes' };
  });
  const shown = 'img:QR:true';
  assert.deepEqual(verdicts, {
    verdicts: { plain: shown, script: shown, handler: shown, rootHandler: shown, foreign: shown, html: null, notAscii: null },
    pwned: 'no',
  });
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
