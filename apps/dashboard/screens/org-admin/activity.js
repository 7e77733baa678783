// Organization admin, Activity: who did what in the organization, from its
// audit (`GET /organization/audit`) between two days, oldest first, with
// "Show more" and a CSV download of the same range. Shown where `youMay`
// lets me read its logs; the names are the ones the audit gives (an erased
// person reads "Erased user").

import * as organizations from '../../api/organizations.js';
import { h, replace, field, when, busy, keysetPager, saveBlob } from '../../dom.js';

/** What each event type says someone did, for people. */
const DID = {
  'organization.created': 'created the organization',
  'organization.updated': 'changed the organization’s name or logo',
  'zone.created': 'created a zone',
  'membership.created': 'joined, or added a member',
  'membership.role_changed': 'changed a member’s role',
  'membership.zones_changed': 'changed a member’s zones',
  'membership.expiry_changed': 'changed a member’s end date',
  'membership.upgraded': 'raised a membership through an invitation',
  'membership.ended': 'ended a membership',
  'membership.unblocked': 'unblocked someone',
  'invitation.created': 'created an invitation',
  'invitation.accepted': 'accepted an invitation',
  'invitation.acceptance_failed': 'tried to accept an invitation and was refused',
  'invitation.rejected': 'declined an invitation',
  'invitation.revoked': 'revoked an invitation',
  'invitation.resent': 'resent an invitation',
  'invitation.expired': 'an invitation expired',
};

/** `YYYY-MM-DD` of `date` in the reader's time zone. */
function day(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The instant a day starts in the reader's time zone, as RFC 3339 (UTC). */
function startOf(value, plusDays = 0) {
  if (!value) return undefined;
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** Fills `o.sections.activity` and sets its `load` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, sections, sectionNotices, fail } = o;
  const section = sections.activity;
  section.append(
    h('h2', { id: 'activity-title', text: 'Activity' }),
    h('p', { class: 'muted', text: 'Who did what here, oldest first. Names are as they read now.' }),
  );
  const n = sectionNotices(section);
  const today = new Date();
  const from = h('input', { type: 'date', name: 'from', value: day(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 7)) });
  const to = h('input', { type: 'date', name: 'to', value: day(today) });
  const show = h('button', { type: 'submit', text: 'Show' });
  const csv = h('button', { type: 'button', class: 'secondary', text: 'Download CSV' });
  const form = h('form', { class: 'toolbar activity-range' }, field('From', from), field('To (inclusive)', to), h('div', { class: 'actions' }, show, csv));
  const list = h('ol', { class: 'activity-list' });
  section.append(form, list);

  /** The range the form names: from the first day's start until the end of the last. */
  const range = () => ({ organizationId: orgId, from: startOf(from.value), to: startOf(to.value, 1) });

  function entry(e) {
    const who = e.actorName || (e.actorId ? `user ${e.actorId}` : 'Usher');
    const did = DID[e.type] || e.type;
    const said = e.type === 'invitation.expired' ? did : `${who} ${did}`;
    const reason = e.data && e.data.reason ? ` (${String(e.data.reason).replaceAll('_', ' ')})` : '';
    return h(
      'li',
      { class: 'activity', 'data-type': e.type },
      h('time', { datetime: e.occurredAt, class: 'muted', text: when(e.occurredAt) }),
      ' ',
      h('span', { class: 'did', text: `${said}${reason}` }),
    );
  }

  const pager = keysetPager(
    async (cursor) => {
      const page = await organizations.audit({ ...range(), cursor: cursor || undefined });
      return { ...page, nextCursor: page.hasMore ? page.nextCursor : null };
    },
    (page, { append }) => {
      const rows = page.entries.map(entry);
      if (append) list.append(...rows);
      else replace(list, rows.length ? rows : h('li', { class: 'muted empty-list', text: 'Nothing happened in these days.' }));
    },
    fail(n),
    { more: 'Show more activity' },
  );
  section.append(pager.el);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(show, () => pager.restart());
  });
  csv.addEventListener('click', () =>
    busy(csv, async () => {
      try {
        const { blob, filename } = await organizations.auditCsv(range());
        saveBlob(blob, filename);
        n.ok(`The activity was saved as ${filename}.`);
      } catch (err) {
        fail(n)(err);
      }
    }),
  );
  section.load = () => pager.restart();
}
