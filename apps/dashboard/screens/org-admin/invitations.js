// Organization admin, Invitations: create one (by e-mail or as an open
// link) with the link and QR code shown once, and the list a page at a time
// by status and e-mail, with revoke, resend and the acceptance log.

import * as invitations from '../../api/invitations.js';
import { h, replace, field, when, busy, debounce, keysetPager, confirmButton } from '../../dom.js';
import { roleLabel, roleOption, duration, qrImage } from '../org-shared.js';

/** Invitations shown per page (the API's default). */
const INVITATIONS_PAGE = 20;

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
const OUTCOMES = { accepted: 'Accepted', declined: 'Declined', failed: 'Failed' };

/** Fills `o.sections.invitations`, its `load` and `refreshZones` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, youMay, sections, sectionNotices, fail, zoneName, person } = o;
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
          o.zones.map((z) => h('option', { value: z.id, text: z.name, selected: z.id === chosen })),
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
