// Photo verifications (superusers): one card per verification with the
// current profile photo, the new photo and the Discord avatar, each side's
// approval, and the decisions (reason, retry or final, the internal note).
// Reject with a reason, a note and retry/final; open a card's event log.
// Search by username (debounced) and paging. The four-eyes refusal and a
// decision another reviewer made first are shown as plain messages.

import { ApiError } from '../api/client.js';
import * as photos from '../api/photos.js';
import { h, replace, field, notices, problemView, picture, when, debounce, busy, keysetPager, rejectionFields } from '../dom.js';

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
const STATUS_LABEL = Object.fromEntries(STATUSES);
const DISCORD_STATE = { notLinked: 'No Discord account linked', notFetched: 'Not read yet: refresh it', fetched: 'Discord avatar' };
/** What `retry` means for the user, in the words of the reject form. */
const PHOTO_RETRY = { retry: 'May upload another photo', final: 'Final: no more photos' };

/** A plain-language message for a refused decision, or null when the problem speaks for itself. */
function refusalView(err) {
  if (!(err instanceof ApiError)) return null;
  let title = null;
  let detail = null;
  if (err.status === 403 && err.code === 'photo.own_verification') {
    title = 'This is your own photo.';
    detail = 'Under the four-eyes rule another superuser has to review it.';
  } else if (err.status === 409 && (err.code === 'photo.conflict' || err.code === 'photo.already_decided')) {
    const now = err.current && err.current.status;
    title = 'Another reviewer decided this first.';
    detail = now ? `It is now ${STATUS_LABEL[now] || now}. The list below shows it as it stands.` : 'The list below shows it as it stands.';
  }
  if (!title) return null;
  return h(
    'div',
    { class: 'notice error refusal', role: 'alert', 'data-code': err.code },
    h('strong', { class: 'title', text: title }),
    h('p', { class: 'detail', text: detail }),
    h('p', { class: 'detail' }, h('span', { class: 'problem-title', text: err.title }), err.detail ? ` — ${err.detail}` : ''),
    err.requestId ? h('small', { class: 'muted', text: `Request id: ${err.requestId}` }) : null,
  );
}

export async function render(root, ctx) {
  const msg = notices();
  const list = h('div', { class: 'cards', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', name: 'username', autocomplete: 'off', placeholder: 'e.g. ada' });
  const statusSelect = h('select', { name: 'status' }, STATUSES.map(([v, l]) => h('option', { value: v, text: l })));
  const pager = keysetPager(
    (cursor) => photos.list({ status: statusSelect.value, username: search.value.trim(), limit: PAGE_SIZE, cursor }),
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
        const plain = refusalView(err);
        if (plain) replace(msg.el, plain);
        else msg.error(err);
      }
      await load();
    });
  }

  /** Who a user id is, as far as this card knows: you, the photo's user, or another superuser. */
  const personOf = (v, who) => (id) => {
    if (!id) return 'someone';
    if (ctx.me && id === ctx.me.id) return 'you';
    if (id === v.userId) return who;
    return `a superuser (user id ${id})`;
  };

  function approval(label, side, person) {
    const text = side.approved
      ? `${label}: approved${side.approvedBy ? ` by ${person(side.approvedBy)}` : ''}${side.approvedAt ? `, ${when(side.approvedAt)}` : ''}`
      : `${label}: not approved`;
    return h('p', { class: side.approved ? 'approval yes' : 'approval no', text });
  }

  /** One entry of the event log, as a sentence. */
  function eventItem(e, v, who, person) {
    const actor = person(e.actor);
    const byUser = e.actor === v.userId;
    const hash = (x) => x || 'the default avatar';
    let text;
    switch (e.kind) {
      case 'created':
        text = `${byUser ? who : actor} uploaded the new photo.`;
        break;
      case 'profile_approved':
        text = `${actor} approved the new photo (profile side).`;
        break;
      case 'discord_approved':
        text = `${actor} approved the Discord avatar (Discord side).`;
        break;
      case 'discord_refreshed': {
        const how = e.oldHash === e.newHash ? `unchanged (${hash(e.newHash)})` : `changed from ${hash(e.oldHash)} to ${hash(e.newHash)}`;
        text = byUser ? `The Discord avatar was read automatically: ${how}.` : `${actor} read the Discord avatar again: ${how}.`;
        break;
      }
      case 'accepted':
        text = `Accepted${byUser ? '' : ` by ${actor}`}: the new photo went live.`;
        break;
      case 'rejected':
        text = `${actor} rejected the photo.`;
        break;
      case 'superseded':
        text = 'Replaced by a newer upload from the user.';
        break;
      default:
        text = `${e.kind} by ${actor}.`;
    }
    return h(
      'li',
      { class: 'event', 'data-kind': e.kind },
      h('span', { class: 'when', text: when(e.at) }),
      ' ',
      h('span', { class: 'what', text: text.charAt(0).toUpperCase() + text.slice(1) }),
      e.reason ? h('p', { class: 'reason', text: `Reason (shown to the user): ${e.reason}` }) : null,
      e.note ? h('p', { class: 'note', text: `Internal note: ${e.note}` }) : null,
    );
  }

  /** The record's event log, loaded when a reviewer opens it. */
  function historyToggle(v, who) {
    const box = h('section', { class: 'event-log', hidden: true, 'aria-label': `History of the verification for ${who}` });
    const button = h('button', { type: 'button', class: 'secondary', text: 'Show history', 'aria-expanded': 'false' });
    button.addEventListener('click', () =>
      busy(button, async () => {
        if (!box.hidden) {
          box.hidden = true;
          button.textContent = 'Show history';
          button.setAttribute('aria-expanded', 'false');
          return;
        }
        try {
          const d = await photos.verification(v.id);
          const person = personOf(d.verification, who);
          replace(
            box,
            h('h3', { text: 'History' }),
            d.events.length
              ? h('ol', { class: 'events' }, d.events.map((e) => eventItem(e, d.verification, who, person)))
              : h('p', { class: 'muted', text: 'Nothing recorded yet.' }),
          );
        } catch (err) {
          ctx.failed(err);
          replace(box, problemView(err));
        }
        box.hidden = false;
        button.textContent = 'Hide history';
        button.setAttribute('aria-expanded', 'true');
      }),
    );
    return { button, box };
  }

  /** How a decided verification ended: by whom, the reason, retry or final, the internal note. */
  function decidedView(v, person) {
    if (v.status === 'PENDING') return null;
    return h(
      'div',
      { class: 'decided-block' },
      v.decidedAt || v.decidedBy
        ? h('p', { class: 'decided', text: `${STATUS_LABEL[v.status] || v.status}${v.decidedBy ? ` by ${person(v.decidedBy)}` : ''}${v.decidedAt ? `, ${when(v.decidedAt)}` : ''}` })
        : null,
      v.reason ? h('p', { class: 'reason', text: `Reason: ${v.reason}` }) : null,
      v.retry ? h('p', { class: `retry-line ${v.retry}`, 'data-retry': v.retry, text: PHOTO_RETRY[v.retry] || v.retry }) : null,
      v.note ? h('p', { class: 'note', text: `Internal note: ${v.note}` }) : null,
    );
  }

  function cardOf(v) {
    const user = v.user || { displayName: v.userId, username: '' };
    const who = user.username ? `${user.displayName} (@${user.username})` : user.displayName;
    const person = personOf(v, who);
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
            () => photos.approve(v.id, type),
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
      const fields = rejectionFields({
        reasonLabel: 'Reason for rejecting (shown to the user)',
        reasonMax: 500,
        retryLabel: PHOTO_RETRY.retry,
        finalLabel: PHOTO_RETRY.final,
      });
      const confirm = h('button', { type: 'submit', class: 'danger', text: 'Confirm reject' });
      const rejectForm = h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault();
            const body = fields.values();
            decide(
              confirm,
              () => photos.reject(v.id, body),
              (r) => `${who}: rejected (${PHOTO_RETRY[r.retry] || r.retry}).`,
            );
          },
        },
        fields.el,
        h('div', { class: 'actions' }, confirm, h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => { rejectBox.hidden = true; } })),
      );
      rejectBox.append(rejectForm);
      const reject = h('button', {
        type: 'button',
        class: 'danger',
        text: 'Reject…',
        onclick: () => {
          rejectBox.hidden = false;
          fields.focus();
        },
      });
      actions.append(approve('profile', 'Approve profile'), approveDiscord, approveBoth, reject);
    }
    if (pending && v.discordId) {
      const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh Discord avatar' });
      refresh.addEventListener('click', () =>
        decide(refresh, () => photos.refreshDiscordAvatar(v.discordId), () => `${who}: Discord avatar read again.`),
      );
      actions.append(refresh);
    }
    const history = historyToggle(v, who);
    actions.append(history.button);

    return h(
      'article',
      { class: 'card verification', 'data-id': v.id, 'data-status': v.status, 'aria-label': `Verification for ${who}` },
      h('h2', { class: 'who', text: who }),
      h('p', { class: 'muted' }, h('strong', { class: 'badge', text: v.status }), ` · sent ${when(v.createdAt)}`, v.discordId ? ` · Discord ${v.discordId}` : ''),
      decidedView(v, person),
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
          approval('Profile', v.profile, person),
        ),
        h(
          'figure',
          {},
          picture(v.discord.url, `Discord avatar of ${who}`, DISCORD_STATE[v.discord.state] || v.discord.state),
          h('figcaption', { text: DISCORD_STATE[v.discord.state] || 'Discord avatar' }),
          v.discord.state === 'notLinked' ? null : approval('Discord', v.discord, person),
        ),
      ),
      actions,
      rejectBox,
      history.box,
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
