// Organization admin, Webhooks: the endpoints that receive this
// organization's events and how they are doing (enabled, failing and why,
// each delivery's attempts), with register, enable/disable, rotate the
// secret, delete and replay. Shown where `youMay.manageWebhooks`; a secret
// is shown once, as the API gives it. What the state means (failing, who an
// endpoint acts for) is the API's word, shown as it says it.

import * as organizations from '../../api/organizations.js';
import { h, replace, field, busy, when, confirmButton } from '../../dom.js';

/** A delivery's line: when, what, how it stands, and its last attempt. */
function deliveryLine(d, replay) {
  const last = d.attempts[d.attempts.length - 1];
  const outcome = !last ? 'not tried yet' : last.status != null ? `HTTP ${last.status}` : last.error || 'no answer';
  const state = d.state === 'pending' && d.nextAttemptAt ? `pending, next try ${when(d.nextAttemptAt)}` : d.state;
  const li = h(
    'li',
    { class: `delivery ${d.state}`, 'data-state': d.state },
    h('time', { datetime: d.createdAt, class: 'muted', text: when(d.createdAt) }),
    ' ',
    h('code', { text: d.eventType }),
    ' ',
    h('span', { class: 'delivery-state', text: `${state} · ${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'} · last: ${outcome}` }),
  );
  if (d.state !== 'pending') {
    const again = h('button', { type: 'button', class: 'secondary small', text: 'Replay' });
    again.addEventListener('click', () => busy(again, () => replay(d)));
    li.append(' ', again);
  }
  return li;
}

/** Fills `o.sections.webhooks` and sets its `load` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, sections, sectionNotices, fail } = o;
  const section = sections.webhooks;
  section.append(
    h('h2', { id: 'webhooks-title', text: 'Webhooks' }),
    h('p', {
      class: 'muted',
      text: 'Endpoints that receive this organization’s events, signed with their secret (Standard Webhooks). Failed deliveries are retried for a day.',
    }),
  );
  const n = sectionNotices(section);
  const list = h('ul', { class: 'webhook-list' });
  const empty = h('p', { class: 'muted', text: 'No endpoints yet.' });
  const secretBox = h('div', { class: 'webhook-secret', hidden: true });
  section.append(secretBox, list, empty);

  /** Shows a secret the API gave this once. */
  function showSecret(text, secret) {
    replace(
      secretBox,
      h('p', { class: 'notice info', role: 'status', text }),
      h('code', { class: 'secret', text: secret }),
    );
    secretBox.hidden = false;
  }

  function endpointItem(w) {
    const health = w.failing
      ? h('p', { class: 'notice error webhook-failing', text: `Failing since ${when(w.failing.since)}: ${w.failing.reason}` })
      : h('p', { class: 'muted webhook-healthy', text: w.enabled ? 'Healthy' : 'Disabled' });
    const types = w.eventTypes.length ? w.eventTypes.join(', ') : 'every event';
    const toggle = h('button', { type: 'button', class: 'secondary', text: w.enabled ? 'Disable' : 'Enable' });
    toggle.addEventListener('click', () =>
      busy(toggle, async () => {
        try {
          await organizations.updateWebhook(orgId, w.id, { enabled: !w.enabled });
          n.ok(w.enabled ? `${w.url} is disabled.` : `${w.url} is enabled, and acts for you.`);
          await load();
        } catch (err) {
          fail(n)(err);
        }
      }),
    );
    const rotate = h('button', { type: 'button', class: 'secondary', text: 'Rotate secret' });
    rotate.addEventListener('click', () =>
      busy(rotate, async () => {
        try {
          const { secret } = await organizations.rotateWebhook(orgId, w.id);
          showSecret(`The new secret of ${w.url}, shown once; the old one keeps signing beside it for 24 hours:`, secret);
          await load();
        } catch (err) {
          fail(n)(err);
        }
      }),
    );
    const remove = confirmButton({
      text: 'Delete',
      question: `Delete the endpoint ${w.url}? It receives nothing more.`,
      confirmText: 'Delete endpoint',
      action: async () => {
        try {
          await organizations.deleteWebhook(orgId, w.id);
          n.ok(`${w.url} is deleted.`);
          await load();
        } catch (err) {
          fail(n)(err);
        }
      },
    });
    const deliveries = h('ol', { class: 'delivery-list', hidden: true });
    const show = h('button', { type: 'button', class: 'secondary', text: 'Deliveries', 'aria-expanded': 'false' });
    async function loadDeliveries() {
      const page = await organizations.webhookDeliveries(orgId, w.id);
      const replay = async (d) => {
        try {
          await organizations.replayWebhook(orgId, w.id, d.id);
          n.ok(`The ${d.eventType} event will be delivered again.`);
          await loadDeliveries();
        } catch (err) {
          fail(n)(err);
        }
      };
      replace(
        deliveries,
        page.deliveries.length
          ? page.deliveries.map((d) => deliveryLine(d, replay))
          : h('li', { class: 'muted empty-list', text: 'Nothing delivered yet.' }),
      );
    }
    show.addEventListener('click', () =>
      busy(show, async () => {
        const open = deliveries.hidden;
        deliveries.hidden = !open;
        show.setAttribute('aria-expanded', String(open));
        if (open) await loadDeliveries().catch(fail(n));
      }),
    );
    return h(
      'li',
      { class: 'webhook', 'data-id': w.id, 'data-enabled': String(w.enabled), 'data-failing': String(Boolean(w.failing)) },
      h('strong', { class: 'webhook-url', text: w.url }),
      h('small', { class: 'muted', text: ` · ${types}` }),
      health,
      h('div', { class: 'actions' }, toggle, rotate, show, remove.button),
      remove.box,
      deliveries,
    );
  }

  async function load() {
    const { webhooks } = await organizations.webhooks(orgId);
    replace(list, webhooks.map(endpointItem));
    empty.hidden = webhooks.length > 0;
  }

  const url = h('input', { name: 'webhookUrl', type: 'url', required: true, maxlength: 2048, placeholder: 'https://crm.example.com/hooks/usher', autocomplete: 'off' });
  const types = h('input', { name: 'webhookTypes', autocomplete: 'off', placeholder: 'membership.created, membership.ended' });
  const add = h('button', { type: 'submit', text: 'Add endpoint' });
  section.append(
    h(
      'form',
      {
        class: 'webhook-form',
        onsubmit: (e) => {
          e.preventDefault();
          busy(add, async () => {
            try {
              const eventTypes = types.value.split(',').map((t) => t.trim()).filter(Boolean);
              const made = await organizations.createWebhook(orgId, { url: url.value.trim(), eventTypes });
              url.value = '';
              types.value = '';
              showSecret(`The secret of ${made.webhook.url}, shown once: keep it where your receiver checks signatures.`, made.secret);
              await load();
            } catch (err) {
              fail(n)(err);
            }
          });
        },
      },
      field('Endpoint URL', url),
      field('Event types', types, 'Comma-separated; empty for every event.'),
      add,
    ),
  );
  section.load = () => load().catch(fail(n));
}
