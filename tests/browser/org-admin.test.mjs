// Organization admin as the server's `youMay` shapes it, in a real browser,
// in order on one service. Ada (admin) sets up an organization with the
// zones North and South through the API; Mona joins as a moderator of North
// only and sees only North and the roles she may grant; the invitations
// list pages ("Show more invitations") and searches by e-mail; Ada removes
// Nora with a block, the Blocked section lists her and Unblock lets her
// back; Ada edits Sam's zones and end date; the e-mail link finds an
// invitation beyond the first page of /invitation/mine, and My
// organizations shows more invitations on demand; Activity names who did
// what, pages, narrows to days and downloads the CSV, and a moderator has
// none; Webhooks registers an endpoint, shows its secret once, lists its
// deliveries with their attempts, replays one under the same id and
// disables it, and a moderator has none; no CSP violation.

import { before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import { startWorld, shot, go, noSidewaysScroll, countIs, testWithEvidence } from './harness.mjs';

const ADA = { email: 'ada@example.com', name: 'Ada Lovelace' };
const MONA = { email: 'mona@example.com', name: 'Mona Moderator' };
const NORA = { email: 'nora@example.com', name: 'Nora North' };
const SAM = { email: 'sam@example.com', name: 'Sam South' };
const QUINN = { email: 'quinn@example.com', name: 'Quinn Many' };
const ORG = 'Northwind Trading';

let world;
const test = testWithEvidence(() => world);
const tokens = new Map();
let orgId;
let north;
let south;
let ada;

before(async () => {
  world = await startWorld({ superusers: [], settings: { USHER_EVENTS__WEBHOOK_INTERVAL_SECONDS: '1' } });
});

after(async () => {
  await world?.stop();
});

/** The bearer token of `person`, made once with `usher token`. */
function tokenOf(person) {
  if (!tokens.has(person.email)) tokens.set(person.email, world.usher.token(person.email, person.name));
  return tokens.get(person.email);
}

/** A POST to the API as `person`; resolves with the JSON answer, or with `{status, problem}` when `expect` is a status. */
async function call(person, path, body, expect = 200) {
  const res = await fetch(`${world.usher.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(person)}` },
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  assert.equal(res.status, expect, `${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** `person` joins through a single-use link of `role` (and `zoneId`) that Ada makes. */
async function join(person, role, zoneId) {
  const made = await call(ADA, '/invitation/create', { organizationId: orgId, role, zoneId, maxUses: 1 });
  const token = decodeURIComponent(made.url.split('#token=')[1]);
  await call(person, '/invitation/accept', { token });
}

/** The option values of the select labelled `label` inside `scope`. */
function optionValues(scope, label) {
  return scope.getByLabel(label, { exact: true }).locator('option').evaluateAll((os) => os.map((o) => o.value));
}

test('set-up through the API: Ada, her organization, the zones North and South, and members in each', async () => {
  const me = await call(ADA, '/organization/create', { name: ORG });
  orgId = me.currentOrganizationId;
  north = (await call(ADA, '/organization/zones/create', { organizationId: orgId, name: 'North' })).id;
  south = (await call(ADA, '/organization/zones/create', { organizationId: orgId, name: 'South' })).id;
  await join(MONA, 'moderator', north);
  await join(NORA, 'member', north);
  await join(SAM, 'member', south);
  const view = await call(MONA, '/organization/get', { organizationId: orgId });
  assert.deepEqual(view.youMay.zones, [north]);
  assert.deepEqual(view.youMay.grantRoles, ['guest', 'member']);
});

test('a moderator of North sees only North and the roles she may grant, and invites there', async () => {
  const mona = await world.openSession(MONA);
  await go(mona, 'Organization admin');
  await mona.locator('.org-header .org-name', { hasText: ORG }).waitFor();
  await mona.locator('.org-header .your-zones', { hasText: 'You manage the zone North only.' }).waitFor();
  const form = mona.locator('form.invite-form');
  assert.deepEqual(await optionValues(form, 'Role'), ['guest', 'member']);
  // Only her zone, and no "whole organization" to choose.
  assert.deepEqual(await optionValues(form, 'Zone'), [north]);
  assert.equal(await form.getByLabel('Zone', { exact: true }).locator('option', { hasText: 'The whole organization' }).count(), 0);

  // She sees the members of North only, may remove Nora, and changes nobody's role, zones or history.
  const members = mona.getByRole('region', { name: 'Members' });
  const nora = members.locator(`.member[data-email="${NORA.email}"]`);
  await nora.waitFor();
  assert.equal(await members.locator(`.member[data-email="${SAM.email}"]`).count(), 0, 'Sam (South) is outside her zone');
  assert.equal(await members.locator(`.member[data-email="${ADA.email}"]`).count(), 0, 'an organization-wide admin is outside her zone');
  await nora.getByRole('button', { name: 'Remove…' }).waitFor();
  assert.equal(await members.locator(`.member[data-email="${MONA.email}"]`).getByRole('button', { name: 'Remove…' }).count(), 0);
  for (const name of ['Change role', 'Zones and end date…', 'History', 'Add zone', 'Upload logo']) {
    assert.equal(await mona.getByRole('button', { name }).count(), 0, `no ${name}`);
  }
  // The Blocked section is there for her to read, without Unblock.
  await mona.getByRole('region', { name: 'Blocked' }).getByText('Nobody is blocked.').waitFor();

  await form.getByLabel('Who', { exact: true }).selectOption('open');
  await form.getByLabel('Role', { exact: true }).selectOption('guest');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  await mona.getByRole('region', { name: 'Open invitation link' }).waitFor();
  const inv = mona.locator('.invitation').first();
  await inv.locator('dd', { hasText: 'North' }).waitFor();
  await inv.locator('dd', { hasText: 'Guest' }).waitFor();
  await shot(mona, 'admin-01-zone-moderator');

  const small = await world.openSession(MONA, { width: 375, height: 812 });
  await go(small, 'Organization admin');
  await small.locator(`.member[data-email="${NORA.email}"]`).waitFor();
  await noSidewaysScroll(small);
  await shot(small, 'admin-02-zone-moderator-mobile');
  await small.context().close();
  await mona.context().close();
});

test('invitations come in pages: "Show more invitations" appends the next one, and the e-mail search narrows them', async () => {
  for (let i = 0; i < 22; i += 1) await call(ADA, '/invitation/create', { organizationId: orgId, maxUses: 2 });
  await call(ADA, '/invitation/create', { organizationId: orgId, email: 'zelda@example.com' });
  ada = await world.openSession(ADA);
  await go(ada, 'Organization admin');
  const section = ada.getByRole('region', { name: 'Invitations' });
  const rows = section.locator('article.invitation');
  await countIs('the first page is shown', rows, 20);
  await shot(ada, 'admin-03-invitations-first-page');
  const more = section.getByRole('button', { name: 'Show more invitations' });
  await more.click();
  // 23 made here, plus the 3 joining links (used up) and Mona's.
  await countIs('the next page is appended', rows, 27);
  await more.waitFor({ state: 'hidden' });
  const ids = await rows.evaluateAll((els) => els.map((e) => e.dataset.invitation));
  assert.equal(new Set(ids).size, ids.length, 'no invitation is listed twice');

  await section.getByLabel('E-mail starts with').fill('ZEL');
  await countIs('the search answered', rows, 1);
  await rows.first().locator('.who', { hasText: 'zelda@example.com' }).waitFor();
  assert.ok(await more.isHidden());
  await section.getByLabel('E-mail starts with').fill('');
  await section.getByLabel('Which invitations').selectOption('accepted');
  await countIs('the used-up joining links are listed', rows, 3);
  await shot(ada, 'admin-04-invitations-filtered');
  await section.getByLabel('Which invitations').selectOption('');
  await countIs('all again', rows, 20);
});

test('Ada removes Nora with a block: Blocked lists her, her next link is refused, and Unblock lets her back', async () => {
  const members = ada.getByRole('region', { name: 'Members' });
  const nora = members.locator(`.member[data-email="${NORA.email}"]`);
  await nora.getByRole('button', { name: 'Remove…' }).click();
  await nora.getByLabel('Block from rejoining').check();
  await shot(ada, 'admin-05-remove-with-block');
  await nora.getByRole('button', { name: `Remove ${NORA.name}` }).click();
  await ada.getByRole('status').filter({ hasText: `${NORA.name} was removed and blocked from rejoining.` }).waitFor();
  await members.locator(`.member[data-email="${NORA.email}"]`).waitFor({ state: 'detached' });

  const blocked = ada.getByRole('region', { name: 'Blocked' });
  const row = blocked.getByRole('article', { name: NORA.name });
  await row.getByText(`by ${ADA.name}`).waitFor();
  await shot(ada, 'admin-06-blocked-list');

  // The block holds: a fresh link of Ada's does not let her back in.
  const made = await call(ADA, '/invitation/create', { organizationId: orgId, zoneId: north, maxUses: 1 });
  const token = decodeURIComponent(made.url.split('#token=')[1]);
  const refused = await call(NORA, '/invitation/accept', { token }, 403);
  assert.equal(refused.code, 'invitation.blocked');

  // A moderator reads the list but may not lift a block.
  const mona = await world.openSession(MONA);
  await go(mona, 'Organization admin');
  await mona.getByRole('region', { name: 'Blocked' }).getByRole('article', { name: NORA.name }).waitFor();
  assert.equal(await mona.getByRole('button', { name: 'Unblock' }).count(), 0);
  await mona.context().close();

  await row.getByRole('button', { name: 'Unblock' }).click();
  await ada.getByRole('status').filter({ hasText: `${NORA.name} may join again by invitation.` }).waitFor();
  await blocked.getByText('Nobody is blocked.').waitFor();
  await call(NORA, '/invitation/accept', { token });
  await ada.reload();
  await members.locator(`.member[data-email="${NORA.email}"]`).waitFor();
});

test('Ada edits Sam\'s zones and end date, then makes him permanent again; the history records both', async () => {
  const members = ada.getByRole('region', { name: 'Members' });
  const sam = () => members.locator(`.member[data-email="${SAM.email}"]`);
  await sam().getByRole('button', { name: 'Zones and end date…' }).click();
  const form = sam().locator('form.terms-form');
  await form.getByRole('group', { name: `Zones of ${SAM.name}` }).waitFor();
  assert.ok(await form.getByLabel('South', { exact: true }).isChecked());
  await form.getByLabel('North', { exact: true }).check();
  await form.getByLabel('No end date').uncheck();
  const end = new Date(Date.now() + 30 * 86400_000);
  const pad = (n) => String(n).padStart(2, '0');
  const day = `${end.getFullYear()}-${pad(end.getMonth() + 1)}-${pad(end.getDate())}`;
  await form.getByLabel(`Last day of ${SAM.name}`).fill(day);
  await shot(ada, 'admin-07-edit-member');
  await form.getByRole('button', { name: 'Save zones and end date' }).click();
  await ada.getByRole('status').filter({ hasText: `Saved for ${SAM.name}:` }).waitFor();
  await sam().locator('dd.zones', { hasText: 'North' }).waitFor();
  await sam().locator('dd.zones', { hasText: 'South' }).waitFor();
  await sam().locator('dd.membership-end', { hasText: 'Ends' }).waitFor();
  const saved = await call(ADA, '/organization/members/list', { organizationId: orgId, status: 'active' });
  const samNow = saved.members.find((m) => m.email === SAM.email);
  assert.deepEqual(new Set(samNow.zones), new Set([north, south]));
  const ends = new Date(samNow.expiresAt);
  assert.equal(`${ends.getFullYear()}-${pad(ends.getMonth() + 1)}-${pad(ends.getDate())}`, day, 'the end is on the chosen day');

  await sam().getByRole('button', { name: 'Zones and end date…' }).click();
  await sam().locator('form.terms-form').getByLabel('No end date').check();
  await sam().locator('form.terms-form').getByRole('button', { name: 'Save zones and end date' }).click();
  await ada.getByRole('status').filter({ hasText: 'no end date' }).waitFor();
  await sam().locator('dd.membership-end', { hasText: 'No end date' }).waitFor();
  await sam().getByRole('button', { name: 'History' }).click();
  await sam().locator('.history-list li', { hasText: 'zones changed' }).waitFor();
  await sam().locator('.history-list li', { hasText: 'end date changed' }).waitFor();
  await shot(ada, 'admin-08-member-edited');

  // The editor and the remove question with its block choice fit at 375 px.
  const small = await world.openSession(ADA, { width: 375, height: 812 });
  await go(small, 'Organization admin');
  const smallSam = small.locator(`.member[data-email="${SAM.email}"]`);
  await smallSam.getByRole('button', { name: 'Zones and end date…' }).click();
  await smallSam.getByLabel(`Last day of ${SAM.name}`).waitFor();
  await smallSam.getByRole('button', { name: 'Remove…' }).click();
  await smallSam.getByLabel('Block from rejoining').waitFor();
  await noSidewaysScroll(small);
  await shot(small, 'admin-08b-member-editor-mobile');
  await small.context().close();
});

test('Activity names who did what, shows more on demand, narrows to days and downloads the same as CSV; a moderator has none', async () => {
  // Enough activity for two pages of 100: seventy more invitations.
  for (let i = 0; i < 70; i += 1) await call(ADA, '/invitation/create', { organizationId: orgId, role: 'member' });
  // How many entries the audit holds, as the API counts them.
  const res = await fetch(`${world.usher.base}/organization/audit?organizationId=${orgId}&limit=500`, {
    headers: { authorization: `Bearer ${tokenOf(ADA)}` },
  });
  const total = (await res.json()).entries.length;
  assert.ok(total > 100, `enough activity for two pages: ${total}`);

  await ada.reload();
  const activity = ada.getByRole('region', { name: 'Activity' });
  const rows = activity.locator('.activity-list .activity');
  await activity.locator('.activity[data-type="organization.created"]', { hasText: `${ADA.name} created the organization` }).waitFor();
  await countIs('the first page of activity', rows, 100);
  await activity.locator('.activity[data-type="membership.unblocked"]', { hasText: `${ADA.name} unblocked someone` }).waitFor();
  await activity.getByRole('button', { name: 'Show more activity' }).click();
  await countIs('all of the activity', rows, total);
  await shot(ada, 'admin-08c-activity');

  const [download] = await Promise.all([ada.waitForEvent('download'), activity.getByRole('button', { name: 'Download CSV' }).click()]);
  assert.equal(download.suggestedFilename(), 'usher-audit.csv');
  const lines = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.match(lines[0], /^"occurredAt","type","actorId","actorName"/);
  assert.equal(lines.length, total + 1, 'a header and a row per entry');
  assert.ok(lines.some((l) => l.includes('"organization.created"') && l.includes(`"${ADA.name}"`)), lines[1]);

  // Days long past: nothing happened then.
  const range = activity.locator('form.activity-range');
  await range.getByLabel('From').fill('2020-01-01');
  await range.getByLabel('To (inclusive)').fill('2020-01-02');
  await range.getByRole('button', { name: 'Show' }).click();
  await activity.getByText('Nothing happened in these days.').waitFor();

  // A moderator reads the members but not the organization's activity.
  const mona = await world.openSession(MONA);
  await go(mona, 'Organization admin');
  await mona.getByRole('region', { name: 'Members' }).waitFor();
  assert.equal(await mona.getByRole('region', { name: 'Activity' }).count(), 0);
  await mona.context().close();
});

test('the e-mail link finds an invitation beyond the first page of mine; My organizations shows more on demand', async () => {
  const quinn = await call(QUINN, '/user/get', {});
  let oldest;
  for (let i = 0; i < 105; i += 1) {
    const made = await call(ADA, '/invitation/create', { organizationId: orgId, userId: quinn.id, role: 'guest' });
    if (i === 0) oldest = made.invitation.id;
  }
  const first = await call(QUINN, '/invitation/mine', { limit: 100 });
  assert.ok(!first.invitations.some((x) => x.invitation.id === oldest), 'the oldest is not on the first page');

  // My organizations shows the first page of them, and more on demand.
  const page = await world.openSession(QUINN);
  await go(page, 'My organizations');
  const waiting = page.getByRole('region', { name: 'Invitations waiting for you' });
  const cards = waiting.locator('article.invitation-mine');
  await countIs('the first page of waiting invitations is shown', cards, 20);
  await waiting.getByRole('button', { name: 'Show more invitations' }).click();
  await countIs('the next page is appended', cards, 40);
  const ids = await cards.evaluateAll((els) => els.map((e) => e.dataset.invitation));
  assert.equal(new Set(ids).size, ids.length, 'no invitation is listed twice');
  await shot(page, 'admin-09-my-invitations-paged');

  // The e-mail link pages through them until it finds the oldest.
  await page.goto(`${world.usher.base}/dashboard/invite?invitation=${oldest}`);
  await page.getByRole('article', { name: `Invitation to ${ORG}` }).waitFor();
  await page.getByRole('button', { name: `Accept and join ${ORG}` }).click();
  await page.getByRole('status').filter({ hasText: `You joined ${ORG} as guest.` }).waitFor();
  await shot(page, 'admin-10-email-link-second-page');

  // A guest manages nothing: no Manage link on the organization.
  await page.getByRole('link', { name: 'Go to My organizations' }).click();
  const card = page.getByRole('article', { name: ORG, exact: true });
  await card.locator('dd.role', { hasText: 'Guest' }).waitFor();
  assert.equal(await card.getByRole('link', { name: 'Manage' }).count(), 0);
  await page.context().close();
});

/** A webhook receiver on loopback: answers 503 to the first post, then 204; `received(n)` resolves once n posts came. */
async function startReceiver() {
  const posts = [];
  const waiting = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      posts.push({ id: req.headers['webhook-id'], signature: req.headers['webhook-signature'], body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(posts.length === 1 ? 503 : 204).end();
      for (const w of waiting.splice(0)) {
        if (posts.length >= w.n) w.resolve();
        else waiting.push(w);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    posts,
    received: (n) => new Promise((resolve) => (posts.length >= n ? resolve() : waiting.push({ n, resolve }))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test('Webhooks registers an endpoint, shows its secret once, lists deliveries with their attempts, replays and disables; a moderator has none', async () => {
  const receiver = await startReceiver();
  try {
    await ada.reload();
    const hooks = ada.getByRole('region', { name: 'Webhooks' });
    await hooks.getByText('No endpoints yet.').waitFor();
    await hooks.getByLabel('Endpoint URL').fill(receiver.url);
    await hooks.getByLabel('Event types').fill('organization.updated');
    await hooks.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = hooks.locator('.webhook-secret code.secret');
    await secret.waitFor();
    assert.match(await secret.textContent(), /^whsec_[A-Za-z0-9+/=]+$/);
    const item = hooks.locator('.webhook', { hasText: receiver.url });
    await item.locator('.webhook-healthy', { hasText: 'Healthy' }).waitFor();
    await shot(ada, 'admin-11-webhook-registered');

    // A change: the first post is answered 503 and retried, the retry taken.
    await call(ADA, '/organization/update', { organizationId: orgId, name: `${ORG} Ltd` });
    await receiver.received(2);
    assert.equal(receiver.posts[0].id, receiver.posts[1].id, 'the retry is the same message');
    assert.equal(receiver.posts[1].body.data.organization.name, `${ORG} Ltd`);
    await item.getByRole('button', { name: 'Deliveries' }).click();
    const delivery = item.locator('.delivery[data-state="delivered"]');
    await delivery.locator('.delivery-state', { hasText: '2 attempts · last: HTTP 204' }).waitFor();
    await shot(ada, 'admin-12-webhook-deliveries');

    // Replayed: the same webhook-id again.
    await delivery.getByRole('button', { name: 'Replay' }).click();
    await hooks.getByRole('status').filter({ hasText: 'will be delivered again' }).waitFor();
    await receiver.received(3);
    assert.equal(receiver.posts[2].id, receiver.posts[0].id, 'a replay is the same message');

    // Disabled: it says so.
    await item.getByRole('button', { name: 'Disable' }).click();
    await hooks.locator('.webhook[data-enabled="false"]', { hasText: receiver.url }).locator('.webhook-healthy', { hasText: 'Disabled' }).waitFor();
    await call(ADA, '/organization/update', { organizationId: orgId, name: ORG });

    // A moderator has no webhooks here.
    const mona = await world.openSession(MONA);
    await go(mona, 'Organization admin');
    await mona.getByRole('region', { name: 'Members' }).waitFor();
    assert.equal(await mona.getByRole('region', { name: 'Webhooks' }).count(), 0);
    await mona.context().close();
  } finally {
    await receiver.close();
  }
});

test('no Content-Security-Policy violation or script error happened', () => {
  assert.deepEqual(world.problems, []);
});
