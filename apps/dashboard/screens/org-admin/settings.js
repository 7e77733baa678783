// Organization admin, Name and logo: rename the organization, upload or
// remove its logo (shown only when `youMay` lets me run the organization).

import * as organizations from '../../api/organizations.js';
import { h, field, busy } from '../../dom.js';

const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/** Fills `o.sections.settings` (`o`: see ../org-admin.js). */
export function build(o) {
  const { orgId, sections, sectionNotices, fail, loadOrganization } = o;
  const section = sections.settings;
  section.append(h('h2', { id: 'settings-title', text: 'Name and logo' }));
  const n = sectionNotices(section);
  const name = h('input', { name: 'orgName', required: true, minlength: 2, maxlength: 100, value: o.organization.name, autocomplete: 'organization' });
  const rename = h('button', { type: 'submit', text: 'Rename' });
  const file = h('input', { type: 'file', name: 'logo', accept: LOGO_TYPES.join(',') });
  const upload = h('button', { type: 'submit', text: 'Upload logo' });
  const removeLogo = h('button', { type: 'button', class: 'secondary', text: 'Remove logo', hidden: !o.organization.logoUrl });
  const refresh = async () => {
    await loadOrganization();
    removeLogo.hidden = !o.organization.logoUrl;
  };
  removeLogo.addEventListener('click', () =>
    busy(removeLogo, async () => {
      try {
        await organizations.removeLogo(orgId);
        await refresh();
        n.ok('Logo removed.');
      } catch (err) {
        fail(n)(err);
      }
    }),
  );
  section.append(
    h(
      'div',
      { class: 'grid' },
      h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault();
            busy(rename, async () => {
              try {
                await organizations.rename(orgId, name.value.trim());
                await refresh();
                n.ok(`Renamed to ${o.organization.name}.`);
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        field('Organization name', name),
        rename,
      ),
      h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault();
            const chosen = file.files[0];
            if (!chosen) {
              n.error({ title: 'No file chosen', detail: 'Choose a PNG, JPEG or WebP image first.' });
              return;
            }
            busy(upload, async () => {
              n.info('Uploading…');
              try {
                await organizations.uploadLogo(orgId, chosen);
                file.value = '';
                await refresh();
                n.ok('The new logo is live.');
              } catch (err) {
                fail(n)(err);
              }
            });
          },
        },
        field('New logo', file, 'PNG, JPEG or WebP.'),
        h('div', { class: 'actions' }, upload, removeLogo),
      ),
    ),
  );
}
