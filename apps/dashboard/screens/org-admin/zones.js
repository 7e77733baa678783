// Organization admin, Zones: the organization's zones, and a new one when
// `youMay` lets me run the organization.

import * as organizations from '../../api/organizations.js';
import { h, replace, field, busy } from '../../dom.js';

/** Fills `o.sections.zones` and sets its `load` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, youMay, sections, sectionNotices, fail } = o;
  const section = sections.zones;
  section.append(h('h2', { id: 'zones-title', text: 'Zones' }), h('p', { class: 'muted', text: 'Zones are parts of the organization. A member or invitation limited to a zone covers only that part.' }));
  const n = sectionNotices(section);
  const list = h('ul', { class: 'zone-list' });
  const empty = h('p', { class: 'muted', text: 'No zones yet: everyone covers the whole organization.' });
  section.append(list, empty);
  const showZones = () => {
    replace(list, o.zones.map((z) => h('li', {}, z.name, h('small', { class: 'muted', text: ` · id ${z.id}` }))));
    empty.hidden = o.zones.length > 0;
  };
  showZones();
  async function loadZones() {
    const res = await organizations.listZones(orgId);
    o.zones = res.zones;
    showZones();
    sections.invitations.refreshZones?.();
  }
  if (youMay.manageOrganization) {
    const name = h('input', { name: 'zoneName', required: true, minlength: 2, maxlength: 100, autocomplete: 'off' });
    const add = h('button', { type: 'submit', text: 'Add zone' });
    section.append(
      h(
        'form',
        {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            busy(add, async () => {
              try {
                const zone = await organizations.createZone(orgId, name.value.trim());
                name.value = '';
                await loadZones();
                n.ok(`Zone ${zone.name} added.`);
                // The member editors offer the new zone.
                await sections.members.load();
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        field('New zone name', name),
        add,
      ),
    );
  }
  section.load = () => loadZones().catch(fail(n));
}
