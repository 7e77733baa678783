// Organization admin: for one organization where I am admin or moderator
// (`#/org/<id>`), the members (role, zones, expiry; change role, remove,
// history), the invitations (create with the link and QR code shown once,
// list by status, revoke, resend, acceptance log), the zones, and the name
// and logo. Controls follow my role; whatever the API still refuses is shown.

import { api, putUpload } from '../api.js';
import { h, replace, field, notices, when, busy } from '../dom.js';
import { ROLES, logo, roleLabel, roleOption, atLeast, expiry, duration, confirmButton, qrImage } from './org-shared.js';

/** Members shown per page (the API allows up to 100). */
const MEMBERS_PAGE = 50;

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
  removed: 'removed',
  left: 'left',
  expired: 'membership ended (time limit)',
  import: 'imported',
};
const END_REASONS = { removed: 'removed', left: 'left', expired: 'time limit reached' };
const OUTCOMES = { accepted: 'Accepted', declined: 'Declined', failed: 'Failed' };

/** The organization id in `#/org/<id>`, if any. */
function idFromHash() {
  const m = location.hash.match(/^#\/org\/([0-9a-fA-F-]{36})(?:$|[/?#])/);
  return m ? m[1].toLowerCase() : null;
}

export async function render(root, ctx) {
  const msg = notices();
  replace(root, h('h1', { id: 'org-title', text: title }), msg.el);

  const side = await api.get('/my-apps/sidebar');
  const manageable = side.apps.filter((a) => atLeast(a.role, 'moderator'));
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
        h('p', { text: 'You are not an admin or moderator of any organization.' }),
        h('p', {}, 'Create one, or ask an admin for the moderator role, on ', h('a', { href: '#/orgs', text: 'My organizations' }), '.'),
      ),
    );
    return;
  }

  const mineApp = side.apps.find((a) => a.organization.id === orgId);
  const myRole = mineApp ? mineApp.role : null;
  const isAdmin = myRole === 'admin';

  // The chooser: one option per organization I manage (plus the one asked for, if another).
  const chooser = h(
    'select',
    {
      name: 'organization',
      onchange: () => {
        location.hash = `#/org/${chooser.value}`;
      },
    },
    manageable.map((a) =>
      h('option', { value: a.organization.id, text: `${a.organization.name} (${roleLabel(a.role).toLowerCase()})`, selected: a.organization.id === orgId }),
    ),
    manageable.some((a) => a.organization.id === orgId)
      ? null
      : h('option', { value: orgId, selected: true, text: mineApp ? `${mineApp.organization.name} (${roleLabel(myRole).toLowerCase()})` : `Organization ${orgId}` }),
  );
  root.append(h('div', { class: 'toolbar' }, field('Organization', chooser)));

  const header = h('div', { class: 'card org-card org-header' });
  root.append(header);
  if (!mineApp || !atLeast(myRole, 'moderator')) {
    root.append(
      h('p', {
        class: 'notice info',
        text: mineApp
          ? `You are ${roleLabel(myRole).toLowerCase()} here: managing the organization needs the moderator or admin role.`
          : 'You are not a member of this organization.',
      }),
    );
  }

  // Zones are needed everywhere (names of members' zones, the invitation form).
  let zones = [];
  const zoneName = (id) => (zones.find((z) => z.id === id) || {}).name || id;
  // Names of the people seen in the member lists, for the history and the acceptance log.
  const people = new Map([[ctx.me.id, ctx.me.displayName]]);
  const person = (userId) => (userId ? people.get(userId) || `user ${userId}` : 'unknown user');

  const sections = {
    members: h('section', { class: 'panel org-section', 'aria-labelledby': 'members-title' }),
    invitations: h('section', { class: 'panel org-section', 'aria-labelledby': 'invitations-title' }),
    zones: h('section', { class: 'panel org-section', 'aria-labelledby': 'zones-title' }),
    settings: h('section', { class: 'panel org-section', 'aria-labelledby': 'settings-title' }),
  };
  root.append(sections.members, sections.invitations, sections.zones, sections.settings);

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

  // ---- Header: the organization itself --------------------------------------------------
  let organization = null;
  async function loadOrganization() {
    organization = await api.post('/organization/get', { organizationId: orgId });
    zones = organization.zones;
    replace(
      header,
      logo(organization, 'large'),
      h(
        'div',
        { class: 'org-body' },
        h('h2', { class: 'org-name', text: organization.name }),
        h('p', { class: 'muted', text: myRole ? `Your role: ${roleLabel(myRole)}` : '' }),
        h('small', { class: 'muted', text: `Id ${organization.id} · ${organization.slug}` }),
      ),
    );
  }
  try {
    await loadOrganization();
  } catch (err) {
    ctx.failed(err);
    replace(header, h('div', { class: 'org-body' }, h('h2', { text: mineApp ? mineApp.organization.name : 'This organization' })));
    msg.error(err);
  }

  // ---- Members ----------------------------------------------------------------------------
  {
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
    const more = h('button', { type: 'button', class: 'secondary', text: 'Show more members', hidden: true });
    let nextCursor = null;
    section.append(h('div', { class: 'toolbar' }, field('Which members', statusFilter)), list, h('div', { class: 'actions' }, more));

    // Leaving is on My organizations; here one removes others.
    const mayRemove = (m) => m.status === 'active' && m.userId !== ctx.me.id && (isAdmin || atLeast('member', m.role));

    function memberRow(m) {
      const actions = h('div', { class: 'actions' });
      const below = h('div', {});
      if (isAdmin && m.status === 'active') {
        const roleSelect = h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, text: roleLabel(r), selected: r === m.role })));
        const save = h('button', { type: 'submit', class: 'secondary', text: 'Change role' });
        actions.append(
          h(
            'form',
            {
              class: 'inline role-form',
              onsubmit: (e) => {
                e.preventDefault();
                busy(save, async () => {
                  try {
                    const updated = await api.post('/organization/members/update-role', { organizationId: orgId, userId: m.userId, role: roleSelect.value });
                    await loadMembers();
                    n.ok(`${m.displayName} is now ${roleLabel(updated.role).toLowerCase()}.`);
                  } catch (err) {
                    fail(n)(err);
                  }
                });
              },
            },
            field(`Role of ${m.displayName}`, roleSelect),
            save,
          ),
        );
      }
      if (mayRemove(m)) {
        const remove = confirmButton({
          text: 'Remove…',
          question: `Remove ${m.displayName} from ${organization ? organization.name : 'the organization'}? They lose access at once, and the invitations they created are withdrawn.`,
          confirmText: `Remove ${m.displayName}`,
          action: async () => {
            try {
              await api.post('/organization/members/remove', { organizationId: orgId, userId: m.userId });
              await loadMembers();
              n.ok(`${m.displayName} was removed.`);
            } catch (err) {
              fail(n)(err);
            }
          },
        });
        actions.append(remove.button);
        below.append(remove.box);
      }
      if (isAdmin) {
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
              const { history } = await api.post('/organization/members/history', { organizationId: orgId, userId: m.userId });
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
        actions.append(show);
        below.append(historyBox);
      }
      const ended = m.status !== 'active';
      return h(
        'article',
        { class: `member${ended ? ' ended' : ''}`, 'data-email': m.email, 'aria-label': m.displayName },
        h('h3', { class: 'who' }, m.displayName, h('span', { class: 'badge role-badge', text: roleLabel(m.role) })),
        h('p', { class: 'muted email', text: m.email }),
        h(
          'dl',
          { class: 'facts' },
          h('dt', { text: 'Zones' }), h('dd', { text: m.zones.length ? m.zones.map(zoneName).join(', ') : 'The whole organization' }),
          h('dt', { text: 'Joined' }), h('dd', { text: when(m.joinedAt) }),
          ended
            ? [h('dt', { text: 'Ended' }), h('dd', { text: `${when(m.endedAt)}${m.endReason ? ` (${END_REASONS[m.endReason] || m.endReason})` : ''}` })]
            : [h('dt', { text: 'Membership' }), h('dd', { text: expiry(m.expiresAt) })],
        ),
        actions,
        below,
      );
    }

    // A page at a time, newest first; "Show more members" appends the next page.
    async function fetchMembers(cursor) {
      const page = await api.post('/organization/members/list', {
        organizationId: orgId,
        status: statusFilter.value || undefined,
        limit: MEMBERS_PAGE,
        cursor: cursor || undefined,
      });
      for (const m of page.members) people.set(m.userId, m.displayName);
      nextCursor = page.nextCursor || null;
      more.hidden = !nextCursor;
      return page.members;
    }
    async function loadMembers() {
      const members = await fetchMembers(null);
      replace(list, members.length ? members.map(memberRow) : h('p', { class: 'muted empty-list', text: 'Nobody here.' }));
    }
    more.addEventListener('click', () =>
      busy(more, async () => {
        try {
          list.append(...(await fetchMembers(nextCursor)).map(memberRow));
        } catch (err) {
          fail(n)(err);
        }
      }),
    );
    statusFilter.addEventListener('change', () => loadMembers().catch(fail(n)));
    sections.members.load = () => loadMembers().catch(fail(n));
  }

  // ---- Invitations ------------------------------------------------------------------------
  {
    const section = sections.invitations;
    section.append(h('h2', { id: 'invitations-title', text: 'Invitations' }));
    const n = sectionNotices(section);
    const once = h('div', { class: 'once-slot' });

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

    // Create form
    const grantable = isAdmin ? ROLES : ['guest', 'member'];
    const who = h(
      'select',
      { name: 'audience' },
      h('option', { value: 'email', text: 'One person, by e-mail' }),
      h('option', { value: 'open', text: 'An open link anyone can use' }),
    );
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', placeholder: 'name@example.com' });
    const maxUses = h('input', { type: 'number', name: 'maxUses', min: 1, max: 1000, value: '10', inputmode: 'numeric' });
    const role = h('select', { name: 'role' }, grantable.map((r) => h('option', { value: r, text: roleOption(r), selected: r === 'member' })));
    const zone = h('select', { name: 'zone' });
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
    const fillZones = () =>
      replace(zone, h('option', { value: '', text: 'The whole organization' }), zones.map((z) => h('option', { value: z.id, text: z.name })));
    fillZones();
    const createButton = h('button', { type: 'submit', text: 'Create invitation' });
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
              const made = await api.post('/invitation/create', body);
              showOnce(made, made.invitation.email ? `Invitation for ${made.invitation.email}` : 'Open invitation link');
              n.ok('Invitation created.');
              email.value = '';
              await loadInvitations();
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
        field('Role', role, isAdmin ? null : 'Moderators can invite guests and members.'),
        field('Zone', zone),
        field('The link works for', validity),
        field('Membership lasts (days)', days, 'Leave empty for no end date.'),
        field('Who may use it', kind),
      ),
      createButton,
    );

    // List
    const statusFilter = h('select', { name: 'invitationStatus' }, INVITATION_STATUSES.map(([v, l]) => h('option', { value: v, text: l })));
    const list = h('div', { class: 'invitation-list' });

    function invitationRow(inv) {
      const actions = h('div', { class: 'actions' });
      const below = h('div', {});
      const mayManage = isAdmin || atLeast('member', inv.role);
      if (inv.status === 'pending' && mayManage) {
        const revoke = confirmButton({
          text: 'Withdraw…',
          question: 'Withdraw this invitation? Its link stops working at once.',
          confirmText: 'Withdraw invitation',
          action: async () => {
            try {
              await api.post('/invitation/revoke', { invitationId: inv.id });
              await loadInvitations();
              n.ok('The invitation was withdrawn.');
            } catch (err) {
              fail(n)(err);
            }
          },
        });
        actions.append(revoke.button);
        below.append(revoke.box);
      }
      if ((inv.status === 'pending' || inv.status === 'expired') && mayManage) {
        const resend = h('button', { type: 'button', class: 'secondary', text: 'Resend (new link)' });
        resend.addEventListener('click', () =>
          busy(resend, async () => {
            try {
              const made = await api.post('/invitation/resend', { invitationId: inv.id });
              showOnce(made, made.invitation.email ? `New link for ${made.invitation.email}` : 'New open invitation link');
              n.ok('A new link was made; the old one no longer works.');
              await loadInvitations();
            } catch (err) {
              fail(n)(err);
            }
          }),
        );
        actions.append(resend);
      }
      if (isAdmin) {
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
              const { acceptances } = await api.post('/invitation/acceptances', { invitationId: inv.id });
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

    async function loadInvitations() {
      const { invitations } = await api.post('/invitation/list', { organizationId: orgId, status: statusFilter.value || undefined });
      replace(list, invitations.length ? invitations.map(invitationRow) : h('p', { class: 'muted empty-list', text: 'No invitations.' }));
    }
    statusFilter.addEventListener('change', () => loadInvitations().catch(fail(n)));
    section.append(once, form, h('h3', { text: 'All invitations' }), h('div', { class: 'toolbar' }, field('Which invitations', statusFilter)), list);
    section.load = () => loadInvitations().catch(fail(n));
    section.refreshZones = fillZones;
  }

  // ---- Zones --------------------------------------------------------------------------------
  {
    const section = sections.zones;
    section.append(h('h2', { id: 'zones-title', text: 'Zones' }), h('p', { class: 'muted', text: 'Zones are parts of the organization. A member or invitation limited to a zone covers only that part.' }));
    const n = sectionNotices(section);
    const list = h('ul', { class: 'zone-list' });
    const empty = h('p', { class: 'muted', text: 'No zones yet: everyone covers the whole organization.' });
    section.append(list, empty);
    async function loadZones() {
      const res = await api.post('/organization/zones/list', { organizationId: orgId });
      zones = res.zones;
      replace(list, zones.map((z) => h('li', {}, z.name, h('small', { class: 'muted', text: ` · id ${z.id}` }))));
      empty.hidden = zones.length > 0;
      sections.invitations.refreshZones();
    }
    if (isAdmin) {
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
                  const zone = await api.post('/organization/zones/create', { organizationId: orgId, name: name.value.trim() });
                  name.value = '';
                  await loadZones();
                  n.ok(`Zone ${zone.name} added.`);
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

  // ---- Name and logo (admins) -----------------------------------------------------------------
  if (isAdmin) {
    const section = sections.settings;
    section.append(h('h2', { id: 'settings-title', text: 'Name and logo' }));
    const n = sectionNotices(section);
    const name = h('input', { name: 'orgName', required: true, minlength: 2, maxlength: 100, value: organization ? organization.name : '', autocomplete: 'organization' });
    const rename = h('button', { type: 'submit', text: 'Rename' });
    const file = h('input', { type: 'file', name: 'logo', accept: LOGO_TYPES.join(',') });
    const upload = h('button', { type: 'submit', text: 'Upload logo' });
    const removeLogo = h('button', { type: 'button', class: 'secondary', text: 'Remove logo', hidden: !(organization && organization.logoUrl) });
    const refresh = async () => {
      await loadOrganization();
      removeLogo.hidden = !organization.logoUrl;
    };
    removeLogo.addEventListener('click', () =>
      busy(removeLogo, async () => {
        try {
          await api.post('/organization/logo/remove', { organizationId: orgId });
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
                  await api.post('/organization/update', { organizationId: orgId, name: name.value.trim() });
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
                  const ticket = await api.post('/organization/logo/upload-ticket', { organizationId: orgId, contentType: chosen.type });
                  await putUpload(ticket.uploadUrl, ticket.requiredHeaders || {}, chosen);
                  await api.post('/organization/logo/finalize', { organizationId: orgId, tmpKey: ticket.tmpKey });
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
  } else {
    sections.settings.hidden = true;
  }

  if (!mineApp || !atLeast(myRole, 'moderator')) {
    // Still ask: whatever the API answers (403 organization.forbidden) is shown.
    await Promise.all([sections.zones.load(), sections.members.load()]);
    sections.invitations.hidden = true;
    return;
  }
  await sections.zones.load();
  await Promise.all([sections.members.load(), sections.invitations.load()]);
}
