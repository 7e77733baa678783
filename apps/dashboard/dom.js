// DOM helpers. Text always goes in through textContent and attributes through
// setAttribute, so data from the API can never become markup.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected']);

/**
 * Creates an element. `props`: `class`, `text`, `for`, `on<event>` handlers,
 * `value`/`checked`/`disabled`/`hidden`/`selected` as properties, anything else as an attribute.
 * Children are nodes or strings (strings become text nodes); null/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'for') el.htmlFor = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let fieldSeq = 0; // ids that tie each label to its control

/** A labelled form field: label, control and an optional hint, wired for screen readers. */
export function field(labelText, control, hint) {
  fieldSeq += 1;
  const id = control.id || `f${fieldSeq}`;
  control.id = id;
  const parts = [h('label', { for: id, text: labelText }), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', { id: hintId, class: 'hint', text: hint }));
  }
  return h('div', { class: 'field' }, parts);
}

/** A message area; `show` puts an error (with its title/detail) or a success line in it. */
export function notices() {
  const box = h('div', { class: 'notices', 'aria-live': 'polite' });
  return {
    el: box,
    clear: () => box.replaceChildren(),
    ok: (text) => replace(box, h('p', { class: 'notice ok', role: 'status', text })),
    info: (text) => replace(box, h('p', { class: 'notice info', role: 'status', text })),
    // A refused token is shown once, by the "session ended" notice (app.js).
    error: (err) => (err && err.shownAsSessionEnd ? box.replaceChildren() : replace(box, problemView(err))),
  };
}

/** An error as the user sees it: title, detail, invalid fields and the request id. */
export function problemView(err) {
  const title = err && err.title ? err.title : 'Something went wrong';
  const detail = err && (err.detail ?? err.message);
  const box = h('div', { class: 'notice error', role: 'alert' }, h('strong', { class: 'title', text: title }));
  if (detail) box.append(h('p', { class: 'detail', text: detail }));
  if (err && err.errors) {
    const list = h('ul', { class: 'field-errors' });
    for (const [pointer, messages] of Object.entries(err.errors)) {
      list.append(h('li', { text: `${pointer.replace(/^\//, '') || 'body'}: ${[].concat(messages).join('; ')}` }));
    }
    box.append(list);
  }
  if (err && err.requestId) box.append(h('small', { class: 'muted', text: `Request id: ${err.requestId}` }));
  return box;
}

/** An image with alt text, or a placeholder box saying there is none. */
export function picture(url, alt, emptyText) {
  if (!url) return h('div', { class: 'photo empty', role: 'img', 'aria-label': alt, text: emptyText || 'No photo' });
  return h('img', { class: 'photo', src: url, alt, loading: 'lazy', referrerpolicy: 'no-referrer' });
}

/** A date-time as the reader's locale shows it. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** Saves `blob` as the file `filename`, through an object URL kept a minute for the download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Runs `fn` `ms` after the last call. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Disables `button` while `work` runs, so a double click sends one request. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * Paging over a keyset-paged list. `fetchPage(cursor)` resolves with
 * `{…, nextCursor}`; `show(page, {append})` renders it; `onError(err)` gets a
 * failure. An answer overtaken by a newer load (a search typed on, a filter
 * changed) is ignored.
 *
 * By default it is Previous/Next: it keeps the cursor of each page seen (for
 * Previous), and `show` replaces the list (`append` is false). With
 * `{more: 'Show more …'}` it is one button of that name instead, shown while
 * there is a next page, which fetches it and calls `show(page, {append:
 * true})`; `load()` then starts again from page 1 (after a change, the
 * list as it is now).
 *
 * Returns the pager element, `load()` (the current page again) and
 * `restart()` (page 1).
 */
export function keysetPager(fetchPage, show, onError, { more } = {}) {
  let cursors = [null];
  let nextCursor = null;
  let seq = 0;
  /** Fetches the page at `cursor`; false when it failed or was overtaken. */
  async function fetchAt(cursor, append) {
    seq += 1;
    const mine = seq;
    try {
      const page = await fetchPage(cursor);
      if (mine !== seq) return false;
      nextCursor = page.nextCursor || null;
      show(page, { append });
      return true;
    } catch (err) {
      if (mine === seq) onError(err);
      return false;
    }
  }

  if (more) {
    const button = h('button', { type: 'button', class: 'secondary', text: more, hidden: true });
    const restart = async () => {
      const ok = await fetchAt(null, false);
      if (ok) button.hidden = !nextCursor;
    };
    button.addEventListener('click', () =>
      busy(button, async () => {
        if (!nextCursor) return;
        if (await fetchAt(nextCursor, true)) button.hidden = !nextCursor;
      }),
    );
    return { el: h('div', { class: 'actions more' }, button), load: restart, restart };
  }

  const prev = h('button', { type: 'button', class: 'secondary', text: 'Previous page' });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next page' });
  const label = h('span', { class: 'muted' });
  async function load() {
    if (await fetchAt(cursors[cursors.length - 1], false)) {
      prev.disabled = cursors.length === 1;
      next.disabled = !nextCursor;
      label.textContent = `Page ${cursors.length}`;
    }
  }
  prev.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    load();
  });
  next.addEventListener('click', () => {
    if (nextCursor) cursors.push(nextCursor);
    load();
  });
  return {
    el: h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, label, next),
    load,
    restart() {
      cursors = [null];
      return load();
    },
  };
}

/**
 * A button that asks before acting: the first click shows a question with
 * "confirmText" and Cancel next to it (and `extra`, such as a checkbox,
 * between them); only the second button runs `action`.
 */
export function confirmButton({ text, question, confirmText, action, className = 'secondary', extra = null }) {
  const box = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': question });
  const open = h('button', { type: 'button', class: className, text, 'aria-expanded': 'false' });
  const yes = h('button', { type: 'button', class: 'danger', text: confirmText });
  const no = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Cancel',
    onclick: () => {
      box.hidden = true;
      open.setAttribute('aria-expanded', 'false');
      open.focus();
    },
  });
  replace(box, h('p', { text: question }), extra, h('div', { class: 'actions' }, yes, no));
  open.addEventListener('click', () => {
    box.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    yes.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await action();
    } finally {
      yes.disabled = false;
      box.hidden = true;
      open.setAttribute('aria-expanded', 'false');
    }
  });
  return { button: open, box };
}

let choiceSeq = 0; // names that group each set of radio buttons

/**
 * The fields of a rejection both review screens share: the reason (shown to
 * the user), an optional internal note (reviewers only) and the retry/final
 * choice as radio buttons. `values()` gives `{reason, note?, retry}` as the
 * API takes them: an empty note is left out, never sent blank.
 */
export function rejectionFields({ reasonLabel, reasonHint, reasonMax, retryLabel, finalLabel }) {
  choiceSeq += 1;
  const reason = h('textarea', { name: 'reason', rows: 2, maxlength: reasonMax, required: true });
  const note = h('textarea', { name: 'note', rows: 2, maxlength: 2000 });
  const group = `retry-${choiceSeq}`;
  const choice = (value, label, checked) => {
    const input = h('input', { type: 'radio', name: group, value, checked });
    return { input, el: h('label', { class: 'check' }, input, label) };
  };
  const retry = choice('retry', retryLabel, true);
  const final = choice('final', finalLabel, false);
  const el = h(
    'div',
    { class: 'rejection-fields' },
    field(reasonLabel, reason, reasonHint),
    field('Internal note (optional)', note, 'Only reviewers see this. The user never does.'),
    h(
      'fieldset',
      { class: 'retry-choice' },
      h('legend', { text: 'After this rejection' }),
      h('div', { class: 'checks' }, retry.el, final.el),
    ),
  );
  return {
    el,
    focus: () => reason.focus(),
    values() {
      const out = { reason: reason.value, retry: final.input.checked ? 'final' : 'retry' };
      if (note.value.trim()) out.note = note.value;
      return out;
    },
  };
}
