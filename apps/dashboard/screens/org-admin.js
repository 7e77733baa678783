// Organization admin: for one organization I manage (`#/org/<id>`), the
// members (role, zones, end date; change them, remove with or without a
// block, history), the people blocked from rejoining (unblock), the
// invitations (create with the link and QR code shown once, list a page at a
// time by status and e-mail, revoke, resend, acceptance log), the zones, and
// the name and logo.
//
// Which controls show is what the server says I may do there: the `youMay`
// of `POST /organization/get` (roles I may grant, remove and block; the
// zones my management is limited to; whether I may list, update, unblock,
// read logs, run the organization). Nothing here re-derives those rules from
// roles; whatever the API still refuses is shown with its title and detail.

import * as organizations from '../api/organizations.js';
import * as invitations from '../api/invitations.js';
import { h, replace, field, notices, when, busy, debounce, keysetPager, confirmButton } from '../dom.js';
import { logo, roleLabel, roleOption, expiry, duration, qrImage, managesAnything, organizationViews } from './org-shared.js';

/** Members shown per page (the API allows up to 100). */
const MEMBERS_PAGE = 50;
/** Invitations shown per page (the API's default). */
const INVITATIONS_PAGE = 20;

export const title = 'Organization admin';

const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const DAY = 86400;
const LINK_VALIDITY = [
  [3600, '1 hour'],
  [DAY, '1 day'],
  [3 * DAY, '3 days'],
  [7 * DAY, '7 days'],
  [14 * DAY, '14 days'],
  [30 * DAY, '30 days'],
];
const INVITATION_STATUSES = [
  ['', 'All'],
  ['pending', 'Waiting for an answer'],
  ['accepted', 'Accepted (used up)'],
  ['rejected', 'Declined'],
  ['revoked', 'Withdrawn'],
  ['expired', 'Expired'],
];
const STATUS_WORDS = { pending: 'Waiting', accepted: 'Used up', rejected: 'Declined', revoked: 'Withdrawn', expired: 'Expired' };
const CAUSES = {
  created: 'created the organization',
  invitation: 'joined by invitation',
  role_change: 'role changed',
  zone_change: 'zones changed',
  expiry_change: 'end date changed',
  removed: 'removed',
  left: 'left',
  expired: 'membership ended (time limit)',
  import: 'imported',
  appointed: 'appointed admin',
};
const END_REASONS = { removed: 'removed', left: 'left', expired: 'time limit reached' };
const OUTCOMES = { accepted: 'Accepted', declined: 'Declined', failed: 'Failed' };

/** The organization id in `#/org/<id>`, if any. */
function idFromHash() {
  const m = location.hash.match(/^#\/org\/([0-9a-fA-F-]{36})(?:$|[/?#])/);
  return m ? m[1].toLowerCase() : null;
}

/** `YYYY-MM-DD` of a date-time in the reader's time zone, for a date input. */
function dateValue(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The end of the day a date input names (23:59 in the reader's time zone), as RFC 3339. */
function endOfDay(value) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 0, 0).toISOString();
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
  };
  root.append(sections.members, sections.blocks, sections.invitations, sections.zones, sections.settings);
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

  // ---- Members ----------------------------------------------------------------------------
  if (youMay.listMembers) {
    const section = sections.members;
    section.append(h('h2', { id: 'members-title', text: 'Members' }));
    const n = sectionNotices(section);
    const statusFilter = h(
      'select',
      { name: 'memberStatus' },
      h('option', { value: 'active', text: 'Current members' }),
      h('option', { value: 'inactive', text: 'Former members' }),
      h('option', { value: '', text: 'All' }),
    );
    const list = h('div', { class: 'member-list' });

    /** The role picker of an admin: the roles the server lets me grant (and the member's own). */
    function roleForm(m) {
      const choices = youMay.grantRoles.includes(m.role) ? youMay.grantRoles : [m.role, ...youMay.grantRoles];
      const roleSelect = h('select', { name: 'role' }, choices.map((r) => h('option', { value: r, text: roleLabel(r), selected: r === m.role })));
      const save = h('button', { type: 'submit', class: 'secondary', text: 'Change role' });
      return h(
        'form',
        {
          class: 'inline role-form',
          onsubmit: (e) => {
            e.preventDefault();
            busy(save, async () => {
              try {
                const updated = await organizations.updateMember({ organizationId: orgId, userId: m.userId, role: roleSelect.value });
                if (m.userId === ctx.me.id) {
                  await again();
                  return;
                }
                await sections.members.load();
                n.ok(`${m.displayName} is now ${roleLabel(updated.role).toLowerCase()}.`);
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        field(`Role of ${m.displayName}`, roleSelect),
        save,
      );
    }

    /**
     * Zones and end date of one member (`organizations.updateMember`):
     * only what was changed is sent, so an unchanged end keeps its exact time.
     */
    function termsForm(m) {
      const choices = youMay.zones ? zones.filter((z) => youMay.zones.includes(z.id)) : zones;
      const boxes = choices.map((z) => h('input', { type: 'checkbox', name: 'zoneIds', value: z.id, checked: m.zones.includes(z.id) }));
      const zoneSet = h(
        'fieldset',
        { class: 'zone-choices' },
        h('legend', { text: `Zones of ${m.displayName}` }),
        choices.length
          ? [
              h('div', { class: 'checks' }, choices.map((z, i) => h('label', { class: 'check' }, boxes[i], ` ${z.name}`))),
              h('small', { class: 'hint', text: 'None ticked: the whole organization.' }),
            ]
          : h('p', { class: 'muted', text: 'The organization has no zones yet: the member covers all of it.' }),
      );
      const initialDate = dateValue(m.expiresAt);
      const end = h('input', { type: 'date', name: 'expiresOn', value: initialDate, min: dateValue(new Date().toISOString()) });
      if (youMay.until) end.max = dateValue(youMay.until);
      const permanent = h('input', { type: 'checkbox', name: 'permanent', checked: !m.expiresAt });
      const sync = () => {
        end.disabled = permanent.checked;
      };
      permanent.addEventListener('change', sync);
      sync();
      const save = h('button', { type: 'submit', class: 'secondary', text: 'Save zones and end date' });
      const form = h(
        'form',
        {
          class: 'terms-form',
          hidden: true,
          onsubmit: (e) => {
            e.preventDefault();
            const body = { organizationId: orgId, userId: m.userId };
            const picked = boxes.filter((b) => b.checked).map((b) => b.value);
            // Zones outside my choices (none for an admin) stay as they are.
            const kept = m.zones.filter((id) => !choices.some((z) => z.id === id));
            const next = [...kept, ...picked];
            if (next.length !== m.zones.length || next.some((id) => !m.zones.includes(id))) body.zoneIds = next;
            if (permanent.checked) {
              if (m.expiresAt) body.expiresAt = null;
            } else if (!end.value) {
              n.error({ title: 'No end date chosen', detail: 'Pick the last day of the membership, or tick "No end date".' });
              return;
            } else if (!m.expiresAt || end.value !== initialDate) {
              // The end of the chosen day, or of my own membership when that comes first.
              let at = endOfDay(end.value);
              if (youMay.until && new Date(at) > new Date(youMay.until)) at = youMay.until;
              body.expiresAt = at;
            }
            if (!('zoneIds' in body) && !('expiresAt' in body)) {
              n.info(`Nothing to change for ${m.displayName}.`);
              return;
            }
            busy(save, async () => {
              try {
                const updated = await organizations.updateMember(body);
                if (m.userId === ctx.me.id) {
                  await again();
                  return;
                }
                await sections.members.load();
                n.ok(`Saved for ${m.displayName}: ${updated.zones.length ? `zones ${updated.zones.map(zoneName).join(', ')}` : 'the whole organization'}, ${expiry(updated.expiresAt).toLowerCase()}.`);
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        zoneSet,
        h(
          'div',
          { class: 'grid' },
          field(`Last day of ${m.displayName}`, end, youMay.until ? `No later than your own end, ${when(youMay.until)}.` : 'Access ends at the end of that day.'),
          h('div', { class: 'field' }, h('label', { class: 'check' }, permanent, ' No end date')),
        ),
        save,
      );
      const open = h('button', { type: 'button', class: 'secondary', text: 'Zones and end date…', 'aria-expanded': 'false' });
      open.addEventListener('click', () => {
        form.hidden = !form.hidden;
        open.setAttribute('aria-expanded', String(!form.hidden));
      });
      return { button: open, form };
    }

    /** Remove, with the choice to block them from rejoining. */
    function removeControl(m) {
      const block = h('input', { type: 'checkbox', name: 'block' });
      const remove = confirmButton({
        text: 'Remove…',
        question: `Remove ${m.displayName} from ${organization.name}? They lose access at once, and the invitations they created are withdrawn.`,
        confirmText: `Remove ${m.displayName}`,
        extra: h(
          'div',
          { class: 'field block-choice' },
          h('label', { class: 'check' }, block, ' Block from rejoining'),
          h('small', { class: 'hint', text: 'No invitation of the organization lets them back in until an admin unblocks them.' }),
        ),
        action: async () => {
          try {
            const body = { organizationId: orgId, userId: m.userId };
            if (block.checked) body.block = true;
            await organizations.removeMember(body);
            await Promise.all([sections.members.load(), sections.blocks.load()]);
            n.ok(block.checked ? `${m.displayName} was removed and blocked from rejoining.` : `${m.displayName} was removed.`);
          } catch (err) {
            fail(n)(err);
          }
        },
      });
      return remove;
    }

    function historyControl(m) {
      const historyBox = h('div', { class: 'history', hidden: true });
      const show = h('button', { type: 'button', class: 'secondary', text: 'History', 'aria-expanded': 'false' });
      show.addEventListener('click', () => {
        if (!historyBox.hidden) {
          historyBox.hidden = true;
          show.setAttribute('aria-expanded', 'false');
          return;
        }
        busy(show, async () => {
          try {
            const { history } = await organizations.memberHistory(orgId, m.userId);
            replace(
              historyBox,
              h('h4', { text: `History of ${m.displayName}` }),
              h(
                'ol',
                { class: 'history-list' },
                history.map((v) =>
                  h(
                    'li',
                    {},
                    h('strong', { text: `${when(v.validFrom)}: ${CAUSES[v.cause] || v.cause}` }),
                    ` — ${roleLabel(v.role)}, ${v.zones.length ? v.zones.map(zoneName).join(', ') : 'whole organization'}, ${v.status === 'active' ? 'active' : 'ended'}`,
                    v.expiresAt ? `, ${expiry(v.expiresAt).toLowerCase()}` : '',
                    v.changedBy ? h('small', { class: 'muted', text: ` · by ${person(v.changedBy)}` }) : null,
                  ),
                ),
              ),
            );
            historyBox.hidden = false;
            show.setAttribute('aria-expanded', 'true');
          } catch (err) {
            fail(n)(err);
          }
        });
      });
      return { button: show, box: historyBox };
    }

    function memberRow(m) {
      const actions = h('div', { class: 'actions' });
      const below = h('div', {});
      const active = m.status === 'active';
      if (active && youMay.updateMembers) {
        actions.append(roleForm(m));
        const terms = termsForm(m);
        actions.append(terms.button);
        below.append(terms.form);
      }
      // The roles I may grant are the roles I may remove (the server still checks my zones).
      // Leaving is on My organizations; here one removes others.
      if (active && m.userId !== ctx.me.id && youMay.grantRoles.includes(m.role)) {
        const remove = removeControl(m);
        actions.append(remove.button);
        below.append(remove.box);
      }
      if (youMay.readLogs) {
        const hist = historyControl(m);
        actions.append(hist.button);
        below.append(hist.box);
      }
      return h(
        'article',
        { class: `member${active ? '' : ' ended'}`, 'data-email': m.email, 'aria-label': m.displayName },
        h('h3', { class: 'who' }, m.displayName, h('span', { class: 'badge role-badge', text: roleLabel(m.role) })),
        h('p', { class: 'muted email', text: m.email }),
        h(
          'dl',
          { class: 'facts' },
          h('dt', { text: 'Zones' }), h('dd', { class: 'zones', text: zoneList(m.zones) }),
          h('dt', { text: 'Joined' }), h('dd', { text: when(m.joinedAt) }),
          active
            ? [h('dt', { text: 'Membership' }), h('dd', { class: 'membership-end', text: expiry(m.expiresAt) })]
            : [h('dt', { text: 'Ended' }), h('dd', { text: `${when(m.endedAt)}${m.endReason ? ` (${END_REASONS[m.endReason] || m.endReason})` : ''}` })],
        ),
        actions,
        below,
      );
    }

    // A page at a time, newest first; "Show more members" appends the next page.
    const pager = keysetPager(
      async (cursor) => {
        const page = await organizations.listMembers({
          organizationId: orgId,
          status: statusFilter.value || undefined,
          limit: MEMBERS_PAGE,
          cursor: cursor || undefined,
        });
        for (const m of page.members) people.set(m.userId, m.displayName);
        return page;
      },
      (page, { append }) => {
        if (append) list.append(...page.members.map(memberRow));
        else replace(list, page.members.length ? page.members.map(memberRow) : h('p', { class: 'muted empty-list', text: 'Nobody here.' }));
      },
      fail(n),
      { more: 'Show more members' },
    );
    section.append(h('div', { class: 'toolbar' }, field('Which members', statusFilter)), list, pager.el);
    statusFilter.addEventListener('change', () => pager.restart());
    section.load = pager.load;
  }

  // ---- Blocked from rejoining ------------------------------------------------------------------
  if (youMay.listMembers) {
    const section = sections.blocks;
    section.append(
      h('h2', { id: 'blocks-title', text: 'Blocked' }),
      h('p', { class: 'muted', text: 'People removed and blocked from rejoining: no invitation of the organization lets them back in until an admin unblocks them.' }),
    );
    const n = sectionNotices(section);
    const list = h('div', { class: 'block-list' });
    section.append(list);

    function blockRow(b) {
      const actions = h('div', { class: 'actions' });
      if (youMay.unblock) {
        const unblock = h('button', { type: 'button', class: 'secondary', text: 'Unblock' });
        unblock.addEventListener('click', () =>
          busy(unblock, async () => {
            try {
              await organizations.unblock(orgId, b.userId);
              await loadBlocks();
              n.ok(`${b.displayName} may join again by invitation.`);
            } catch (err) {
              fail(n)(err);
            }
          }),
        );
        actions.append(unblock);
      }
      return h(
        'article',
        { class: 'blocked', 'data-email': b.email, 'aria-label': b.displayName },
        h('h3', { class: 'who', text: b.displayName }),
        h('p', { class: 'muted email', text: b.email }),
        h('p', { class: 'muted', text: `Blocked ${when(b.blockedAt)} by ${person(b.blockedBy)}` }),
        actions,
      );
    }

    async function loadBlocks() {
      const { blocks } = await organizations.listBlocks(orgId);
      replace(list, blocks.length ? blocks.map(blockRow) : h('p', { class: 'muted empty-list', text: 'Nobody is blocked.' }));
    }
    section.load = () => loadBlocks().catch(fail(n));
  }

  // ---- Invitations ------------------------------------------------------------------------
  if (youMay.invite || youMay.listMembers) {
    const section = sections.invitations;
    section.append(h('h2', { id: 'invitations-title', text: 'Invitations' }));
    const n = sectionNotices(section);
    const once = h('div', { class: 'once-slot' });
    section.append(once);
    let reloadList = async () => {};

    // The link, its QR code and a copy button, shown once after create or resend.
    function showOnce(made, what) {
      const link = h('input', { type: 'text', readonly: true, value: made.url, name: 'invitationLink', class: 'once-link' });
      const copyNote = h('p', { class: 'muted', role: 'status' });
      const copy = h('button', {
        type: 'button',
        text: 'Copy link',
        onclick: async () => {
          link.select();
          try {
            await navigator.clipboard.writeText(made.url);
            copyNote.textContent = 'Link copied.';
          } catch {
            copyNote.textContent = 'This browser did not let the page copy: the link is selected, copy it with Ctrl+C (⌘C).';
          }
        },
      });
      const inv = made.invitation;
      const qr = qrImage(made.qrSvg, `QR code of the invitation link${inv.email ? ` for ${inv.email}` : ''}`);
      replace(
        once,
        h(
          'div',
          { class: 'once', role: 'region', 'aria-labelledby': 'once-title' },
          h('h3', { id: 'once-title', text: what }),
          h(
            'p',
            { class: 'notice info once-note' },
            h('strong', { text: 'This link is shown only once. ' }),
            'Copy it or scan the code now: Usher keeps no copy of it. If it gets lost, use Resend to make a new one (the old one then stops working).',
          ),
          inv.email ? h('p', { text: `Usher also e-mails ${inv.email} a link to the dashboard, where they accept after signing in.` }) : null,
          h(
            'div',
            { class: 'once-body' },
            qr
              ? h('figure', { class: 'qr-figure' }, qr, h('figcaption', { class: 'muted', text: 'Scan to open the invitation' }))
              : h('p', { class: 'notice error', role: 'alert', text: 'The QR code could not be shown safely; use the link.' }),
            h('div', { class: 'once-link-box' }, field('Invitation link', link), h('div', { class: 'actions' }, copy, h('button', { type: 'button', class: 'secondary', text: 'Done, hide it', onclick: () => once.replaceChildren() })), copyNote),
          ),
        ),
      );
      // Focus the link: it is selected, ready to copy, and screen readers land on it.
      link.focus();
      link.select();
    }

    // Create form: the roles and zones the server lets me grant.
    section.refreshZones = () => {};
    if (youMay.invite) {
      const who = h(
        'select',
        { name: 'audience' },
        h('option', { value: 'email', text: 'One person, by e-mail' }),
        h('option', { value: 'open', text: 'An open link anyone can use' }),
      );
      const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', placeholder: 'name@example.com' });
      const maxUses = h('input', { type: 'number', name: 'maxUses', min: 1, max: 1000, value: '10', inputmode: 'numeric' });
      const preferred = youMay.grantRoles.includes('member') ? 'member' : youMay.grantRoles[0];
      const role = h('select', { name: 'role' }, youMay.grantRoles.map((r) => h('option', { value: r, text: roleOption(r), selected: r === preferred })));
      const zone = h('select', { name: 'zone', required: Boolean(youMay.zones) });
      const validity = h('select', { name: 'validity' }, LINK_VALIDITY.map(([s, l]) => h('option', { value: String(s), text: l, selected: s === 7 * DAY })));
      const days = h('input', { type: 'number', name: 'membershipDays', min: 1, max: 3660, inputmode: 'numeric', placeholder: 'no end' });
      const kind = h(
        'select',
        { name: 'kind' },
        h('option', { value: 'internal', text: 'Anyone it is meant for' }),
        h('option', { value: 'external', text: 'Only people who are not members yet (external)' }),
      );
      const emailField = field('E-mail address', email, 'They must sign in with this address, verified.');
      const usesField = field('How many people may use it', maxUses, 'From 1 to 1000.');
      const syncWho = () => {
        emailField.hidden = who.value !== 'email';
        usesField.hidden = who.value !== 'open';
        email.required = who.value === 'email';
      };
      who.addEventListener('change', syncWho);
      syncWho();
      // Scoped to zones: only those, and one must be chosen. Otherwise the whole organization or any zone.
      const fillZones = () => {
        const chosen = zone.value;
        if (youMay.zones) {
          const mine = youMay.zones.map((id) => ({ id, name: zoneName(id) }));
          replace(
            zone,
            mine.length === 1 ? null : h('option', { value: '', text: 'Choose one of your zones' }),
            mine.map((z) => h('option', { value: z.id, text: z.name, selected: z.id === chosen })),
          );
        } else {
          replace(
            zone,
            h('option', { value: '', text: 'The whole organization' }),
            zones.map((z) => h('option', { value: z.id, text: z.name, selected: z.id === chosen })),
          );
        }
      };
      fillZones();
      section.refreshZones = fillZones;
      const createButton = h('button', { type: 'submit', text: 'Create invitation' });
      const daysHint = youMay.until ? `Leave empty for as long as yours: it ends ${when(youMay.until)}.` : 'Leave empty for no end date.';
      const form = h(
        'form',
        {
          class: 'invite-form',
          onsubmit: (e) => {
            e.preventDefault();
            const body = { organizationId: orgId, role: role.value, kind: kind.value, expiresInSeconds: Number(validity.value) };
            if (who.value === 'email') body.email = email.value.trim();
            else body.maxUses = Number(maxUses.value);
            if (zone.value) body.zoneId = zone.value;
            if (days.value.trim()) body.membershipDurationSeconds = Math.round(Number(days.value) * DAY);
            busy(createButton, async () => {
              try {
                const made = await invitations.create(body);
                showOnce(made, made.invitation.email ? `Invitation for ${made.invitation.email}` : 'Open invitation link');
                n.ok('Invitation created.');
                email.value = '';
                await reloadList();
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        h('h3', { text: 'Invite someone' }),
        h(
          'div',
          { class: 'grid' },
          field('Who', who),
          emailField,
          usesField,
          field('Role', role),
          field('Zone', zone, youMay.zones ? 'You invite to your zones only.' : null),
          field('The link works for', validity),
          field('Membership lasts (days)', days, daysHint),
          field('Who may use it', kind),
        ),
        createButton,
      );
      section.append(form);
    }

    // The list, a page at a time, by status and e-mail.
    if (youMay.listMembers) {
      const statusFilter = h('select', { name: 'invitationStatus' }, INVITATION_STATUSES.map(([v, l]) => h('option', { value: v, text: l })));
      const search = h('input', { type: 'search', name: 'emailPrefix', autocomplete: 'off', placeholder: 'name@…' });
      const list = h('div', { class: 'invitation-list' });
      const mayHandle = (inv) => youMay.invite && youMay.grantRoles.includes(inv.role);

      function invitationRow(inv) {
        const actions = h('div', { class: 'actions' });
        const below = h('div', {});
        if (inv.status === 'pending' && mayHandle(inv)) {
          const revoke = confirmButton({
            text: 'Withdraw…',
            question: 'Withdraw this invitation? Its link stops working at once.',
            confirmText: 'Withdraw invitation',
            action: async () => {
              try {
                await invitations.revoke(inv.id);
                await reloadList();
                n.ok('The invitation was withdrawn.');
              } catch (err) {
                fail(n)(err);
              }
            },
          });
          actions.append(revoke.button);
          below.append(revoke.box);
        }
        if ((inv.status === 'pending' || inv.status === 'expired') && mayHandle(inv)) {
          const resend = h('button', { type: 'button', class: 'secondary', text: 'Resend (new link)' });
          resend.addEventListener('click', () =>
            busy(resend, async () => {
              try {
                const made = await invitations.resend(inv.id);
                showOnce(made, made.invitation.email ? `New link for ${made.invitation.email}` : 'New open invitation link');
                n.ok('A new link was made; the old one no longer works.');
                await reloadList();
              } catch (err) {
                fail(n)(err);
              }
            }),
          );
          actions.append(resend);
        }
        if (youMay.readLogs) {
          const logBox = h('div', { class: 'history', hidden: true });
          const show = h('button', { type: 'button', class: 'secondary', text: 'Acceptance log', 'aria-expanded': 'false' });
          show.addEventListener('click', () => {
            if (!logBox.hidden) {
              logBox.hidden = true;
              show.setAttribute('aria-expanded', 'false');
              return;
            }
            busy(show, async () => {
              try {
                const { acceptances } = await invitations.acceptances(inv.id);
                replace(
                  logBox,
                  h('h4', { text: 'Acceptance log' }),
                  acceptances.length
                    ? h(
                        'ol',
                        { class: 'history-list' },
                        acceptances.map((a) =>
                          h(
                            'li',
                            { 'data-outcome': a.outcome },
                            h('strong', { text: `${when(a.at)}: ${OUTCOMES[a.outcome] || a.outcome}` }),
                            a.reason ? ` — ${a.reason.replace(/_/g, ' ')}` : '',
                            h('small', { class: 'muted', text: ` · ${person(a.userId)}${a.ip ? ` · ${a.ip}` : ''}` }),
                          ),
                        ),
                      )
                    : h('p', { class: 'muted', text: 'Nobody has used it yet.' }),
                );
                logBox.hidden = false;
                show.setAttribute('aria-expanded', 'true');
              } catch (err) {
                fail(n)(err);
              }
            });
          });
          actions.append(show);
          below.append(logBox);
        }
        const target = inv.email || (inv.userId ? `User ${inv.userId}` : 'Open link');
        return h(
          'article',
          { class: 'invitation', 'data-invitation': inv.id, 'data-status': inv.status, 'aria-label': `${target}, ${STATUS_WORDS[inv.status] || inv.status}` },
          h('h3', { class: 'who' }, target, h('span', { class: `badge status-badge status-${inv.status}`, text: STATUS_WORDS[inv.status] || inv.status })),
          h(
            'dl',
            { class: 'facts' },
            h('dt', { text: 'Role' }), h('dd', { text: roleLabel(inv.role) }),
            h('dt', { text: 'Zone' }), h('dd', { text: inv.zoneId ? zoneName(inv.zoneId) : 'The whole organization' }),
            h('dt', { text: 'Used' }), h('dd', { text: `${inv.useCount} of ${inv.maxUses}` }),
            h('dt', { text: 'Link works until' }), h('dd', { text: when(inv.expiresAt) }),
            h('dt', { text: 'Membership' }), h('dd', { text: inv.membershipDurationSeconds ? `lasts ${duration(inv.membershipDurationSeconds)}` : 'No end date' }),
            h('dt', { text: 'Kind' }), h('dd', { text: inv.kind === 'external' ? 'External: only for non-members' : 'Internal' }),
            h('dt', { text: 'Created' }), h('dd', { text: when(inv.createdAt) }),
          ),
          h('small', { class: 'muted', text: `Id ${inv.id}` }),
          actions,
          below,
        );
      }

      // Newest first, a page at a time; "Show more invitations" appends the next page.
      const pager = keysetPager(
        (cursor) =>
          invitations.list({
            organizationId: orgId,
            status: statusFilter.value || undefined,
            emailPrefix: search.value.trim() || undefined,
            limit: INVITATIONS_PAGE,
            cursor: cursor || undefined,
          }),
        (page, { append }) => {
          if (append) list.append(...page.invitations.map(invitationRow));
          else replace(list, page.invitations.length ? page.invitations.map(invitationRow) : h('p', { class: 'muted empty-list', text: 'No invitations.' }));
        },
        fail(n),
        { more: 'Show more invitations' },
      );
      reloadList = pager.load;
      statusFilter.addEventListener('change', () => pager.restart());
      search.addEventListener('input', debounce(() => pager.restart(), 300));
      section.append(
        h('h3', { text: 'All invitations' }),
        h(
          'form',
          { class: 'toolbar', role: 'search', 'aria-label': 'Invitations', onsubmit: (e) => { e.preventDefault(); pager.restart(); } },
          field('Which invitations', statusFilter),
          field('E-mail starts with', search),
        ),
        list,
        pager.el,
      );
      section.load = pager.load;
    }
  }

  // ---- Zones --------------------------------------------------------------------------------
  {
    const section = sections.zones;
    section.append(h('h2', { id: 'zones-title', text: 'Zones' }), h('p', { class: 'muted', text: 'Zones are parts of the organization. A member or invitation limited to a zone covers only that part.' }));
    const n = sectionNotices(section);
    const list = h('ul', { class: 'zone-list' });
    const empty = h('p', { class: 'muted', text: 'No zones yet: everyone covers the whole organization.' });
    section.append(list, empty);
    const showZones = () => {
      replace(list, zones.map((z) => h('li', {}, z.name, h('small', { class: 'muted', text: ` · id ${z.id}` }))));
      empty.hidden = zones.length > 0;
    };
    showZones();
    async function loadZones() {
      const res = await organizations.listZones(orgId);
      zones = res.zones;
      showZones();
      sections.invitations.refreshZones?.();
    }
    if (youMay.manageOrganization) {
      const name = h('input', { name: 'zoneName', required: true, minlength: 2, maxlength: 100, autocomplete: 'off' });
      const add = h('button', { type: 'submit', text: 'Add zone' });
      section.append(
        h(
          'form',
          {
            class: 'inline',
            onsubmit: (e) => {
              e.preventDefault();
              busy(add, async () => {
                try {
                  const zone = await organizations.createZone(orgId, name.value.trim());
                  name.value = '';
                  await loadZones();
                  n.ok(`Zone ${zone.name} added.`);
                  // The member editors offer the new zone.
                  await sections.members.load();
                } catch (err) {
                  fail(n)(err);
                }
              });
            },
          },
          field('New zone name', name),
          add,
        ),
      );
    }
    section.load = () => loadZones().catch(fail(n));
  }

  // ---- Name and logo ------------------------------------------------------------------------
  if (youMay.manageOrganization) {
    const section = sections.settings;
    section.append(h('h2', { id: 'settings-title', text: 'Name and logo' }));
    const n = sectionNotices(section);
    const name = h('input', { name: 'orgName', required: true, minlength: 2, maxlength: 100, value: organization.name, autocomplete: 'organization' });
    const rename = h('button', { type: 'submit', text: 'Rename' });
    const file = h('input', { type: 'file', name: 'logo', accept: LOGO_TYPES.join(',') });
    const upload = h('button', { type: 'submit', text: 'Upload logo' });
    const removeLogo = h('button', { type: 'button', class: 'secondary', text: 'Remove logo', hidden: !organization.logoUrl });
    const refresh = async () => {
      await loadOrganization();
      removeLogo.hidden = !organization.logoUrl;
    };
    removeLogo.addEventListener('click', () =>
      busy(removeLogo, async () => {
        try {
          await organizations.removeLogo(orgId);
          await refresh();
          n.ok('Logo removed.');
        } catch (err) {
          fail(n)(err);
        }
      }),
    );
    section.append(
      h(
        'div',
        { class: 'grid' },
        h(
          'form',
          {
            onsubmit: (e) => {
              e.preventDefault();
              busy(rename, async () => {
                try {
                  await organizations.rename(orgId, name.value.trim());
                  await refresh();
                  n.ok(`Renamed to ${organization.name}.`);
                } catch (err) {
                  fail(n)(err);
                }
              });
            },
          },
          field('Organization name', name),
          rename,
        ),
        h(
          'form',
          {
            onsubmit: (e) => {
              e.preventDefault();
              const chosen = file.files[0];
              if (!chosen) {
                n.error({ title: 'No file chosen', detail: 'Choose a PNG, JPEG or WebP image first.' });
                return;
              }
              busy(upload, async () => {
                n.info('Uploading…');
                try {
                  await organizations.uploadLogo(orgId, chosen);
                  file.value = '';
                  await refresh();
                  n.ok('The new logo is live.');
                } catch (err) {
                  fail(n)(err);
                }
              });
            },
          },
          field('New logo', file, 'PNG, JPEG or WebP.'),
          h('div', { class: 'actions' }, upload, removeLogo),
        ),
      ),
    );
  }

  // Members first: their names serve the blocks list and the acceptance logs.
  await Promise.all([sections.members.load(), sections.invitations.load()]);
  await sections.blocks.load();
}
