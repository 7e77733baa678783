// Profile reviews (superusers; seed 001): the queue of submitted KYC
// profiles, one profile beside the user's earlier profiles and past
// decisions (reason, retry or final, the internal note), Verify / Reject
// with a reason, a note and retry/final, the four-eyes refusals and a
// decision another reviewer made first as plain messages. Also: file a
// profile for a user (how four-eyes cases arise).

import { ApiError } from '../api/client.js';
import * as admin from '../api/admin.js';
import { h, replace, field, notices, problemView, when, debounce, busy, keysetPager, rejectionFields } from '../dom.js';
import { profileForm, profileFacts, profileDates, stateBadge, STATE_LABELS } from './profile-form.js';

export const title = 'Profile reviews';
export const superuser = true;

const PAGE_SIZE = 10;
const STATES = [
  ['submitted', 'Waiting for review'],
  ['drafted', 'Drafts'],
  ['verified', 'Verified'],
  ['rejected', 'Rejected'],
  ['withdrawn', 'Withdrawn'],
  ['', 'All states'],
];
/** What a rejection's `retry` means, in the words of the reject form. */
const PROFILE_RETRY = { retry: 'May send a new profile', final: 'Final: no new profile from the user' };
const FOUR_EYES = {
  'admin.profiles.second_admin_approval':
    'You filed this profile for the user, so under the four-eyes rule a different superuser must verify or reject it.',
  'admin.profiles.own_profile': 'This is your own profile. Nobody may decide their own profile.',
};

const userLine = (u) => (u ? `${u.displayName} (${u.email})` : '');

/** The four-eyes refusal: who has to act, then what the service said. */
function fourEyesView(err) {
  return h(
    'div',
    { class: 'notice error four-eyes', role: 'alert' },
    h('strong', { class: 'title', text: 'Another superuser has to decide this profile.' }),
    h('p', { class: 'detail', text: FOUR_EYES[err.code] }),
    h('p', { class: 'detail' }, h('span', { class: 'problem-title', text: err.title }), err.detail ? ` — ${err.detail}` : ''),
    err.requestId ? h('small', { class: 'muted', text: `Request id: ${err.requestId}` }) : null,
  );
}

export async function render(root, ctx) {
  const msg = notices();
  const detail = h('div', { class: 'profile-detail-slot' });
  const list = h('div', { class: 'cards', 'aria-live': 'polite' });
  const stateSelect = h('select', { name: 'state' }, STATES.map(([v, l]) => h('option', { value: v, text: l })));
  const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh' });
  const pager = keysetPager(
    (cursor) => admin.listProfiles({ state: stateSelect.value, limit: PAGE_SIZE, cursor }),
    (page) => replace(list, page.items.length ? page.items.map(queueCard) : h('p', { class: 'muted empty-list', text: 'No profiles here.' })),
    (err) => {
      ctx.failed(err);
      msg.error(err);
    },
  );
  const { load: loadQueue, restart } = pager;

  function queueCard({ profile, user, author }) {
    const name = [profile.firstName, profile.lastName].filter(Boolean).join(' ');
    return h(
      'article',
      { class: 'card profile-item', 'data-id': profile.id, 'data-state': profile.state, 'data-email': user.email, 'aria-label': `Profile of ${user.displayName}` },
      h('h2', { class: 'who', text: user.displayName }),
      h('p', { class: 'muted', text: user.email }),
      h('p', {}, stateBadge(profile.state), h('small', { class: 'muted', text: ` · ${profileDates(profile)}` })),
      name ? h('p', { text: `Name on the profile: ${name}` }) : null,
      author ? h('p', { class: 'muted', text: `Filed by ${author.id === ctx.me.id ? 'you' : userLine(author)}` }) : null,
      h('div', { class: 'actions' }, h('button', { type: 'button', text: 'Open', 'aria-label': `Open the profile of ${user.displayName}`, onclick: () => openDetail(profile.id) })),
    );
  }

  /** Shows one profile; `after(notices)` runs once it is on screen (to say what happened). */
  async function openDetail(id, after) {
    let d;
    try {
      d = await admin.profile(id);
    } catch (err) {
      ctx.failed(err);
      msg.error(err);
      return;
    }
    const dmsg = notices();
    const { profile, user, author } = d;
    const heading = h('h2', { id: 'profile-detail-title', tabindex: '-1', text: `Profile of ${user.displayName}` });
    const labels = h('dd', { class: 'muted', text: 'loading…' });
    const actions = h('div', { class: 'actions' });
    const rejectBox = h('div', { class: 'reject', hidden: true });
    const mineToDecide = profile.userId === ctx.me.id || (author && author.id === ctx.me.id);

    async function decide(button, body) {
      await busy(button, async () => {
        dmsg.clear();
        try {
          const decided = await admin.decideProfile(profile.id, body);
          await openDetail(profile.id, (m) => m.ok(`${user.displayName}: profile ${decided.state}.`));
          restart();
        } catch (err) {
          ctx.failed(err);
          if (err instanceof ApiError && err.status === 403 && FOUR_EYES[err.code]) {
            replace(dmsg.el, fourEyesView(err));
          } else if (err instanceof ApiError && err.status === 409) {
            // `admin.profiles.conflict` carries the profile as it is now; the reloaded detail shows it in full.
            await openDetail(profile.id, (m, now) => {
              const state = (err.current && err.current.state) || now.state;
              const label = STATE_LABELS[state] || state;
              const text =
                state === 'verified' || state === 'rejected'
                  ? `Another reviewer decided first: this profile is now ${label}.`
                  : `This profile is no longer waiting for review: it is now ${label}.`;
              replace(m.el, h('p', { class: 'notice info conflict', role: 'status', 'data-state': state, text }), problemView(err));
            });
            restart();
          } else {
            dmsg.error(err);
          }
        }
      });
    }

    if (profile.state === 'submitted') {
      const verify = h('button', { type: 'button', text: 'Verify' });
      verify.addEventListener('click', () => decide(verify, { state: 'verified' }));
      const fields = rejectionFields({
        reasonLabel: 'Reason for rejecting',
        reasonHint: 'Shown to the user, and kept in the decision log.',
        reasonMax: 1024,
        retryLabel: PROFILE_RETRY.retry,
        finalLabel: PROFILE_RETRY.final,
      });
      const confirm = h('button', { type: 'submit', class: 'danger', text: 'Confirm reject' });
      rejectBox.append(
        h(
          'form',
          {
            onsubmit: (e) => {
              e.preventDefault();
              decide(confirm, { state: 'rejected', ...fields.values() });
            },
          },
          fields.el,
          h('div', { class: 'actions' }, confirm, h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => { rejectBox.hidden = true; } })),
        ),
      );
      const reject = h('button', {
        type: 'button',
        class: 'danger',
        text: 'Reject…',
        onclick: () => {
          rejectBox.hidden = false;
          fields.focus();
        },
      });
      actions.append(verify, reject);
    }
    const close = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Close',
      onclick: () => {
        detail.replaceChildren();
        stateSelect.focus();
      },
    });
    actions.append(close);

    const others = d.otherProfiles || [];
    const previous = others[0] || null;
    const byId = new Map([[profile.id, profile], ...others.map((p) => [p.id, p])]);
    const adminName = (adminId) => {
      if (!adminId) return 'a superuser who has since left';
      if (adminId === ctx.me.id) return 'you';
      if (author && author.id === adminId) return userLine(author);
      return `a superuser (user id ${adminId})`;
    };
    const decisions = (d.decisions || []).map((x) => {
      const which = x.profileId === profile.id ? 'this profile' : `the profile started ${when(byId.get(x.profileId)?.createdAt)}`;
      return h(
        'li',
        { class: `decision state-${x.decision}`, 'data-state': x.decision },
        stateBadge(x.decision),
        h('span', { text: ` ${which} · by ${adminName(x.adminId)} · ${when(x.at)}` }),
        x.reason ? h('p', { class: 'reason', text: `Reason: ${x.reason}` }) : null,
        x.retry ? h('p', { class: `retry-line ${x.retry}`, 'data-retry': x.retry, text: PROFILE_RETRY[x.retry] || x.retry }) : null,
        x.note ? h('p', { class: 'note', text: `Internal note: ${x.note}` }) : null,
      );
    });

    const section = h(
      'section',
      { class: 'panel profile-detail', 'data-id': profile.id, 'data-state': profile.state, 'aria-labelledby': 'profile-detail-title' },
      heading,
      dmsg.el,
      h('p', {}, stateBadge(profile.state), h('small', { class: 'muted', text: ` · ${profileDates(profile)}` })),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'E-mail' }),
        h('dd', { class: 'email' }, `${user.email} `, h('span', { class: user.emailVerified ? 'yes' : 'no', text: user.emailVerified ? '(verified)' : '(not verified)' })),
        h('dt', { text: 'Username' }), h('dd', { text: `@${user.username}` }),
        h('dt', { text: 'Filed by' }),
        h('dd', { class: 'author', text: author ? (author.id === ctx.me.id ? `you (${author.email})` : userLine(author)) : 'the user' }),
        h('dt', { text: 'Level' }), labels,
      ),
      mineToDecide && profile.state === 'submitted'
        ? h('p', { class: 'notice info', text: author && author.id === ctx.me.id ? 'You filed this profile: another superuser has to decide it.' : 'This is your own profile: another superuser has to decide it.' })
        : null,
      h(
        'div',
        { class: 'compare' },
        h(
          'div',
          { class: 'compare-current' },
          h('h3', { text: 'This profile' }),
          previous ? h('p', { class: 'muted small', text: 'Fields marked “different” changed since the previous profile.' }) : null,
          profileFacts(profile, previous),
        ),
        h(
          'div',
          { class: 'compare-others' },
          h('h3', { text: `Earlier profiles (${others.length})` }),
          others.length
            ? h(
                'ul',
                { class: 'other-profiles' },
                others.map((o) =>
                  h(
                    'li',
                    { 'data-state': o.state, 'data-id': o.id },
                    stateBadge(o.state),
                    h('small', { class: 'muted', text: ` · ${profileDates(o)}` }),
                    h('details', {}, h('summary', { text: 'Show details' }), profileFacts(o)),
                  ),
                ),
              )
            : h('p', { class: 'muted', text: 'None: this is the first profile of this user.' }),
        ),
      ),
      h('h3', { text: 'Past decisions' }),
      decisions.length ? h('ul', { class: 'decisions' }, decisions) : h('p', { class: 'muted', text: 'No decisions yet.' }),
      actions,
      rejectBox,
      h('small', { class: 'muted', text: `Profile id ${profile.id} · user id ${user.id}` }),
    );
    replace(detail, section);
    heading.focus();
    if (after) after(dmsg, profile);

    admin
      .userLabels(user.id)
      .then((l) => {
        const shown = l.labels.map((x) => `${x.key === 'email' ? 'e-mail' : x.key} ${x.value}`).join(', ');
        replace(labels, `Level ${l.level}${shown ? ` · ${shown}` : ''}`);
        labels.classList.remove('muted');
      })
      .catch((err) => {
        ctx.failed(err);
        replace(labels, problemView(err));
      });
  }

  // File a profile for a user.
  const fmsg = notices();
  const userSearch = h('input', { type: 'search', name: 'userQuery', autocomplete: 'off', placeholder: 'name, e-mail or username' });
  const found = h('ul', { class: 'user-choices', 'aria-label': 'Matching users' });
  const chosenLine = h('p', { class: 'chosen', text: 'No user chosen yet.' });
  const fileButton = h('button', { type: 'submit', text: 'File profile for review', disabled: true });
  let chosen = null;
  let fileForm = profileForm(null);
  const fileFields = h('div', {}, fileForm.el);
  let searchSeq = 0;

  async function searchUsers() {
    searchSeq += 1;
    const mine = searchSeq;
    const q = userSearch.value.trim();
    if (!q) {
      found.replaceChildren();
      return;
    }
    try {
      const page = await admin.searchUsers({ q, limit: 5 });
      if (mine !== searchSeq) return;
      replace(
        found,
        page.items.length
          ? page.items.map((u) =>
              h(
                'li',
                { 'data-email': u.email },
                h('span', { class: 'who', text: userLine(u) }),
                h('button', {
                  type: 'button',
                  class: 'secondary',
                  text: 'Choose',
                  'aria-label': `Choose ${u.displayName}`,
                  onclick: () => {
                    chosen = u;
                    chosenLine.textContent = `For: ${userLine(u)}`;
                    fileButton.disabled = false;
                    found.replaceChildren();
                    fileForm.focus();
                  },
                }),
              ),
            )
          : h('li', { class: 'muted', text: 'No users match.' }),
      );
    } catch (err) {
      ctx.failed(err);
      fmsg.error(err);
    }
  }
  userSearch.addEventListener('input', debounce(searchUsers, 300));

  const filePanel = h(
    'section',
    { class: 'panel file-profile', 'aria-labelledby': 'file-profile-title' },
    h('h2', { id: 'file-profile-title', text: 'File a profile for a user' }),
    h('p', {
      class: 'muted',
      text: 'For a user who cannot file their own. It goes straight into the review queue, and another superuser has to decide it (four eyes).',
    }),
    fmsg.el,
    h('form', { role: 'search', onsubmit: (e) => { e.preventDefault(); searchUsers(); } }, field('Find the user', userSearch)),
    found,
    h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          if (!chosen) return;
          await busy(fileButton, async () => {
            fmsg.clear();
            fileForm.clearErrors();
            try {
              await admin.fileProfile({ userId: chosen.id, ...fileForm.values() });
              fmsg.ok(`Filed a profile for ${chosen.displayName}. It waits for another superuser's decision.`);
              chosen = null;
              chosenLine.textContent = 'No user chosen yet.';
              userSearch.value = '';
              fileForm = profileForm(null);
              replace(fileFields, fileForm.el);
              restart();
            } catch (err) {
              ctx.failed(err);
              fileForm.showErrors(err);
              fmsg.error(err);
            }
          });
          fileButton.disabled = !chosen; // busy() re-enabled it; a filed profile needs a new choice
        },
      },
      chosenLine,
      fileFields,
      h('div', { class: 'actions' }, fileButton),
    ),
  );

  stateSelect.addEventListener('change', restart);
  refresh.addEventListener('click', restart);

  replace(
    root,
    h('h1', { id: 'profiles-title', text: title }),
    msg.el,
    detail,
    h(
      'section',
      { class: 'panel queue', 'aria-labelledby': 'queue-title' },
      h('h2', { id: 'queue-title', text: 'Queue' }),
      h('div', { class: 'toolbar' }, field('Show', stateSelect), refresh),
      list,
      pager.el,
    ),
    filePanel,
  );
  await loadQueue();
}
