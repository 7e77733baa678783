// Sign in, as `/dashboard/config.json` says: at the identity provider (the
// OIDC authorization code flow with PKCE, see oidc.js), or in development
// mode by pasting a bearer token or opening the link `usher token` prints.

import { h, field, problemView } from '../dom.js';

export const title = 'Sign in';

/** The provider's name for the button: its host. */
function providerName(config) {
  try {
    return new URL(config.issuer).host;
  } catch {
    return 'your identity provider';
  }
}

/** The paste-a-token form; `onToken` gets the trimmed token. */
export function tokenForm(onToken, hint = 'The token is kept in this browser tab only and forgotten when the tab closes.') {
  const input = h('textarea', { name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' });
  return h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (token) onToken(token);
      },
    },
    field('Access token', input, hint),
    h('button', { type: 'submit', text: 'Sign in' }),
  );
}

/**
 * What signs a person in under this configuration: the provider's button
 * (`onProvider`) with the token form folded away for developers, or the
 * development sign-in (`onToken`).
 */
export function controls({ config, onToken, onProvider, providerLabel }) {
  if (config && config.signIn === 'oidc') {
    const go = h('button', { type: 'button', class: 'provider-signin', text: providerLabel || `Sign in with ${providerName(config)}` });
    go.addEventListener('click', () => {
      go.disabled = true;
      onProvider().catch(() => {
        go.disabled = false;
      });
    });
    return [
      h('div', { class: 'actions' }, go),
      h('details', { class: 'token-signin' }, h('summary', { text: 'Use an access token instead' }), tokenForm(onToken)),
    ];
  }
  if (config && config.signIn === 'unavailable') {
    // The provider cannot be reached now (the problem is shown above): only a token can sign in.
    return [h('details', { class: 'token-signin' }, h('summary', { text: 'Use an access token instead' }), tokenForm(onToken))];
  }
  return [
    h(
      'p',
      { class: 'notice info dev-mode', role: 'note' },
      h('strong', { text: 'Development mode. ' }),
      'No identity provider is configured (',
      h('code', { text: 'auth.oidc' }),
      '), so tokens come from the ',
      h('code', { text: 'usher' }),
      ' command.',
    ),
    h('p', {}, 'Run ', h('code', { text: 'usher token --email you@example.com' }), ' and open the printed link, or paste the token here.'),
    tokenForm(onToken),
  ];
}

export function render({ error, config, onToken, onProvider }) {
  return h(
    'section',
    { class: 'screen narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: 'Sign in' }),
    error ? problemView(error) : null,
    config && config.signIn === 'unavailable' ? problemView(config.error) : null,
    ...controls({ config, onToken, onProvider }),
  );
}
