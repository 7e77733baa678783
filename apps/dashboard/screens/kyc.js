// My KYC profile: draft, edit, submit or withdraw the profile a superuser
// reviews (seed 001), and the list of past profiles with their outcome: the
// decision's reason and whether the user may try again, as the API says. A
// user has at most one open (drafted or submitted) profile; once it is
// decided they may start a new one, unless the rejection was final.

import { ApiError } from '../api/client.js';
import * as profiles from '../api/profiles.js';
import { h, replace, notices, when, busy, confirmButton } from '../dom.js';
import { profileForm, profileFacts, profileDates, stateBadge } from './profile-form.js';

export const title = 'My KYC profile';

const OUTCOME = {
  verified: 'A reviewer verified this profile.',
  rejected: 'A reviewer rejected this profile.',
  withdrawn: 'You withdrew this draft; it was never sent to a reviewer.',
};
/** A rejection's `retry`, for the user. */
const RETRY = {
  retry: 'You may send a new profile with corrected details.',
  final: 'This decision is final: you cannot send a new profile.',
};

/** The reason of a decision and whether the user may try again. */
function decisionLines(d) {
  if (!d) return null;
  return [
    d.reason ? h('p', { class: 'reason', text: `Reason: ${d.reason}` }) : null,
    d.decision === 'rejected' && d.retry ? h('p', { class: `retry-line ${d.retry}`, 'data-retry': d.retry, text: RETRY[d.retry] || d.retry }) : null,
  ];
}

/** The profile whose decision came last (null when none was decided). */
function lastDecidedOf(list) {
  let last = null;
  for (const p of list) {
    if (p.decision && (!last || new Date(p.decision.at) > new Date(last.decision.at))) last = p;
  }
  return last;
}

function pastItem(p) {
  return h(
    'li',
    { class: `kyc-past state-${p.state}`, 'data-state': p.state, 'data-id': p.id },
    h('div', { class: 'kyc-past-head' }, stateBadge(p.state), h('small', { class: 'muted', text: ` · ${profileDates(p)}` })),
    OUTCOME[p.state] ? h('p', { class: 'outcome', text: OUTCOME[p.state] }) : null,
    decisionLines(p.decision),
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
    const mine = await profiles.mine();
    const open = mine.find((p) => p.state === 'drafted' || p.state === 'submitted') || null;
    const past = mine.filter((p) => p !== open);
    const lastDecided = lastDecidedOf(past);
    replace(history, past.length ? past.map(pastItem) : h('li', { class: 'muted', text: 'No decided profiles yet.' }));
    if (open && open.state === 'submitted') showSubmitted(open);
    else if (!open && lastDecided && lastDecided.decision.decision === 'rejected' && lastDecided.decision.retry === 'final') showFinal(lastDecided);
    else showForm(open, lastDecided);
  }

  /** After a final rejection: no form, the reason, and who can still help. */
  function showFinal(p) {
    replace(
      current,
      h(
        'section',
        { class: 'panel kyc-current kyc-final', 'data-state': 'rejected-final', 'aria-labelledby': 'kyc-current-title' },
        h('h2', { id: 'kyc-current-title', text: 'No new profile' }),
        h('p', { class: 'outcome', text: `Your last profile was rejected ${when(p.decision.at)}, and the decision is final: you cannot send a new profile.` }),
        p.decision.reason ? h('p', { class: 'reason', text: `Reason: ${p.decision.reason}` }) : null,
        h('p', { class: 'muted', text: 'If you think this is a mistake, contact an administrator: a reviewer can still file a profile for you.' }),
      ),
    );
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
    else if (lastDecided) {
      const why = lastDecided.decision && lastDecided.decision.reason ? ` Reason: ${lastDecided.decision.reason}` : '';
      intro = `Your last profile was rejected ${when(lastDecided.updatedAt)}.${why} Correct your details and send a new one.`;
    }
    else intro = 'Fill in what you can. Every field is optional while it is a draft.';

    async function send(button, confirm) {
      await busy(button, async () => {
        msg.clear();
        form.clearErrors();
        try {
          if (draft) {
            await profiles.update({ ...form.changes(), ...(confirm ? { confirm: true } : {}) });
          } else {
            await profiles.create({ ...form.values(), ...(confirm ? { confirm: true } : {}) });
          }
          await load();
          msg.ok(confirm ? 'Your profile was sent for review.' : 'Draft saved.');
        } catch (err) {
          ctx.failed(err);
          form.showErrors(err);
          // Another tab created or submitted a profile meanwhile, or a reviewer's final
          // rejection (403 resource.profile.rejected_final) came in: show what is there now.
          const stale = err instanceof ApiError && (err.status === 404 || err.status === 409 || (err.status === 403 && err.code === 'resource.profile.rejected_final'));
          if (stale) await load().catch(() => {});
          msg.error(err);
        }
      });
    }

    const withdraw = draft
      ? confirmButton({
          text: 'Withdraw draft…',
          question: 'Withdraw this draft? It is never sent to a reviewer and stays in your past profiles as “Withdrawn”. You can start a new profile afterwards.',
          confirmText: 'Withdraw draft',
          action: async () => {
            msg.clear();
            try {
              await profiles.withdraw();
              await load();
              msg.ok('Your draft was withdrawn.');
            } catch (err) {
              ctx.failed(err);
              // No draft any more (submitted or withdrawn in another tab): show what is there now.
              if (err instanceof ApiError && err.status === 404) await load().catch(() => {});
              msg.error(err);
            }
          },
        })
      : null;

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
      h('div', { class: 'actions' }, saveButton, submitButton, withdraw ? withdraw.button : null),
      withdraw ? withdraw.box : null,
      draft ? h('small', { class: 'muted', text: `Profile id ${draft.id}` }) : null,
    );
    replace(current, el);
  }

  await load();
}
