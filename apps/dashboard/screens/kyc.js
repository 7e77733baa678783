// My KYC profile: draft, edit and submit the profile a superuser reviews
// (seed 001), and the list of past profiles with their outcome. A user has
// at most one open (drafted or submitted) profile; once it is decided they
// may start a new one.

import { api, ApiError } from '../api.js';
import { h, replace, notices, when, busy } from '../dom.js';
import { profileForm, profileFacts, profileDates, stateBadge } from './profile-form.js';

export const title = 'My KYC profile';

const OUTCOME = {
  verified: 'A reviewer verified this profile.',
  rejected: 'A reviewer rejected this profile. You can send a new one with corrected details.',
};

function pastItem(p) {
  return h(
    'li',
    { class: `kyc-past state-${p.state}`, 'data-state': p.state, 'data-id': p.id },
    h('div', { class: 'kyc-past-head' }, stateBadge(p.state), h('small', { class: 'muted', text: ` · ${profileDates(p)}` })),
    OUTCOME[p.state] ? h('p', { class: 'outcome', text: OUTCOME[p.state] }) : null,
    p.author ? h('p', { class: 'muted', text: 'A reviewer filed this profile for you.' }) : null,
    h('details', {}, h('summary', { text: p.author ? 'Details' : 'Details you sent' }), profileFacts(p)),
  );
}

export async function render(root, ctx) {
  const msg = notices();
  const current = h('div', {});
  const history = h('ul', { class: 'kyc-history', 'aria-label': 'Your past profiles' });

  replace(
    root,
    h('h1', { id: 'kyc-title', text: title }),
    h('p', {
      class: 'muted intro',
      text: 'Your identity details, checked by a reviewer. Save a draft as often as you like; once you send it for review it cannot be changed until it is decided.',
    }),
    msg.el,
    current,
    h('section', { class: 'panel', 'aria-labelledby': 'kyc-history-title' }, h('h2', { id: 'kyc-history-title', text: 'Past profiles' }), history),
  );

  async function load() {
    const profiles = await api.get('/resource/profiles/me');
    const open = profiles.find((p) => p.state === 'drafted' || p.state === 'submitted') || null;
    const past = profiles.filter((p) => p !== open);
    replace(history, past.length ? past.map(pastItem) : h('li', { class: 'muted', text: 'No decided profiles yet.' }));
    if (open && open.state === 'submitted') showSubmitted(open);
    else showForm(open, past[0] || null);
  }

  async function reload() {
    try {
      await load();
    } catch (err) {
      ctx.failed(err);
      msg.error(err);
    }
  }

  function showSubmitted(p) {
    replace(
      current,
      h(
        'section',
        { class: 'panel kyc-current', 'data-state': p.state, 'aria-labelledby': 'kyc-current-title' },
        h('h2', { id: 'kyc-current-title' }, 'Your profile: ', stateBadge(p.state)),
        h('p', { class: 'waiting', text: `Sent for review ${when(p.updatedAt)}. A reviewer will verify or reject it; you cannot change it meanwhile.` }),
        profileFacts(p),
        h('small', { class: 'muted', text: `Profile id ${p.id}` }),
      ),
    );
  }

  /** The form: edits the open draft, or starts a new profile when there is none. */
  function showForm(draft, lastDecided) {
    const form = profileForm(draft);
    const saveButton = h('button', { type: 'submit', name: 'action', value: 'save', class: 'secondary', text: 'Save draft' });
    const submitButton = h('button', { type: 'submit', name: 'action', value: 'submit', text: 'Submit for review' });
    let intro;
    if (draft) intro = `Draft started ${when(draft.createdAt)}, last saved ${when(draft.updatedAt)}. Nothing is sent to a reviewer until you submit it.`;
    else if (lastDecided && lastDecided.state === 'verified')
      intro = `Your last profile was verified ${when(lastDecided.updatedAt)}. Start a new one only if your details changed.`;
    else if (lastDecided) intro = `Your last profile was rejected ${when(lastDecided.updatedAt)}. Correct your details and send a new one.`;
    else intro = 'Fill in what you can. Every field is optional while it is a draft.';

    async function send(button, confirm) {
      await busy(button, async () => {
        msg.clear();
        form.clearErrors();
        try {
          if (draft) {
            await api.put('/resource/profiles', { ...form.changes(), ...(confirm ? { confirm: true } : {}) });
          } else {
            await api.post('/resource/profiles', { ...form.values(), ...(confirm ? { confirm: true } : {}) });
          }
          await load();
          msg.ok(confirm ? 'Your profile was sent for review.' : 'Draft saved.');
        } catch (err) {
          ctx.failed(err);
          form.showErrors(err);
          msg.error(err);
          // Another tab created or submitted a profile meanwhile: show what is there now.
          if (err instanceof ApiError && (err.status === 404 || err.status === 409)) await load().catch(() => {});
        }
      });
    }

    const el = h(
      'form',
      {
        class: 'panel kyc-current kyc-form',
        'data-state': draft ? 'drafted' : 'none',
        'aria-labelledby': 'kyc-current-title',
        onsubmit: (e) => {
          e.preventDefault();
          const confirm = e.submitter === submitButton;
          send(confirm ? submitButton : saveButton, confirm);
        },
      },
      h('h2', { id: 'kyc-current-title' }, draft ? ['Your profile: ', stateBadge('drafted')] : lastDecided ? 'Start a new profile' : 'Your profile'),
      h('p', { class: 'muted', text: intro }),
      form.el,
      h('div', { class: 'actions' }, saveButton, submitButton),
      draft ? h('small', { class: 'muted', text: `Profile id ${draft.id}` }) : null,
    );
    replace(current, el);
  }

  await load();
}
