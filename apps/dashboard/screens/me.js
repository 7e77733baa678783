// Me: the User DTO as a card, the display name, the manual status, the
// avatar through the real two-step upload (with its photo review, when
// photo verification is on), and a download of everything Usher holds
// about the user (the data export).

import * as users from '../api/users.js';
import * as photos from '../api/photos.js';
import { h, replace, field, notices, picture, when, busy, saveBlob } from '../dom.js';

export const title = 'Me';

const STATUSES = [
  ['', 'No manual status'],
  ['online', 'Online'],
  ['away', 'Away'],
  ['busy', 'Busy'],
  ['offline', 'Appear offline'],
];
const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

function card(user) {
  const status = STATUSES.find(([v]) => v === (user.manualStatus || ''))[1];
  return h(
    'article',
    { class: 'card me-card', 'aria-label': 'Your profile' },
    picture(user.avatarUrl, `Profile photo of ${user.displayName}`, 'No photo yet'),
    h(
      'div',
      {},
      h('h2', { class: 'name', text: user.displayName }),
      h('p', { class: 'muted', text: user.email }),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'User id' }), h('dd', { text: user.id }),
        h('dt', { text: 'Status' }), h('dd', { text: status }),
        h('dt', { text: 'Photo uploads left' }), h('dd', { text: String(user.avatarUploadTriesRemaining) }),
        h('dt', { text: 'Member since' }), h('dd', { text: when(user.createdAt) }),
      ),
    ),
  );
}

/** A rejected photo's `retry`, for its user. */
const PHOTO_RETRY = {
  retry: 'You may upload another photo.',
  final: 'This decision is final: you may not upload another photo.',
};

function reviewItem(v) {
  const label = { PENDING: 'Waiting for review', ACCEPTED: 'Approved', REJECTED: 'Rejected', SUPERSEDED: 'Replaced by a newer photo' }[v.status] || v.status;
  const showPhoto = v.status === 'PENDING' || v.status === 'ACCEPTED';
  return h(
    'li',
    { class: `review status-${v.status.toLowerCase()}`, 'data-status': v.status },
    showPhoto ? picture(v.profile.url, 'The photo you submitted') : null,
    h(
      'div',
      {},
      h('strong', { class: 'badge', text: label }),
      h('small', { class: 'muted', text: ` · sent ${when(v.createdAt)}` }),
      v.reason ? h('p', { class: 'reason', text: `Reason: ${v.reason}` }) : null,
      v.status === 'REJECTED' && v.retry
        ? h('p', { class: `retry-line ${v.retry}`, 'data-retry': v.retry, text: PHOTO_RETRY[v.retry] || v.retry })
        : null,
    ),
  );
}


export async function render(root, ctx) {
  const cardSlot = h('div', {});
  const msg = notices();
  const reviews = h('ul', { class: 'reviews', 'aria-label': 'Your photo reviews' });

  let removeButton = null;
  const showCard = () => {
    replace(cardSlot, card(ctx.me));
    if (removeButton) removeButton.hidden = !ctx.me.avatarUrl;
  };
  const loadReviews = async () => {
    try {
      const page = await photos.ofUser(ctx.me.id, { status: 'all', limit: 5 });
      replace(reviews, page.items.length ? page.items.map(reviewItem) : h('li', { class: 'muted', text: 'No photo reviews yet.' }));
    } catch (err) {
      ctx.failed(err);
      msg.error(err);
    }
  };

  // Display name
  const nameInput = h('input', { name: 'displayName', value: ctx.me.displayName, maxlength: 200, autocomplete: 'name' });
  const nameButton = h('button', { type: 'submit', text: 'Save name' });
  const nameForm = h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        busy(nameButton, async () => {
          try {
            ctx.setMe(await users.update({ displayName: nameInput.value }));
            showCard();
            msg.ok('Display name saved.');
          } catch (err) {
            ctx.failed(err);
            msg.error(err);
          }
        });
      },
    },
    h('h2', { text: 'Display name' }),
    field('Display name', nameInput),
    nameButton,
  );

  // Manual status
  const statusSelect = h(
    'select',
    { name: 'manualStatus' },
    STATUSES.map(([value, label]) => h('option', { value, text: label, selected: (ctx.me.manualStatus || '') === value })),
  );
  const statusButton = h('button', { type: 'submit', text: 'Set status' });
  const statusForm = h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        busy(statusButton, async () => {
          try {
            ctx.setMe(await users.setStatus(statusSelect.value || null));
            showCard();
            msg.ok('Status saved.');
          } catch (err) {
            ctx.failed(err);
            msg.error(err);
          }
        });
      },
    },
    h('h2', { text: 'Status' }),
    field('Manual status', statusSelect, 'Overrides your presence until you clear it.'),
    statusButton,
  );

  // Avatar
  const fileInput = h('input', { type: 'file', name: 'avatar', accept: ACCEPTED_TYPES.join(',') });
  const uploadButton = h('button', { type: 'submit', text: 'Upload photo' });
  removeButton = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Remove photo',
    onclick: () =>
      busy(removeButton, async () => {
        try {
          ctx.setMe(await users.removeAvatar());
          showCard();
          msg.ok('Photo removed.');
        } catch (err) {
          ctx.failed(err);
          msg.error(err);
        }
      }),
  });
  const avatarForm = h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        const file = fileInput.files[0];
        if (!file) {
          msg.error({ title: 'No file chosen', detail: 'Choose a PNG, JPEG or WebP image first.' });
          return;
        }
        busy(uploadButton, async () => {
          msg.info('Uploading…');
          try {
            const done = await users.uploadAvatar(file);
            fileInput.value = '';
            ctx.setMe(await users.me());
            showCard();
            if (done.pendingVerification) msg.ok('Your new photo is waiting for review; your current photo stays until it is approved.');
            else msg.ok('Your new photo is live.');
            await loadReviews();
          } catch (err) {
            ctx.failed(err);
            msg.error(err);
          }
        });
      },
    },
    h('h2', { text: 'Photo' }),
    field('New photo', fileInput, 'PNG, JPEG or WebP. With photo review on, a reviewer approves it before it shows.'),
    h('div', { class: 'actions' }, uploadButton, removeButton),
  );

  // Your data: the export as a file, saved through a Blob's object URL.
  const exportButton = h('button', { type: 'button', class: 'secondary', text: 'Download my data' });
  exportButton.addEventListener('click', () =>
    busy(exportButton, async () => {
      try {
        const { blob, filename } = await users.exportData();
        saveBlob(blob, filename);
        msg.ok(`Your data was saved as ${filename}.`);
      } catch (err) {
        ctx.failed(err);
        msg.error(err);
      }
    }),
  );
  const dataPanel = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'data-title' },
    h('h2', { id: 'data-title', text: 'Your data' }),
    h('p', {
      class: 'muted',
      text: 'Everything Usher holds about you (your account, KYC profiles with their decisions, labels, photo reviews and invitations) as one JSON file.',
    }),
    h('div', { class: 'actions' }, exportButton),
  );

  replace(
    root,
    h('h1', { id: 'me-title', text: 'Me' }),
    msg.el,
    cardSlot,
    h('div', { class: 'grid' }, nameForm, statusForm, avatarForm),
    h('section', { class: 'panel', 'aria-labelledby': 'reviews-title' }, h('h2', { id: 'reviews-title', text: 'Photo reviews' }), reviews),
    dataPanel,
  );
  showCard();
  await loadReviews();
}
