// Users (superusers): search, link or unlink a Discord id, change the
// platform role. Linking a Discord id is what lets a user upload a photo
// when photo verification requires Discord.

import { api } from '../api.js';
import { h, replace, field, notices, debounce, busy, keysetPager } from '../dom.js';

export const title = 'Users';
export const superuser = true;

const PAGE_SIZE = 20;

export async function render(root, ctx) {
  const msg = notices();
  const list = h('div', { class: 'cards' });
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'name, e-mail or username' });
  const pager = keysetPager(
    (cursor) => api.get('/admin/users', { q: search.value.trim(), limit: PAGE_SIZE, cursor }),
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
        const user = await api.patch(`/admin/users/${encodeURIComponent(userId)}`, patch);
        msg.ok(done(user));
        await load();
      } catch (err) {
        ctx.failed(err);
        msg.error(err);
      }
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
    return h(
      'article',
      { class: 'card user-row', 'data-email': u.email, 'aria-label': u.displayName },
      h('h2', { class: 'who', text: u.displayName }),
      h('p', { class: 'muted', text: `${u.email} · @${u.username} · ${u.platformRole}` }),
      form,
      h('div', { class: 'actions' }, role),
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
