// Sign in: paste a bearer token, or open the link `usher token` prints.

import { h, field, problemView } from '../dom.js';

export const title = 'Sign in';

export function render({ error, onToken }) {
  const input = h('textarea', { name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    {
      class: 'panel',
      onsubmit: (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (token) onToken(token);
      },
    },
    field('Access token', input, 'The token is kept in this browser tab only and forgotten when the tab closes.'),
    h('button', { type: 'submit', text: 'Sign in' }),
  );
  return h(
    'section',
    { class: 'screen narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: 'Sign in' }),
    error ? problemView(error) : null,
    h('p', {}, 'Run ', h('code', { text: 'usher token --email you@example.com' }), ' and open the printed link, or paste the token here.'),
    form,
  );
}
