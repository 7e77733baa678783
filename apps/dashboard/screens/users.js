// Users (superusers): search, link or unlink a Discord id, change the
// platform role, and erase a user's personal data on their request (after
// a confirmation that names the user and says what happens). Linking a
// Discord id is what lets a user upload a photo when photo verification
// requires Discord.

import { ApiError } from '../api/client.js';
import * as admin from '../api/admin.js';
import { h, replace, field, notices, when, debounce, busy, keysetPager, confirmButton } from '../dom.js';

export const title = 'Users';
export const superuser = true;

const PAGE_SIZE = 20;

export async function render(root, ctx) {
  const msg = notices();
  const list = h('div', { class: 'cards' });
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'name, e-mail or username' });
  const pager = keysetPager(
    (cursor) => admin.searchUsers({ q: search.value.trim(), limit: PAGE_SIZE, cursor }),
    (page) => replace(list, page.items.length ? page.items.map(row) : h('p', { class: 'muted empty-list', text: 'No users match.' })),
    (err) => {
      ctx.failed(err);
      msg.error(err);
    },
  );
  const { load, restart } = pager;

  async function save(button, userId, patch, done) {
    await busy(button, async () => {
      try {
        const user = await admin.updateUser(userId, patch);
        msg.ok(done(user));
        await load();
      } catch (err) {
        ctx.failed(err);
        msg.error(err);
      }
    });
  }

  /** A refused erasure in plain words, then what the service said. */
  function eraseRefused(err) {
    const own = err instanceof ApiError && err.code === 'user.erase_own_account';
    replace(
      msg.el,
      h(
        'div',
        { class: 'notice error', role: 'alert', 'data-code': err.code || '' },
        h('strong', { class: 'title', text: own ? 'You cannot erase your own account.' : err.title || 'The erasure failed.' }),
        own ? h('p', { class: 'detail', text: 'Another superuser has to erase it for you.' }) : null,
        err.detail ? h('p', { class: 'detail' }, own ? h('span', { class: 'problem-title', text: `${err.title} — ` }) : null, err.detail) : null,
        err.requestId ? h('small', { class: 'muted', text: `Request id: ${err.requestId}` }) : null,
      ),
    );
  }

  function eraseAction(u) {
    const name = `${u.displayName} (${u.email})`;
    return confirmButton({
      text: 'Erase personal data…',
      className: 'danger',
      question: `Erase the personal data of ${name}? This cannot be undone.`,
      confirmText: `Erase ${u.displayName}'s data`,
      extra: h(
        'ul',
        { class: 'erase-effects' },
        h('li', { text: 'Their e-mail address, names and username are replaced by a pseudonym; this account can no longer be signed in to.' }),
        h('li', { text: 'Their KYC profile data is destroyed for good, backups included.' }),
        h('li', { text: 'Their profile photo and every photo they sent for review are deleted.' }),
        h('li', { text: 'Decisions, memberships and history are kept, under the pseudonym.' }),
      ),
      action: async () => {
        msg.clear();
        try {
          const r = await admin.eraseUser(u.id);
          const photos = r.photosDeleted === 1 ? '1 photo deleted' : `${r.photosDeleted} photos deleted`;
          msg.ok(
            r.alreadyErased
              ? `${name} was already erased, ${when(r.erasedAt)}. Nothing more to do.`
              : `Erased the personal data of ${name}, ${when(r.erasedAt)} (user id ${r.userId}; ${photos}).`,
          );
          await load();
        } catch (err) {
          ctx.failed(err);
          eraseRefused(err);
        }
      },
    });
  }

  function row(u) {
    const discord = h('input', { name: 'discordId', value: u.discordId || '', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]*' });
    const link = h('button', { type: 'submit', text: 'Save Discord id' });
    const form = h(
      'form',
      {
        class: 'inline',
        onsubmit: (e) => {
          e.preventDefault();
          const value = discord.value.trim();
          save(link, u.id, { discordId: value || null }, (user) =>
            user.discordId ? `${user.displayName}: Discord id ${user.discordId} linked.` : `${user.displayName}: Discord unlinked.`,
          );
        },
      },
      field('Discord id', discord),
      link,
    );
    const otherRole = u.platformRole === 'superuser' ? 'user' : 'superuser';
    const role = h('button', { type: 'button', class: 'secondary', text: otherRole === 'superuser' ? 'Make superuser' : 'Make regular user' });
    role.addEventListener('click', () => save(role, u.id, { platformRole: otherRole }, (user) => `${user.displayName} is now a ${user.platformRole}.`));
    const erase = eraseAction(u);
    return h(
      'article',
      { class: 'card user-row', 'data-id': u.id, 'data-email': u.email, 'aria-label': u.displayName },
      h('h2', { class: 'who', text: u.displayName }),
      h('p', { class: 'muted', text: `${u.email} · @${u.username} · ${u.platformRole}` }),
      form,
      h('div', { class: 'actions' }, role, erase.button),
      erase.box,
    );
  }

  search.addEventListener('input', debounce(restart, 300));
  replace(
    root,
    h('h1', { id: 'users-title', text: 'Users' }),
    msg.el,
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); restart(); } }, field('Search users', search)),
    list,
    pager.el,
  );
  await load();
}
