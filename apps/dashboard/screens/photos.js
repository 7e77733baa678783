// Photo verifications (superusers): one card per verification with the
// current profile photo, the new photo and the Discord avatar, each side's
// approval, and the decisions. Search by username (debounced) and paging.

import { api } from '../api.js';
import { h, replace, field, notices, picture, when, debounce, busy, keysetPager } from '../dom.js';

export const title = 'Photo verifications';
export const superuser = true;

const PAGE_SIZE = 10;
const STATUSES = [
  ['PENDING', 'Pending'],
  ['ACCEPTED', 'Accepted'],
  ['REJECTED', 'Rejected'],
  ['SUPERSEDED', 'Superseded'],
  ['all', 'All'],
];
const DISCORD_STATE = { notLinked: 'No Discord account linked', notFetched: 'Not read yet: refresh it', fetched: 'Discord avatar' };

function approval(label, side) {
  const text = side.approved
    ? `${label}: approved${side.approvedBy ? ` by user ${side.approvedBy}` : ''}${side.approvedAt ? `, ${when(side.approvedAt)}` : ''}`
    : `${label}: not approved`;
  return h('p', { class: side.approved ? 'approval yes' : 'approval no', text });
}

export async function render(root, ctx) {
  const msg = notices();
  const list = h('div', { class: 'cards', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', name: 'username', autocomplete: 'off', placeholder: 'e.g. ada' });
  const statusSelect = h('select', { name: 'status' }, STATUSES.map(([v, l]) => h('option', { value: v, text: l })));
  const pager = keysetPager(
    (cursor) => api.get('/picture/all', { status: statusSelect.value, username: search.value.trim(), limit: PAGE_SIZE, cursor }),
    (page) => replace(list, page.items.length ? page.items.map(cardOf) : h('p', { class: 'muted empty-list', text: 'No verifications match.' })),
    (err) => {
      ctx.failed(err);
      msg.error(err);
    },
  );
  const { load, restart } = pager;

  async function decide(button, work, done) {
    await busy(button, async () => {
      try {
        const record = await work();
        msg.ok(done(record));
      } catch (err) {
        ctx.failed(err);
        msg.error(err);
      }
      await load();
    });
  }

  function cardOf(v) {
    const user = v.user || { displayName: v.userId, username: '' };
    const who = user.username ? `${user.displayName} (@${user.username})` : user.displayName;
    const pending = v.status === 'PENDING';
    const kept = pending || v.status === 'ACCEPTED';
    const actions = h('div', { class: 'actions' });
    const rejectBox = h('div', { class: 'reject', hidden: true });

    if (pending) {
      const approve = (type, text) => {
        const b = h('button', { type: 'button', text });
        b.addEventListener('click', () =>
          decide(
            b,
            () => api.patch(`/picture/verify/${encodeURIComponent(v.id)}`, undefined, { type }),
            (r) => (r.status === 'ACCEPTED' ? `${who}: accepted, the new photo is live.` : `${who}: ${type} side approved; still waiting for the other side.`),
          ),
        );
        return b;
      };
      const noDiscord = v.discord.state === 'notLinked';
      const approveDiscord = approve('discord', 'Approve Discord');
      const approveBoth = approve('both', 'Approve both');
      approveDiscord.disabled = noDiscord;
      approveBoth.disabled = noDiscord;
      const reason = h('textarea', { name: 'reason', rows: 2, maxlength: 500, required: true });
      const confirm = h('button', { type: 'submit', class: 'danger', text: 'Confirm reject' });
      const rejectForm = h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault();
            decide(
              confirm,
              () => api.patch(`/picture/reject/${encodeURIComponent(v.id)}`, { reason: reason.value }),
              () => `${who}: rejected.`,
            );
          },
        },
        field('Reason for rejecting (shown to the user)', reason),
        h('div', { class: 'actions' }, confirm, h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => { rejectBox.hidden = true; } })),
      );
      rejectBox.append(rejectForm);
      const reject = h('button', {
        type: 'button',
        class: 'danger',
        text: 'Reject…',
        onclick: () => {
          rejectBox.hidden = false;
          reason.focus();
        },
      });
      actions.append(approve('profile', 'Approve profile'), approveDiscord, approveBoth, reject);
    }
    if (pending && v.discordId) {
      const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh Discord avatar' });
      refresh.addEventListener('click', () =>
        decide(refresh, () => api.patch(`/discord-actions/avatar/update/${encodeURIComponent(v.discordId)}`), () => `${who}: Discord avatar read again.`),
      );
      actions.append(refresh);
    }

    return h(
      'article',
      { class: 'card verification', 'data-id': v.id, 'data-status': v.status, 'aria-label': `Verification for ${who}` },
      h('h2', { class: 'who', text: who }),
      h('p', { class: 'muted' }, h('strong', { class: 'badge', text: v.status }), ` · sent ${when(v.createdAt)}`, v.discordId ? ` · Discord ${v.discordId}` : ''),
      v.reason ? h('p', { class: 'reason', text: `Reason: ${v.reason}` }) : null,
      h(
        'div',
        { class: 'photos' },
        h('figure', {}, picture(user.avatarUrl, `Current profile photo of ${who}`), h('figcaption', { text: 'Current photo' })),
        h(
          'figure',
          {},
          // A rejected or superseded photo is deleted from the store: say so instead of a broken image.
          kept ? picture(v.profile.url, `New photo from ${who}`) : picture(null, `New photo from ${who} (deleted)`, 'Photo deleted'),
          h('figcaption', { text: 'New photo' }),
          approval('Profile', v.profile),
        ),
        h(
          'figure',
          {},
          picture(v.discord.url, `Discord avatar of ${who}`, DISCORD_STATE[v.discord.state] || v.discord.state),
          h('figcaption', { text: DISCORD_STATE[v.discord.state] || 'Discord avatar' }),
          v.discord.state === 'notLinked' ? null : approval('Discord', v.discord),
        ),
      ),
      actions,
      rejectBox,
    );
  }

  search.addEventListener('input', debounce(restart, 300));
  statusSelect.addEventListener('change', restart);

  replace(
    root,
    h('h1', { id: 'photos-title', text: 'Photo verifications' }),
    msg.el,
    h(
      'form',
      {
        class: 'toolbar',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          msg.clear();
          restart();
        },
      },
      field('Username', search),
      field('Status', statusSelect),
      h('button', { type: 'submit', class: 'secondary', text: 'Refresh' }),
    ),
    list,
    pager.el,
  );
  await load();
}
