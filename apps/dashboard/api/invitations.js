// Invitations (`/invitation/…`): the ones waiting for me and my answer, the
// preview of a link's token, whom an e-mailed one is for, and an organization's own: create, list,
// revoke, resend and the acceptance log.

import * as http from './client.js';

/** A page of the invitations waiting for me, newest first: `{limit, cursor?}` → `{invitations, nextCursor}`. */
export function mine(page) {
  return http.post('/invitation/mine', page);
}

/** What a link's token invites to, without signing in. */
export function preview(token) {
  return http.post('/invitation/preview', { token });
}

/** Whom a pending e-mail-bound invitation is for, masked: `{emailHint}` (404 for any other id). */
export function recipient(invitationId) {
  return http.post('/invitation/recipient', { invitationId });
}

/** Accepts an invitation named by `{invitationId}` or `{token}`; resolves with the updated user. */
export function accept(which) {
  return http.post('/invitation/accept', which);
}

/** Declines an invitation named by `{invitationId}` or `{token}`. */
export function reject(which) {
  return http.post('/invitation/reject', which);
}

/** Creates an invitation; resolves with it, its link and QR code (shown once). */
export function create(invitation) {
  return http.post('/invitation/create', invitation);
}

/** A page of an organization's invitations: `{organizationId, status?, emailPrefix?, limit, cursor?}`. */
export function list(query) {
  return http.post('/invitation/list', query);
}

/** Withdraws an invitation: its link stops working. */
export function revoke(invitationId) {
  return http.post('/invitation/revoke', { invitationId });
}

/** Makes a new link for an invitation (the old one stops working); resolves as `create` does. */
export function resend(invitationId) {
  return http.post('/invitation/resend', { invitationId });
}

/** Who used an invitation, and how it went: `{acceptances}`. */
export function acceptances(invitationId) {
  return http.post('/invitation/acceptances', { invitationId });
}
