// The invitation landing page, `/dashboard/invite`:
// - `#token=…` (the link and QR code an organization hands out): a preview
//   without signing in, then Accept / Decline once signed in. The token stays
//   in the fragment and in request bodies only: never stored, never in a query.
// - `?invitation={id}` (the link in an invitation e-mail): sign in with the
//   invited address, then find it among my pending invitations (paging
//   through them) and answer.
// Signing in at the identity provider comes back to this page with the
// invitation (the sign-in keeps the whole address in sessionStorage; the
// provider sees none of it). Signed in with an account the invitation is
// not for, the page names the address it is for (masked, as the API gives
// it) and offers to sign in with another account.

import { ApiError } from '../api/client.js';
import * as invitations from '../api/invitations.js';
import { h, replace, notices, problemView, when, busy } from '../dom.js';
import * as signin from './signin.js';
import { logo, roleLabel, UNUSABLE, acceptProblem } from './org-shared.js';

export const title = 'Invitation';

function tokenFromHash() {
  const m = location.hash.match(/^#token=([^&]+)/);
  return m ? decodeURIComponent(m[1]).trim() : null;
}

function idFromQuery() {
  const id = new URLSearchParams(location.search).get('invitation');
  return id && /^[0-9a-fA-F-]{36}$/.test(id) ? id.toLowerCase() : null;
}

/** "Sign in with another account": back to the provider's login form, then to this page. */
function switchButton(ctx) {
  const button = h('button', { type: 'button', class: 'switch-account', text: 'Sign in with another account' });
  button.addEventListener('click', () => busy(button, () => ctx.switchAccount()));
  return h('div', { class: 'actions' }, button);
}

/**
 * The signed-in account is not the one the invitation is for: which
 * address it is for (`hint`, masked) and who is signed in, and the way to
 * switch.
 */
function notForThisAccount(ctx, hint) {
  return [
    h(
      'div',
      { class: 'notice error unusable', role: 'alert', 'data-reason': 'email_mismatch' },
      h('strong', { class: 'title', text: `This invitation is for ${hint}` }),
      h('p', {
        class: 'detail',
        text: `You are signed in as ${ctx.me.email}. Sign in with the account whose e-mail address is ${hint} to answer it.`,
      }),
    ),
    switchButton(ctx),
  ];
}

/** An accept/decline failure in plain words, with the service's own title and detail below. */
function refusal(err) {
  const words = acceptProblem(err);
  if (!words) return problemView(err);
  return h(
    'div',
    { class: 'notice error refusal', role: 'alert' },
    h('strong', { class: 'title', text: words[0] }),
    h('p', { class: 'detail', text: words[1] }),
    h('small', { class: 'muted', text: `${err.title}${err.detail ? `: ${err.detail}` : ''}${err.requestId ? ` · request id ${err.requestId}` : ''}` }),
  );
}

/**
 * Accept and Decline for one invitation, named by `which` (`{token}` from
 * the link, or `{invitationId}` from an e-mail), and the area their outcome
 * goes to: `[actions, outcome]`.
 */
function answerButtons(ctx, orgName, role, which, emailHint) {
  const outcome = h('div', { 'aria-live': 'polite' });
  const accept = h('button', { type: 'button', text: `Accept and join ${orgName}` });
  const decline = h('button', { type: 'button', class: 'secondary', text: 'Decline' });
  const actions = h('div', { class: 'actions' }, accept, decline);
  const answer = (button, send, done) =>
    busy(button, async () => {
      try {
        await send();
        actions.hidden = true;
        replace(outcome, done());
      } catch (err) {
        ctx.failed(err);
        if (err instanceof ApiError && err.code === 'invitation.open_link') {
          // An open link is addressed to nobody in particular: there is nothing to decline.
          replace(
            outcome,
            h('p', { class: 'notice info', role: 'status', text: 'This link is not addressed to you personally, so there is nothing to decline: simply do not accept it. You can close this page.' }),
          );
        } else if (err instanceof ApiError && err.code === 'invitation.email_mismatch' && emailHint && ctx.me) {
          actions.hidden = true;
          replace(outcome, ...notForThisAccount(ctx, emailHint));
        } else {
          replace(outcome, refusal(err));
        }
      }
    });
  accept.addEventListener('click', () =>
    answer(accept, async () => ctx.setMe(await invitations.accept(which)), () => joined(orgName, role)),
  );
  decline.addEventListener('click', () =>
    answer(
      decline,
      () => invitations.reject(which),
      () => h('p', { class: 'notice ok', role: 'status', text: `You declined the invitation to ${orgName}.` }),
    ),
  );
  return [actions, outcome];
}

function previewCard(p) {
  return h(
    'article',
    { class: 'card org-card invite-preview', 'aria-label': `Invitation to ${p.organization.name}` },
    logo(p.organization, 'large'),
    h(
      'div',
      { class: 'org-body' },
      h('h2', { class: 'org-name', text: p.organization.name }),
      h('p', { text: `${p.invitedBy} invited you to join ${p.organization.name}.` }),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'Role' }), h('dd', { class: 'role', text: roleLabel(p.role) }),
        h('dt', { text: 'Where' }), h('dd', { text: p.zone ? `Zone ${p.zone.name}` : 'The whole organization' }),
        h('dt', { text: 'Valid until' }), h('dd', { text: when(p.expiresAt) }),
        p.kind === 'external' ? [h('dt', { text: 'For' }), h('dd', { text: 'People who are not members yet' })] : null,
        p.emailHint ? [h('dt', { text: 'Sent to' }), h('dd', { class: 'email-hint', text: p.emailHint })] : null,
      ),
    ),
  );
}

/** How far the e-mail link looks among my pending invitations: pages of this many, at most this many pages. */
const MINE_PAGE = 100;
const MINE_PAGES = 10;

/**
 * The pending invitation `id` among mine (`invitations.mine`, newest
 * first), paging on until it turns up or the list ends; null when it is not
 * there (or beyond the first MINE_PAGES × MINE_PAGE).
 */
async function findMine(id) {
  let cursor;
  for (let page = 0; page < MINE_PAGES; page += 1) {
    const { invitations: mine, nextCursor } = await invitations.mine({ limit: MINE_PAGE, cursor });
    const found = mine.find((x) => x.invitation.id === id);
    if (found) return found;
    if (!nextCursor) return null;
    cursor = nextCursor;
  }
  return null;
}

/** After joining: where to go next. */
function joined(orgName, role) {
  return h(
    'div',
    { class: 'notice ok joined', role: 'status' },
    h('strong', { class: 'title', text: `You joined ${orgName}${role ? ` as ${roleLabel(role).toLowerCase()}` : ''}.` }),
    h('p', {}, h('a', { href: './#/orgs', text: 'Go to My organizations' })),
  );
}

export async function render(root, ctx) {
  const token = tokenFromHash();
  const invitationId = token ? null : idFromQuery();
  const msg = notices();
  const body = h('div', {});
  replace(
    root,
    h('section', { class: 'screen narrow', 'aria-labelledby': 'invite-title' }, h('h1', { id: 'invite-title', text: title }), msg.el, body),
  );
  if (ctx.signInError) msg.error(ctx.signInError);

  /** The sign-in form, on this page; after signing in the landing renders again (the token stays in the fragment). */
  function signinPanel(why) {
    const form = signin.render({
      config: ctx.signInConfig,
      onProvider: () => ctx.beginSignIn(),
      onToken: async (bearer) => {
        try {
          await ctx.signIn(bearer);
        } catch (err) {
          msg.error(err);
          return;
        }
        await render(root, ctx);
      },
    });
    // Nested under the invitation: its heading becomes a level-2 heading.
    const heading = form.querySelector('h1');
    if (heading) heading.replaceWith(h('h2', { id: heading.id, text: why }));
    form.classList.remove('screen', 'narrow');
    form.classList.add('panel', 'invite-signin');
    return form;
  }

  function signedInLine() {
    return h('p', { class: 'muted signed-in-as', text: `Signed in as ${ctx.me.displayName} (${ctx.me.email}).` });
  }

  if (!token && !invitationId) {
    body.append(
      problemView({
        title: 'This invitation link is incomplete',
        detail: 'It carries no invitation. Open the whole link you were sent, or scan the QR code again.',
      }),
      h('p', {}, h('a', { href: './', text: 'Go to the dashboard' })),
    );
    return;
  }

  if (token) {
    let preview;
    try {
      preview = await invitations.preview(token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        body.append(refusal(err), h('p', {}, h('a', { href: './', text: 'Go to the dashboard' })));
      } else {
        body.append(problemView(err));
      }
      return;
    }
    body.append(previewCard(preview));
    if (preview.reason || preview.status !== 'pending') {
      const [t, d] = UNUSABLE[preview.reason] || UNUSABLE[preview.status] || ['This invitation cannot be used', `Its status is ${preview.status}.`];
      body.append(h('div', { class: 'notice error unusable', role: 'alert', 'data-reason': preview.reason || preview.status }, h('strong', { class: 'title', text: t }), h('p', { class: 'detail', text: d })));
      return;
    }
    if (!ctx.me) {
      body.append(h('p', { text: 'To accept, sign in first. This page keeps the invitation while you do.' }), signinPanel('Sign in to accept'));
      return;
    }
    body.append(signedInLine(), ...answerButtons(ctx, preview.organization.name, preview.role, { token }, preview.emailHint));
    return;
  }

  // `?invitation={id}`: the e-mail link.
  if (!ctx.me) {
    body.append(
      h('p', { text: 'You were invited to join an organization. Sign in with the e-mail address the invitation was sent to, to see it and answer.' }),
      signinPanel('Sign in to see your invitation'),
    );
    return;
  }
  let found;
  try {
    found = await findMine(invitationId);
  } catch (err) {
    ctx.failed(err);
    body.append(problemView(err));
    return;
  }
  if (!found) {
    let hint = null;
    try {
      hint = (await invitations.recipient(invitationId)).emailHint;
    } catch (err) {
      // 404: no pending invitation bound to an address has this id; the words below cover it.
      if (!(err instanceof ApiError && err.status === 404)) {
        ctx.failed(err);
        body.append(problemView(err));
        return;
      }
    }
    if (hint) {
      body.append(...notForThisAccount(ctx, hint));
      return;
    }
    body.append(
      h(
        'div',
        { class: 'notice error unusable', role: 'alert', 'data-reason': 'not_mine' },
        h('strong', { class: 'title', text: 'This invitation is not waiting for you' }),
        h('p', {
          class: 'detail',
          text: `You are signed in as ${ctx.me.email}. The invitation may have been sent to another e-mail address, or it was already answered, withdrawn or has expired.`,
        }),
      ),
      h('p', {}, h('a', { href: './#/orgs', text: 'Go to My organizations' })),
    );
    return;
  }
  const { invitation: inv, organization: org } = found;
  body.append(
    h(
      'article',
      { class: 'card org-card invite-preview', 'aria-label': `Invitation to ${org.name}` },
      logo(org, 'large'),
      h(
        'div',
        { class: 'org-body' },
        h('h2', { class: 'org-name', text: org.name }),
        h('p', { text: `You are invited to join ${org.name}.` }),
        h(
          'dl',
          { class: 'facts' },
          h('dt', { text: 'Role' }), h('dd', { class: 'role', text: roleLabel(inv.role) }),
          h('dt', { text: 'Where' }), h('dd', { text: inv.zoneId ? 'One zone of the organization' : 'The whole organization' }),
          h('dt', { text: 'Valid until' }), h('dd', { text: when(inv.expiresAt) }),
        ),
      ),
    ),
    signedInLine(),
  );
  body.append(...answerButtons(ctx, org.name, inv.role, { invitationId: inv.id }));
}
