// What the two KYC screens share: the profile fields as a form (with each
// 422 message next to its field), a profile shown read-only, and the
// wording of the states. Not a screen itself (app.js does not register it).

import { h, replace, field, when } from '../dom.js';

/** The profile's fields, in the service's record order. */
export const FIELDS = [
  { key: 'firstName', label: 'First name', autocomplete: 'given-name', maxlength: 255 },
  { key: 'lastName', label: 'Last name', autocomplete: 'family-name', maxlength: 255 },
  { key: 'dob', label: 'Date of birth', type: 'date', autocomplete: 'bday' },
  { key: 'address', label: 'Address', autocomplete: 'street-address', maxlength: 1024, hint: 'Street and number. No @.' },
  { key: 'postcode', label: 'Postcode', autocomplete: 'postal-code', maxlength: 32 },
  { key: 'city', label: 'City', autocomplete: 'address-level2', maxlength: 255 },
  {
    key: 'country',
    label: 'Country',
    autocomplete: 'country',
    maxlength: 3,
    hint: 'The two- or three-letter ISO code, for example GB or GBR, DE, US.',
  },
];

export const STATE_LABELS = {
  drafted: 'Draft',
  submitted: 'Waiting for review',
  verified: 'Verified',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

/** `GB (United Kingdom)` where the browser knows the name, else the code. */
export function countryText(code) {
  if (!code) return '';
  try {
    const name = new Intl.DisplayNames(undefined, { type: 'region' }).of(code);
    return name && name !== code ? `${code} (${name})` : code;
  } catch {
    return code;
  }
}

/** A date of birth as the reader's locale shows it (a masked `1990-02-**` stays as it is). */
function dobText(dob) {
  if (!dob || !/^\d{4}-\d{2}-\d{2}$/.test(dob)) return dob || '';
  const [y, m, d] = dob.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { timeZone: 'UTC', dateStyle: 'long' });
}

function valueText(key, value) {
  if (value === null || value === undefined || value === '') return null;
  if (key === 'dob') return dobText(value);
  if (key === 'country') return countryText(value);
  return String(value);
}

/**
 * A profile's fields as a definition list. With `compareTo` (another
 * profile), fields whose value differs are marked, so a reviewer sees
 * what changed.
 */
export function profileFacts(profile, compareTo) {
  const dl = h('dl', { class: 'facts profile-facts' });
  for (const { key, label } of FIELDS) {
    const text = valueText(key, profile[key]);
    const differs = compareTo && (profile[key] ?? null) !== (compareTo[key] ?? null);
    dl.append(
      h('dt', { text: label }),
      h(
        'dd',
        { class: differs ? 'differs' : null, 'data-field': key },
        text === null ? h('span', { class: 'muted', text: 'not given' }) : text,
        differs ? h('small', { class: 'differs-note', text: ' (different)' }) : null,
      ),
    );
  }
  return dl;
}

/** `Verified` / `Rejected` / … as a badge carrying the raw state for styling and tests. */
export function stateBadge(state) {
  return h('strong', { class: `badge kyc-state state-${state}`, 'data-state': state, text: STATE_LABELS[state] || state });
}

/** A one-line history of a profile: when it was started and, once decided, when. */
export function profileDates(profile) {
  const started = `started ${when(profile.createdAt)}`;
  if (profile.state === 'verified') return `${started} · verified ${when(profile.updatedAt)}`;
  if (profile.state === 'rejected') return `${started} · rejected ${when(profile.updatedAt)}`;
  if (profile.state === 'withdrawn') return `${started} · withdrawn ${when(profile.updatedAt)}`;
  if (profile.state === 'submitted') return `${started} · sent for review ${when(profile.updatedAt)}`;
  return `${started} · last saved ${when(profile.updatedAt)}`;
}

const isMasked = (value) => typeof value === 'string' && value.includes('*');

/**
 * The profile fields as form controls, filled from `initial` (a profile or
 * null). `changes()` gives only the fields the person changed: a cleared
 * field is `null` (the service clears it), an untouched one is absent (the
 * service keeps it). Values the service masks (`L*****`, `1990-02-**`) are
 * never sent back unless the person types a new one.
 */
export function profileForm(initial) {
  const today = new Date().toISOString().slice(0, 10);
  const rows = FIELDS.map((spec) => {
    const start = initial && initial[spec.key] != null ? String(initial[spec.key]) : '';
    const masked = isMasked(start);
    const control = h('input', {
      name: spec.key,
      type: spec.type || 'text',
      autocomplete: spec.autocomplete,
      maxlength: spec.maxlength,
      min: spec.type === 'date' ? '1900-01-01' : null,
      max: spec.type === 'date' ? today : null,
      value: masked && spec.type === 'date' ? '' : start,
    });
    if (spec.key === 'country') control.setAttribute('autocapitalize', 'characters');
    const shown = control.value;
    let hint = spec.hint;
    if (masked) hint = `Saved as ${start} (partly hidden). Leave it as it is to keep it, or type a new one.`;
    const wrap = field(spec.label, control, hint);
    const error = h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
    wrap.append(error);
    return { spec, control, shown, wrap, error };
  });

  function clearErrors() {
    for (const r of rows) {
      r.error.hidden = true;
      r.error.textContent = '';
      r.control.removeAttribute('aria-invalid');
      const described = (r.control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== r.error.id);
      if (described.length) r.control.setAttribute('aria-describedby', described.join(' '));
      else r.control.removeAttribute('aria-describedby');
    }
  }

  return {
    el: h('div', { class: 'profile-fields' }, rows.map((r) => r.wrap)),
    focus: () => rows[0].control.focus(),
    /** Every non-empty field, trimmed (for a new profile). */
    values() {
      const out = {};
      for (const r of rows) {
        const v = r.control.value.trim();
        if (v && !isMasked(v)) out[r.spec.key] = v;
      }
      return out;
    },
    /** Only what changed since the form was filled: a new value, or null to clear. */
    changes() {
      const out = {};
      for (const r of rows) {
        if (r.control.value === r.shown) continue;
        const v = r.control.value.trim();
        out[r.spec.key] = v === '' ? null : v;
      }
      return out;
    },
    clearErrors,
    /**
     * Puts each message of a 422 (`errors` keyed by JSON pointer, each
     * `[code, explanation]`) under its field. Returns how many it placed.
     */
    showErrors(err) {
      clearErrors();
      if (!err || !err.errors) return 0;
      let placed = 0;
      for (const [pointer, entry] of Object.entries(err.errors)) {
        const key = pointer.replace(/^\//, '');
        const r = rows.find((row) => row.spec.key === key);
        if (!r) continue;
        const parts = [].concat(entry);
        const explanation = parts.length > 1 ? parts.slice(1).join('; ') : parts[0];
        replace(r.error, `${r.spec.label} ${explanation}`);
        r.error.hidden = false;
        r.control.setAttribute('aria-invalid', 'true');
        const described = (r.control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
        r.control.setAttribute('aria-describedby', [...described, r.error.id].join(' '));
        if (placed === 0) r.control.focus();
        placed += 1;
      }
      return placed;
    },
  };
}
