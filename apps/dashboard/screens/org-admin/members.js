// Organization admin, Members: the members of the organization (current,
// former or all, a page at a time), with the controls `youMay` allows: the
// role, the zones and end date, remove (with or without a block from
// rejoining) and each member's history.

import * as organizations from '../../api/organizations.js';
import { h, replace, field, when, busy, keysetPager, confirmButton } from '../../dom.js';
import { roleLabel, expiry } from '../org-shared.js';

/** Members shown per page (the API allows up to 100). */
const MEMBERS_PAGE = 50;

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

/** Fills `o.sections.members` and sets its `load` (`o`: see ../org-admin.js). */
export function build(o) {
  const { ctx, orgId, youMay, sections, sectionNotices, fail, again, zoneName, zoneList, people, person } = o;
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
  // The server searches: a prefix of the name or e-mail, served by an index.
  const searchBox = h('input', { type: 'search', name: 'memberSearch', maxlength: '100', autocomplete: 'off' });
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
    const choices = youMay.zones ? o.zones.filter((z) => youMay.zones.includes(z.id)) : o.zones;
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
      question: `Remove ${m.displayName} from ${o.organization.name}? They lose access at once, and the invitations they created are withdrawn.`,
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
        search: searchBox.value.trim() || undefined,
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
  section.append(
    h('div', { class: 'toolbar' }, field('Which members', statusFilter), field('Name or e-mail starts with', searchBox)),
    list,
    pager.el,
  );
  statusFilter.addEventListener('change', () => pager.restart());
  // Enter or clearing the box searches; typing alone does not send a request per key.
  searchBox.addEventListener('change', () => pager.restart());
  searchBox.addEventListener('search', () => pager.restart());
  section.load = pager.load;
}
