// The dashboard shell: reads how people sign in (`/dashboard/config.json`),
// finishes a sign-in at the identity provider when the page is its
// redirect, takes the token from `#token=` once in development mode (asking
// first when it would replace another account's session), loads the
// signed-in user, and routes `#/<screen>` to one ES module per screen.
// A screen module exports `title`, optional `superuser: true`, and
// `render(root, ctx)`; add new screens to SCREENS.
//
// Layout: `screens/` holds the screens (one module per section of the UI,
// named after its route; a large screen keeps its sections in a directory of
// its own, as `screens/org-admin/`), `dom.js` the shared UI helpers, and
// `api/` the one resource client: `api/client.js` (bearer token, problem+json
// → ApiError) and one module per resource. Every endpoint path is in `api/`;
// screens call functions such as `organizations.get(id)`.

import { session, ApiError } from './api/client.js';
import * as users from './api/users.js';
import { h, replace, problemView, busy } from './dom.js';
import * as oidc from './oidc.js';
import * as signin from './screens/signin.js';
import * as me from './screens/me.js';
import * as kyc from './screens/kyc.js';
import * as photos from './screens/photos.js';
import * as usersScreen from './screens/users.js';
import * as profiles from './screens/profiles.js';
import * as orgs from './screens/orgs.js';
import * as orgAdmin from './screens/org-admin.js';
import * as invite from './screens/invite.js';

const SCREENS = { me, orgs, org: orgAdmin, kyc, photos, profiles, users: usersScreen };
const DEFAULT_SCREEN = 'me';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const sessionBox = document.getElementById('session');
const whoami = document.getElementById('whoami');

const ctx = {
  me: null,
  isSuperuser: false,
  /** How people sign in: `/dashboard/config.json` (`{signIn: 'development' | 'oidc' | 'unavailable', …}`). */
  signInConfig: { signIn: 'development' },
  /** Replaces the cached user (after an update) and refreshes the header. */
  setMe(user) {
    ctx.me = user;
    whoami.textContent = user.displayName;
  },
  /**
   * Signs out: forgets the session and, when the provider offers it, ends
   * the provider's session too (it sends the browser back to the sign-in).
   */
  signOut() {
    session.clear();
    if (ctx.signInConfig.signIn === 'oidc' && oidc.endProviderSession(ctx.signInConfig)) return;
    ctx.forget();
  },
  /** Forgets the session and shows the sign-in screen (or the landing), with an optional error. */
  forget(err) {
    session.clear();
    ctx.me = null;
    ctx.isSuperuser = false;
    nav.hidden = true;
    sessionBox.hidden = true;
    if (onInvitePage) {
      // The invitation stays in the fragment: the landing shows it again, signed out.
      showInviteLanding(err);
      return;
    }
    // The screen's route stays, so that signing in comes back to it.
    const route = location.hash.startsWith('#/') ? location.hash : '';
    history.replaceState(null, '', `${location.pathname}${location.search}${route}`);
    showSignin(err);
  },
  /**
   * Handles a failure of any screen: a token the service no longer takes
   * ends the session (the page stays, with a "sign in again" over it);
   * anything else the screen shows.
   */
  failed(err) {
    if (err instanceof ApiError && err.status === 401) {
      sessionEnded(err);
      // Shown once, in the notice over the page: the screen's own box stays quiet.
      err.shownAsSessionEnd = true;
    }
    return err;
  },
  /** Starts a sign-in at the provider that comes back to this very page. */
  beginSignIn(options) {
    return oidc.begin(ctx.signInConfig, here(), options);
  },
  /**
   * "Sign in with another account": forgets this session and, with a
   * provider, asks it for its login form even when it has a session; in
   * development mode shows the sign-in again.
   */
  switchAccount() {
    session.clear();
    ctx.me = null;
    if (ctx.signInConfig.signIn === 'oidc') return ctx.beginSignIn({ prompt: 'login' });
    ctx.forget();
    return Promise.resolve();
  },
};

/** Where the page is now: what a sign-in comes back to. */
function here() {
  return `${location.pathname}${location.search}${location.hash}`;
}

const onInvitePage = location.pathname.replace(/\/+$/, '').endsWith('/invite');

/**
 * The token of a `#token=…` link, or null. Whatever happens next, the token
 * leaves the address bar and the history entry at once.
 */
function takeLinkToken() {
  if (onInvitePage) return null; // there `#token=` is an invitation token, not a session
  const match = location.hash.match(/^#token=([^&]+)/);
  if (!match) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/${DEFAULT_SCREEN}`);
  let token;
  try {
    token = decodeURIComponent(match[1]).trim();
  } catch {
    token = match[1].trim(); // a malformed escape: the API will say the token is not valid
  }
  return token || null;
}

/** "Ada Lovelace (ada@example.com)": how the swap confirmation names an account. */
function identity(user) {
  return `${user.displayName} (${user.email})`;
}

/**
 * A `#token=…` link was opened. Without a session (or with one the service
 * no longer accepts) it signs in, as it always did. With the same token, or
 * another token of the same user, it is the same identity: the session just
 * takes the newer token. A token of another user never replaces the session
 * silently: a link can carry anyone's token (an attacker's, so that the
 * victim files KYC data into the attacker's account), so the page names both
 * accounts and switches only when asked to.
 */
async function arriveWithLink(linkToken) {
  const current = session.token;
  if (!current || current === linkToken) {
    session.set(linkToken);
    start();
    return;
  }
  replace(main, h('p', { class: 'muted', role: 'status', text: 'Checking the sign-in link…' }));
  document.title = 'Sign-in link · Usher';
  const [mine, theirs] = await Promise.allSettled([users.whoIs(current), users.whoIs(linkToken)]);
  const refused = (result) => result.reason instanceof ApiError && [401, 403].includes(result.reason.status);
  if (mine.status === 'rejected' && refused(mine)) {
    // The service no longer takes the session's token: there is no signed-in account to protect.
    ctx.me = null;
    session.set(linkToken);
    start();
    return;
  }
  if (theirs.status === 'rejected') {
    const why = refused(theirs)
      ? "The link's token is not valid: it may have expired or been revoked."
      : 'The sign-in link could not be checked.';
    linkNotUsed(mine.status === 'fulfilled' ? mine.value : null, theirs.reason, why);
    return;
  }
  if (mine.status === 'rejected') {
    linkNotUsed(null, mine.reason, 'The account signed in in this tab could not be loaded, so the link was not used.');
    return;
  }
  if (mine.value.id === theirs.value.id) {
    session.set(linkToken);
    start();
    return;
  }
  confirmSwap(mine.value, theirs.value, linkToken);
}

/** Asks before replacing the session with another account's token. */
function confirmSwap(me, other, linkToken) {
  const keep = h('button', { type: 'button', text: `Keep my session as ${me.email}` });
  const swap = h('button', { type: 'button', class: 'secondary', text: `Switch to ${other.email}` });
  keep.addEventListener('click', () => {
    // The link's token is dropped: never stored, and already gone from the address bar.
    start();
  });
  swap.addEventListener('click', () =>
    busy(swap, async () => {
      session.set(linkToken);
      ctx.me = null;
      await start();
    }),
  );
  const dialog = h(
    'section',
    { class: 'screen narrow', role: 'alertdialog', 'aria-labelledby': 'swap-title', 'aria-describedby': 'swap-detail' },
    h('h1', { id: 'swap-title', text: 'Switch accounts?' }),
    h(
      'div',
      { class: 'confirm', id: 'swap-detail' },
      h('p', { text: 'The link you opened belongs to a different account from the one signed in in this tab.' }),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { text: 'Signed in now' }),
        h('dd', { class: 'swap-current', text: identity(me) }),
        h('dt', { text: 'The link signs in as' }),
        h('dd', { class: 'swap-link', text: identity(other) }),
      ),
      h('p', {
        text:
          `Switch only if you meant to use ${other.email}: whatever you do after switching, such as filing your KYC ` +
          'profile, goes to that account. If you did not expect this link, keep your session.',
      }),
    ),
    h('div', { class: 'actions' }, keep, swap),
  );
  replace(main, dialog);
  document.title = 'Switch accounts? · Usher';
  keep.focus();
}

/** The link's token was refused or could not be checked: the session stays as it is. */
function linkNotUsed(me, err, why) {
  const who = me ? ` You are still signed in as ${identity(me)}.` : ' Your session stays as it is.';
  const next = h('button', { type: 'button', text: me ? `Continue as ${me.email}` : 'Continue' });
  next.addEventListener('click', () => start());
  const notice = h(
    'section',
    { class: 'screen narrow', role: 'alertdialog', 'aria-labelledby': 'link-title', 'aria-describedby': 'link-detail' },
    h('h1', { id: 'link-title', text: 'Sign-in link not used' }),
    h('p', { id: 'link-detail', text: why + who }),
    problemView(err),
    h('div', { class: 'actions' }, next),
  );
  replace(main, notice);
  document.title = 'Sign-in link not used · Usher';
  next.focus();
}

function showSignin(err) {
  replace(
    main,
    signin.render({
      error: err,
      config: ctx.signInConfig,
      onToken: (token) => {
        session.set(token);
        start();
      },
      onProvider: () => ctx.beginSignIn(),
    }),
  );
  document.title = 'Sign in · Usher';
}

/**
 * The service refused the session's token mid-use (it expired, or the
 * account was signed out elsewhere). The page stays as it was, under a
 * notice that says so: signing in again comes back to this screen (with a
 * provider, after the round trip; with a pasted token, in place, and the
 * screen is reloaded only when it is another account).
 */
function sessionEnded(err) {
  session.clear();
  if (document.getElementById('session-ended')) return;
  const who = ctx.me ? ctx.me.id : null;
  const box = h(
    'section',
    { id: 'session-ended', class: 'session-ended panel', role: 'alertdialog', 'aria-labelledby': 'session-ended-title', 'aria-describedby': 'session-ended-detail', tabindex: '-1' },
    h('h2', { id: 'session-ended-title', text: 'Your session has ended' }),
    h('p', {
      id: 'session-ended-detail',
      text: 'Sign in again to go on: you come back to this page. What you just tried was not done; do it again once signed in.',
    }),
    problemView(err),
    ...signin.controls({
      config: ctx.signInConfig,
      providerLabel: 'Sign in again',
      onProvider: () => ctx.beginSignIn(),
      onToken: async (token) => {
        session.set(token);
        try {
          await loadSession();
        } catch (e) {
          session.clear();
          box.querySelector('.notice.error')?.replaceWith(problemView(e));
          return;
        }
        box.remove();
        if (ctx.me.id !== who) start();
      },
    }),
  );
  main.prepend(box);
  box.focus();
}

function buildNav() {
  // From the invitation landing, the screens live at /dashboard/.
  const base = onInvitePage ? './' : '';
  const links = Object.entries(SCREENS)
    .filter(([, screen]) => !screen.superuser || ctx.isSuperuser)
    .map(([name, screen]) => h('a', { href: `${base}#/${name}`, 'data-screen': name, text: screen.title }));
  replace(nav, links);
  nav.hidden = false;
  sessionBox.hidden = false;
}

function currentScreen() {
  const name = (location.hash.match(/^#\/([a-z-]+)/) || [])[1] || DEFAULT_SCREEN;
  return SCREENS[name] ? name : DEFAULT_SCREEN;
}

let generation = 0;

async function route() {
  if (!ctx.me) return;
  const name = currentScreen();
  const screen = SCREENS[name];
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.screen === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${screen.title} · Usher`;
  const root = h('section', { class: 'screen', 'aria-labelledby': `${name}-title` });
  replace(main, root);
  if (screen.superuser && !ctx.isSuperuser) {
    root.append(
      h('h1', { id: `${name}-title`, text: screen.title }),
      problemView({ title: 'Superusers only', detail: 'This screen is for superusers.' }),
    );
    return;
  }
  generation += 1;
  const mine = generation;
  try {
    await screen.render(root, ctx);
  } catch (err) {
    if (mine !== generation) return;
    ctx.failed(err);
    if (ctx.me) root.append(problemView(err));
  }
  main.focus({ preventScroll: true });
}

/** Loads the signed-in user, whether they are a superuser, and the navigation. */
async function loadSession() {
  // The User contract does not say who is a superuser; the session does.
  const [me, current] = await Promise.all([users.me(), users.session()]);
  ctx.setMe(me);
  ctx.isSuperuser = current.platformRole === 'superuser';
  buildNav();
}

/** Signs in from a pasted token without leaving the page (the invitation landing). */
ctx.signIn = async (token) => {
  session.set(token);
  try {
    await loadSession();
  } catch (err) {
    session.clear();
    ctx.me = null;
    throw err;
  }
};

/** `/dashboard/invite#token=…` or `?invitation=…`: the landing, signed in or not. */
async function showInviteLanding(err) {
  document.title = 'Invitation · Usher';
  ctx.signInError = err || null;
  if (session.token && !ctx.me) {
    replace(main, h('p', { class: 'muted', text: 'Loading…' }));
    try {
      await loadSession();
    } catch (e) {
      // A stale token is dropped; either way the landing still previews and offers to sign in.
      if (e instanceof ApiError && e.status === 401) session.clear();
      ctx.me = null;
      ctx.signInError = e;
    }
  }
  try {
    await invite.render(main, ctx);
  } catch (e) {
    replace(main, problemView(e));
  }
}

async function start() {
  if (onInvitePage) {
    showInviteLanding();
    return;
  }
  if (!session.token) {
    showSignin();
    return;
  }
  replace(main, h('p', { class: 'muted', text: 'Signing in…' }));
  try {
    await loadSession();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) ctx.forget(err);
    else replace(main, problemView(err));
    return;
  }
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', `#/${DEFAULT_SCREEN}`);
  await route();
}

document.getElementById('signout').addEventListener('click', () => ctx.signOut());
// The skip link focuses the content without touching the hash (the router's).
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  // On the landing the fragment is the invitation: show the new one.
  if (onInvitePage) {
    showInviteLanding();
    return;
  }
  // A token link opened in this tab: signs in, or asks before replacing another account.
  const linkToken = takeLinkToken();
  if (linkToken) arriveWithLink(linkToken);
  else if (session.token && !ctx.me) start();
  else route();
});
/**
 * The page's first moments: how people sign in; the end of a sign-in at
 * the provider when this page is its redirect (then back to where the
 * sign-in started, the invitation landing included); otherwise a `#token=`
 * link or the session in this tab.
 */
async function boot() {
  try {
    ctx.signInConfig = await oidc.loadConfig();
  } catch (err) {
    // A session in this tab still works; only signing in needs the configuration.
    ctx.signInConfig = { signIn: 'unavailable', error: err };
  }
  if (ctx.signInConfig.signIn === 'oidc') {
    let done;
    try {
      done = await oidc.complete(ctx.signInConfig);
    } catch (err) {
      session.clear();
      showSignin({ title: 'Sign-in refused', detail: err.message });
      return;
    }
    if (done) {
      session.set(done.accessToken);
      const back = new URL(done.returnTo || location.pathname, location.origin);
      const target = back.origin === location.origin ? `${back.pathname}${back.search}${back.hash}` : location.pathname;
      if (back.origin === location.origin && back.pathname !== location.pathname) {
        location.replace(target); // the invitation landing is another page
        return;
      }
      history.replaceState(null, '', target);
      start();
      return;
    }
  }
  const openedWith = takeLinkToken();
  if (openedWith) arriveWithLink(openedWith);
  else start();
}

boot();
