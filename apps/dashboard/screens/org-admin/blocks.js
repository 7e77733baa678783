// Organization admin, Blocked: the people removed and blocked from
// rejoining, and Unblock where `youMay` allows it.

import * as organizations from '../../api/organizations.js';
import { h, replace, when, busy } from '../../dom.js';

/** Fills `o.sections.blocks` and sets its `load` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, youMay, sections, sectionNotices, fail, person } = o;
  const section = sections.blocks;
  section.append(
    h('h2', { id: 'blocks-title', text: 'Blocked' }),
    h('p', { class: 'muted', text: 'People removed and blocked from rejoining: no invitation of the organization lets them back in until an admin unblocks them.' }),
  );
  const n = sectionNotices(section);
  const list = h('div', { class: 'block-list' });
  section.append(list);

  function blockRow(b) {
    const actions = h('div', { class: 'actions' });
    if (youMay.unblock) {
      const unblock = h('button', { type: 'button', class: 'secondary', text: 'Unblock' });
      unblock.addEventListener('click', () =>
        busy(unblock, async () => {
          try {
            await organizations.unblock(orgId, b.userId);
            await loadBlocks();
            n.ok(`${b.displayName} may join again by invitation.`);
          } catch (err) {
            fail(n)(err);
          }
        }),
      );
      actions.append(unblock);
    }
    return h(
      'article',
      { class: 'blocked', 'data-email': b.email, 'aria-label': b.displayName },
      h('h3', { class: 'who', text: b.displayName }),
      h('p', { class: 'muted email', text: b.email }),
      h('p', { class: 'muted', text: `Blocked ${when(b.blockedAt)} by ${person(b.blockedBy)}` }),
      actions,
    );
  }

  async function loadBlocks() {
    const { blocks } = await organizations.listBlocks(orgId);
    replace(list, blocks.length ? blocks.map(blockRow) : h('p', { class: 'muted empty-list', text: 'Nobody is blocked.' }));
  }
  section.load = () => loadBlocks().catch(fail(n));
}
