// Pieces the organization screens share: role and status wording, the
// caller's standing in an organization as the server states it (`youMay`
// of `POST /organization/get`), the organization logo, and the invitation
// QR code: the server's SVG shown as an <img> (a data: URL), where SVG can
// run no script and load nothing, so no markup is ever parsed into the page.
//
// What a caller may do is never worked out here from roles: the screens
// show the controls `youMay` allows, and whatever the API still refuses is
// shown with its problem title and detail.

import * as organizations from '../api/organizations.js';
import { h, replace, picture, when } from '../dom.js';

const ROLE_LABELS = { guest: 'Guest', member: 'Member', moderator: 'Moderator', admin: 'Admin' };
const ROLE_HINTS = {
  guest: 'can see the organization',
  member: 'a regular member',
  moderator: 'can invite and remove guests and members',
  admin: 'can do everything, including roles, zones and the logo',
};

/** "Member", "Admin", … */
export function roleLabel(role) {
  return ROLE_LABELS[role] || role;
}

/** "Moderator (can invite and remove guests and members)" */
export function roleOption(role) {
  return ROLE_HINTS[role] ? `${roleLabel(role)} (${ROLE_HINTS[role]})` : roleLabel(role);
}

/**
 * Whether `youMay` (the server's answer) lets its holder manage anything in
 * the organization: invite, see the members, change them, or run the
 * organization itself. Members and guests get nothing of it.
 */
export function managesAnything(youMay) {
  return Boolean(youMay && (youMay.invite || youMay.listMembers || youMay.updateMembers || youMay.manageOrganization));
}

/**
 * `POST /organization/get` for each organization of the sidebar, at once:
 * a Map from organization id to the view (organization, zones, my
 * membership, `youMay`). An organization whose view the API refused (a
 * membership that ended meanwhile) is left out: it offers nothing to manage.
 */
export async function organizationViews(apps) {
  const views = new Map();
  await Promise.all(
    apps.map(async (a) => {
      try {
        views.set(a.organization.id, await organizations.get(a.organization.id));
      } catch {
        // left out, as said above
      }
    }),
  );
  return views;
}

/** The organization's logo, or a placeholder with its initials. */
export function logo(organization, size = 'small') {
  const alt = `Logo of ${organization.name}`;
  const initials = organization.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');
  const el = picture(organization.logoUrl, alt, initials || 'No logo');
  el.classList.add('org-logo', size);
  return el;
}

/** "Ends 3/4/2027, 10:00" or "No end date". */
export function expiry(expiresAt) {
  return expiresAt ? `Ends ${when(expiresAt)}` : 'No end date';
}

/** Human length of a number of seconds: "30 days", "1 hour". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return 'no end date';
  const units = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

/**
 * The server's QR code SVG as an image, or null when it is not a plain
 * ASCII SVG document. As an <img>, an SVG runs no script and loads nothing.
 */
export function qrImage(svgText, label) {
  if (typeof svgText !== 'string' || !/^\s*(<\?xml[^>]*\?>\s*)?<svg[\s>]/.test(svgText)) return null;
  if (!/^[\x20-\x7e\t\n\r]*$/.test(svgText)) return null;
  return h('img', { class: 'qr', alt: label, src: `data:image/svg+xml;base64,${btoa(svgText)}` });
}

/** Reasons a token cannot be used, in plain words (preview `reason`, accept problem codes). */
export const UNUSABLE = {
  expired: ['This invitation has expired', 'It is past its end date. Ask the person who invited you for a new one.'],
  revoked: ['This invitation was withdrawn', 'The organization cancelled it. Ask them for a new one if you still want to join.'],
  rejected: ['This invitation was declined', 'It was turned down earlier and cannot be used any more.'],
  used_up: ['This invitation link is used up', 'As many people as it allowed have already joined with it. Ask for a new link.'],
  accepted: ['This invitation was already accepted', 'It was meant for one person, who has already joined with it.'],
};

/** Plain words for the accept/reject problem codes (and the last-admin refusal); null for others. */
export function acceptProblem(err) {
  const code = err && err.code ? String(err.code) : '';
  if (code === 'organization.last_admin') {
    return ['You are the last admin', 'An organization needs an admin: make another member admin first (on Organization admin).'];
  }
  const reason = code.startsWith('invitation.') ? code.slice('invitation.'.length) : '';
  if (UNUSABLE[reason]) return UNUSABLE[reason];
  const words = {
    wrong_person: ['This invitation is for someone else', 'It is addressed to another account. Sign in as the person it was sent to.'],
    email_mismatch: ['This invitation is for another e-mail address', 'Sign in with the e-mail address the invitation was sent to.'],
    email_unverified: ['Your e-mail address is not verified', 'The invitation is bound to an e-mail address; sign in with a verified one.'],
    external_member: ['You are already a member', 'This invitation is only for people outside the organization.'],
    already_member: ['You are already a member', 'You already have this role (or a higher one) in this organization.'],
    open_link: ['An open link cannot be declined', 'It is not addressed to you personally: simply do not accept it.'],
    not_found: ['Invitation not found', 'This link does not work. Check that you copied all of it; if you were sent a newer link, use that one.'],
  };
  return words[reason] || null;
}
