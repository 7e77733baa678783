// Organization admin: for one organization I manage (`#/org/<id>`), the
// members (role, zones, end date; change them, remove with or without a
// block, history), the people blocked from rejoining (unblock), the
// invitations (create with the link and QR code shown once, list a page at a
// time by status and e-mail, revoke, resend, acceptance log), the zones, the
// name and logo, the activity (who did what, with a CSV download), and the
// webhook endpoints with their health.
//
// Which controls show is what the server says I may do there: the `youMay`
// of `POST /organization/get` (roles I may grant, remove and block; the
// zones my management is limited to; whether I may list, update, unblock,
// read logs, run the organization). Nothing here re-derives those rules from
// roles; whatever the API still refuses is shown with its title and detail.
//
// This module is the screen's frame (the organization chooser, the header,
// what I may do); each section is a module of its own under org-admin/:
// members.js, blocks.js, invitations.js, zones.js, settings.js, activity.js
// and webhooks.js.

import * as organizations from '../api/organizations.js';
import { h, replace, field, notices, when } from '../dom.js';
import { logo, roleLabel, managesAnything, organizationViews } from './org-shared.js';
import * as membersSection from './org-admin/members.js';
import * as blocksSection from './org-admin/blocks.js';
import * as invitationsSection from './org-admin/invitations.js';
import * as zonesSection from './org-admin/zones.js';
import * as settingsSection from './org-admin/settings.js';
import * as activitySection from './org-admin/activity.js';
import * as webhooksSection from './org-admin/webhooks.js';

export const title = 'Organization admin';

/** The organization id in `#/org/<id>`, if any. */
function idFromHash() {
  const m = location.hash.match(/^#\/org\/([0-9a-fA-F-]{36})(?:$|[/?#])/);
  return m ? m[1].toLowerCase() : null;
}

export async function render(root, ctx) {
  const msg = notices();
  replace(root, h('h1', { id: 'org-title', text: title }), msg.el);

  // The sidebar lists my organizations; each one's `youMay` says whether there is anything to manage.
  const side = await organizations.sidebar();
  const views = await organizationViews(side.apps);
  const manageable = side.apps.filter((a) => managesAnything(views.get(a.organization.id)?.youMay));
  let orgId = idFromHash();
  if (!orgId) {
    const pick = manageable.find((a) => a.current) || manageable[0];
    if (pick) {
      orgId = pick.organization.id;
      history.replaceState(null, '', `#/org/${orgId}`);
    }
  }
  if (!orgId) {
    root.append(
      h(
        'div',
        { class: 'panel' },
        h('p', { text: 'There is nothing for you to manage in your organizations.' }),
        h('p', {}, 'Create one, or ask one of its admins for more rights, on ', h('a', { href: '#/orgs', text: 'My organizations' }), '.'),
      ),
    );
    return;
  }

  const mineApp = side.apps.find((a) => a.organization.id === orgId);
  const chooserText = (name, role) => `${name} (${roleLabel(role).toLowerCase()})`;
  // The chooser: one option per organization I manage (plus the one asked for, if another).
  const chooser = h(
    'select',
    {
      name: 'organization',
      onchange: () => {
        location.hash = `#/org/${chooser.value}`;
      },
    },
    manageable.map((a) => h('option', { value: a.organization.id, text: chooserText(a.organization.name, a.role), selected: a.organization.id === orgId })),
    manageable.some((a) => a.organization.id === orgId)
      ? null
      : h('option', { value: orgId, selected: true, text: mineApp ? chooserText(mineApp.organization.name, mineApp.role) : `Organization ${orgId}` }),
  );
  root.append(h('div', { class: 'toolbar' }, field('Organization', chooser)));

  const header = h('div', { class: 'card org-card org-header' });
  root.append(header);

  // The organization, my membership and what I may do: the one source of every control below.
  let organization = views.get(orgId);
  if (!organization) {
    try {
      organization = await organizations.get(orgId);
    } catch (err) {
      ctx.failed(err);
      replace(header, h('div', { class: 'org-body' }, h('h2', { class: 'org-name', text: mineApp ? mineApp.organization.name : 'This organization' })));
      msg.error(err);
      return;
    }
  }
  const youMay = organization.youMay;
  // Zones are needed everywhere (names of members' zones, the invitation form, the member editor).
  let zones = organization.zones;
  const zoneName = (id) => (zones.find((z) => z.id === id) || {}).name || id;
  const zoneList = (ids) => (ids.length ? ids.map(zoneName).join(', ') : 'The whole organization');
  // Names of the people seen in the member lists, for the history, the acceptance log and the blocks.
  const people = new Map([[ctx.me.id, ctx.me.displayName]]);
  const person = (userId) => (userId ? people.get(userId) || `user ${userId}` : 'unknown user');

  function showHeader() {
    replace(
      header,
      logo(organization, 'large'),
      h(
        'div',
        { class: 'org-body' },
        h('h2', { class: 'org-name', text: organization.name }),
        h('p', { class: 'muted your-standing', text: `Your role: ${roleLabel(youMay.role)}` }),
        youMay.zones ? h('p', { class: 'muted your-zones', text: `You manage the zone${youMay.zones.length === 1 ? '' : 's'} ${youMay.zones.map(zoneName).join(', ')} only.` }) : null,
        youMay.until ? h('p', { class: 'muted your-end', text: `Your membership ends ${when(youMay.until)}; nothing you grant lasts longer.` }) : null,
        h('small', { class: 'muted', text: `Id ${organization.id} · ${organization.slug}` }),
      ),
    );
  }
  showHeader();
  async function loadOrganization() {
    const fresh = await organizations.get(orgId);
    organization = { ...fresh, youMay };
    showHeader();
  }

  if (!managesAnything(youMay)) {
    root.append(
      h('p', {
        class: 'notice info',
        text: `You are ${roleLabel(youMay.role).toLowerCase()} here, which lets you manage nothing in this organization.`,
      }),
    );
  }

  const sections = {
    members: h('section', { class: 'panel org-section', 'aria-labelledby': 'members-title', hidden: !youMay.listMembers }),
    blocks: h('section', { class: 'panel org-section', 'aria-labelledby': 'blocks-title', hidden: !youMay.listMembers }),
    invitations: h('section', { class: 'panel org-section', 'aria-labelledby': 'invitations-title', hidden: !(youMay.invite || youMay.listMembers) }),
    zones: h('section', { class: 'panel org-section', 'aria-labelledby': 'zones-title' }),
    settings: h('section', { class: 'panel org-section', 'aria-labelledby': 'settings-title', hidden: !youMay.manageOrganization }),
    activity: h('section', { class: 'panel org-section', 'aria-labelledby': 'activity-title', hidden: !youMay.readLogs }),
    webhooks: h('section', { class: 'panel org-section', 'aria-labelledby': 'webhooks-title', hidden: !youMay.manageWebhooks }),
  };
  root.append(sections.members, sections.blocks, sections.invitations, sections.zones, sections.settings, sections.activity, sections.webhooks);
  const noop = async () => {};
  for (const s of Object.values(sections)) s.load = noop;

  /** A section's own message area, so an error shows next to what failed. */
  function sectionNotices(section) {
    const n = notices();
    section.append(n.el);
    return n;
  }
  const fail = (n) => (err) => {
    ctx.failed(err);
    n.error(err);
  };
  /** After a change to my own membership, what I may do changed: show the screen anew. */
  const again = () => render(root, ctx);

  // The sections, each in its module under org-admin/, share this view of the screen.
  const o = {
    ctx,
    orgId,
    youMay,
    sections,
    sectionNotices,
    fail,
    again,
    zoneName,
    zoneList,
    people,
    person,
    loadOrganization,
    /** The organization as last loaded (the settings section reloads it). */
    get organization() {
      return organization;
    },
    /** The zones as last loaded (the zones section reloads them). */
    get zones() {
      return zones;
    },
    set zones(next) {
      zones = next;
    },
  };
  if (youMay.listMembers) membersSection.build(o);
  if (youMay.listMembers) blocksSection.build(o);
  if (youMay.invite || youMay.listMembers) invitationsSection.build(o);
  zonesSection.build(o);
  if (youMay.manageOrganization) settingsSection.build(o);
  if (youMay.readLogs) activitySection.build(o);
  if (youMay.manageWebhooks) webhooksSection.build(o);

  // Members first: their names serve the blocks list and the acceptance logs.
  await Promise.all([sections.members.load(), sections.invitations.load()]);
  await Promise.all([sections.blocks.load(), sections.activity.load(), sections.webhooks.load()]);
}
