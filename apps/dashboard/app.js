// The dashboard shell: takes the token from `#token=` once, loads the
// signed-in user, and routes `#/<screen>` to one ES module per screen.
// A screen module exports `title`, optional `superuser: true`, and
// `render(root, ctx)`; add new screens to SCREENS.

import { api, session, ApiError } from './api.js';
import { h, replace, problemView } from './dom.js';
import * as signin from './screens/signin.js';
import * as me from './screens/me.js';
import * as kyc from './screens/kyc.js';
import * as photos from './screens/photos.js';
import * as users from './screens/users.js';
import * as profiles from './screens/profiles.js';
import * as orgs from './screens/orgs.js';
import * as orgAdmin from './screens/org-admin.js';
import * as invite from './screens/invite.js';

const SCREENS = { me, orgs, org: orgAdmin, kyc, photos, profiles, users };
const DEFAULT_SCREEN = 'me';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const sessionBox = document.getElementById('session');
const whoami = document.getElementById('whoami');

const ctx = {
  me: null,
  isSuperuser: false,
  /** Replaces the cached user (after an update) and refreshes the header. */
  setMe(user) {
    ctx.me = user;
    whoami.textContent = user.displayName;
  },
  /** Forgets the session and shows the sign-in screen, with an optional error. */
  signOut(err) {
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
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    showSignin(err);
  },
  /** Handles a failure of any screen: an expired token signs out, anything else is shown. */
  failed(err) {
    if (err instanceof ApiError && err.status === 401) ctx.signOut(err);
    return err;
  },
};

const onInvitePage = location.pathname.replace(/\/+$/, '').endsWith('/invite');

/** `#token=…` signs in once; the token then leaves the address bar and the history. */
function captureToken() {
  if (onInvitePage) return false; // there `#token=` is an invitation token, not a session
  const match = location.hash.match(/^#token=([^&]+)/);
  if (!match) return false;
  session.set(decodeURIComponent(match[1]));
  history.replaceState(null, '', `${location.pathname}${location.search}#/${DEFAULT_SCREEN}`);
  return true;
}

function showSignin(err) {
  replace(main, signin.render({ error: err, onToken: (token) => { session.set(token); start(); } }));
  document.title = 'Sign in · Usher';
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
  ctx.setMe(await api.post('/user/get', {}));
  // The User contract does not say who is a superuser; the admin search does.
  try {
    await api.get('/admin/users', { limit: 1 });
    ctx.isSuperuser = true;
  } catch {
    ctx.isSuperuser = false;
  }
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
    if (err instanceof ApiError && err.status === 401) ctx.signOut(err);
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
  // A new token link opened in this tab replaces the session.
  if (captureToken()) ctx.me = null;
  if (session.token && !ctx.me) start();
  else route();
});
captureToken();
start();
