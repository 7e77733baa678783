// My organizations: the sidebar (`GET /my-apps/sidebar`) as cards — logo,
// role, zones, expiry, the current one marked — with switch and leave, the
// invitations waiting for me (`POST /invitation/mine`, a page at a time)
// with Accept and Decline, and a form to create an organization. Whether an
// organization offers "Manage" is what its `youMay` says, not my role.
// Every change reloads the list.

import * as organizations from '../api/organizations.js';
import * as invitations from '../api/invitations.js';
import { h, replace, field, notices, when, busy, keysetPager, confirmButton } from '../dom.js';
import { logo, roleLabel, expiry, acceptProblem, managesAnything, organizationViews } from './org-shared.js';

export const title = 'My organizations';

/** Invitations waiting for me shown per page (the API's default). */
const MINE_PAGE = 20;

export async function render(root, ctx) {
  const msg = notices();
  const pending = h('div', { class: 'cards' });
  const list = h('div', { class: 'cards' });
  // Newest first, a page at a time; "Show more invitations" appends the next page.
  const pendingPager = keysetPager(
    (cursor) => invitations.mine({ limit: MINE_PAGE, cursor: cursor || undefined }),
    (page, { append }) => {
      if (append) {
        pending.append(...page.invitations.map(invitationCard));
        return;
      }
      pendingSection.hidden = page.invitations.length === 0;
      replace(pending, page.invitations.map(invitationCard));
    },
    (err) => {
      ctx.failed(err);
      msg.error(err);
    },
    { more: 'Show more invitations' },
  );
  const pendingSection = h(
    'section',
    { class: 'org-section', 'aria-labelledby': 'orgs-pending-title', hidden: true },
    h('h2', { id: 'orgs-pending-title', text: 'Invitations waiting for you' }),
    pending,
    pendingPager.el,
  );

  /** Runs one change, shows its outcome and reloads. */
  async function change(button, work, done) {
    await busy(button, async () => {
      try {
        const text = await work();
        await load();
        msg.ok(text || done);
      } catch (err) {
        ctx.failed(err);
        const words = acceptProblem(err);
        if (words) msg.error({ ...err, title: words[0], detail: `${words[1]} (${err.detail || err.title})`, requestId: err.requestId });
        else msg.error(err);
      }
    });
  }

  function invitationCard({ invitation: inv, organization: org }) {
    const accept = h('button', { type: 'button', text: 'Accept' });
    const decline = h('button', { type: 'button', class: 'secondary', text: 'Decline' });
    accept.addEventListener('click', () =>
      change(accept, async () => {
        ctx.setMe(await invitations.accept({ invitationId: inv.id }));
        return `You joined ${org.name} as ${roleLabel(inv.role).toLowerCase()}.`;
      }),
    );
    decline.addEventListener('click', () =>
      change(decline, async () => {
        await invitations.reject({ invitationId: inv.id });
        return `You declined the invitation to ${org.name}.`;
      }),
    );
    return h(
      'article',
      { class: 'card org-card invitation-mine', 'data-invitation': inv.id, 'aria-label': `Invitation to ${org.name}` },
      logo(org),
      h(
        'div',
        { class: 'org-body' },
        h('h3', { class: 'org-name', text: org.name }),
        h(
          'dl',
          { class: 'facts' },
          h('dt', { text: 'Role offered' }), h('dd', { text: roleLabel(inv.role) }),
          h('dt', { text: 'Where' }), h('dd', { text: inv.zoneId ? 'One zone of the organization' : 'The whole organization' }),
          h('dt', { text: 'Answer by' }), h('dd', { text: when(inv.expiresAt) }),
          inv.membershipDurationSeconds ? [h('dt', { text: 'Membership' }), h('dd', { text: 'Time-limited' })] : null,
        ),
        h('div', { class: 'actions' }, accept, decline),
      ),
    );
  }

  function appCard(app, view) {
    const org = app.organization;
    const actions = h('div', { class: 'actions' });
    if (!app.current) {
      const makeCurrent = h('button', { type: 'button', class: 'secondary', text: 'Make current' });
      makeCurrent.addEventListener('click', () =>
        change(makeCurrent, async () => {
          ctx.setMe(await organizations.switchTo(org.id));
          return `${org.name} is now your current organization.`;
        }),
      );
      actions.append(makeCurrent);
    }
    if (view && managesAnything(view.youMay)) {
      actions.append(h('a', { class: 'button-link', href: `#/org/${org.id}`, text: 'Manage' }));
    }
    const leave = confirmButton({
      text: 'Leave…',
      question: `Leave ${org.name}? You lose access at once; to come back you need a new invitation.`,
      confirmText: `Leave ${org.name}`,
      action: () =>
        change(leave.button, async () => {
          ctx.setMe(await organizations.leave(org.id));
          return `You left ${org.name}.`;
        }),
    });
    actions.append(leave.button);
    const zoneName = (id) => ((view && view.zones.find((z) => z.id === id)) || {}).name || id;
    const zoneText = app.zones.length ? app.zones.map(zoneName).join(', ') : 'The whole organization';
    return h(
      'article',
      {
        class: `card org-card${app.current ? ' current' : ''}`,
        'data-org': org.id,
        'aria-label': org.name,
        'aria-current': app.current ? 'true' : null,
      },
      logo(org),
      h(
        'div',
        { class: 'org-body' },
        h('h3', { class: 'org-name' }, org.name, app.current ? h('span', { class: 'badge current-badge', text: 'Current' }) : null),
        h(
          'dl',
          { class: 'facts' },
          h('dt', { text: 'Your role' }), h('dd', { class: 'role', text: roleLabel(app.role) }),
          h('dt', { text: 'Zones' }), h('dd', { text: zoneText }),
          h('dt', { text: 'Joined' }), h('dd', { text: when(app.joinedAt) }),
          h('dt', { text: 'Membership' }), h('dd', { text: expiry(app.expiresAt) }),
        ),
        h('small', { class: 'muted', text: `Id ${org.id}` }),
        actions,
        leave.box,
      ),
    );
  }

  async function load() {
    const [side] = await Promise.all([organizations.sidebar(), pendingPager.restart()]);
    // Each organization's view: its zone names and what I may do there.
    const views = await organizationViews(side.apps);
    replace(
      list,
      side.apps.length
        ? side.apps.map((app) => appCard(app, views.get(app.organization.id)))
        : h('p', { class: 'muted empty-list', text: 'You do not belong to any organization yet. Create one below, or accept an invitation.' }),
    );
  }

  const nameInput = h('input', { name: 'name', required: true, minlength: 2, maxlength: 100, autocomplete: 'organization' });
  const createButton = h('button', { type: 'submit', text: 'Create organization' });
  const createForm = h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        const name = nameInput.value.trim();
        change(createButton, async () => {
          ctx.setMe(await organizations.create({ name }));
          nameInput.value = '';
          return `${name} is created. You are its admin, and it is now your current organization.`;
        });
      },
    },
    h('h2', { text: 'Create an organization' }),
    field('Organization name', nameInput, 'From 2 to 100 characters. You become its admin.'),
    createButton,
  );

  replace(
    root,
    h('h1', { id: 'orgs-title', text: title }),
    msg.el,
    pendingSection,
    h('section', { class: 'org-section', 'aria-labelledby': 'orgs-list-title' }, h('h2', { id: 'orgs-list-title', text: 'Your organizations' }), list),
    createForm,
  );
  try {
    await load();
  } catch (err) {
    ctx.failed(err);
    msg.error(err);
  }
}
