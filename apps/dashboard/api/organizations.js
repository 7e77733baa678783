// Organizations (`/organization/…`, `/my-apps/sidebar`): my organizations,
// one organization's view with `youMay`, create, switch, leave, rename, the
// logo, the members, the blocks, the zones and the webhook endpoints.

import * as http from './client.js';

/** My organizations as the sidebar shows them (`GET /my-apps/sidebar`). */
export function sidebar() {
  return http.get('/my-apps/sidebar');
}

/** One organization: itself, its zones, my membership and `youMay`. */
export function get(organizationId) {
  return http.post('/organization/get', { organizationId });
}

/** Creates an organization (I become its admin); resolves with the updated user. */
export function create({ name }) {
  return http.post('/organization/create', { name });
}

/** Makes an organization my current one; resolves with the updated user. */
export function switchTo(organizationId) {
  return http.post('/organization/switch', { organizationId });
}

/** Leaves an organization; resolves with the updated user. */
export function leave(organizationId) {
  return http.post('/organization/leave', { organizationId });
}

/** Renames an organization. */
export function rename(organizationId, name) {
  return http.post('/organization/update', { organizationId, name });
}

/** The logo's two-step upload: ticket → PUT → finalize. */
export async function uploadLogo(organizationId, file) {
  const ticket = await http.post('/organization/logo/upload-ticket', { organizationId, contentType: file.type });
  await http.putUpload(ticket.uploadUrl, ticket.requiredHeaders || {}, file);
  return http.post('/organization/logo/finalize', { organizationId, tmpKey: ticket.tmpKey });
}

/** Removes the logo. */
export function removeLogo(organizationId) {
  return http.post('/organization/logo/remove', { organizationId });
}

/** A page of members: `{organizationId, status?, limit, cursor?}` → `{members, nextCursor}`. */
export function listMembers(query) {
  return http.post('/organization/members/list', query);
}

/** Changes a member's role, zones or end date: `{organizationId, userId, role?, zoneIds?, expiresAt?}`. */
export function updateMember(change) {
  return http.post('/organization/members/update', change);
}

/** Removes a member: `{organizationId, userId, block?}`. */
export function removeMember(removal) {
  return http.post('/organization/members/remove', removal);
}

/** A member's history: `{history}`. */
export function memberHistory(organizationId, userId) {
  return http.post('/organization/members/history', { organizationId, userId });
}

/** Lets a blocked person join again by invitation. */
export function unblock(organizationId, userId) {
  return http.post('/organization/members/unblock', { organizationId, userId });
}

/** The people blocked from rejoining: `{blocks}`. */
export function listBlocks(organizationId) {
  return http.post('/organization/blocks/list', { organizationId });
}

/** The organization's zones: `{zones}`. */
export function listZones(organizationId) {
  return http.post('/organization/zones/list', { organizationId });
}

/** Adds a zone; resolves with it. */
export function createZone(organizationId, name) {
  return http.post('/organization/zones/create', { organizationId, name });
}

/** A page of the organization's activity, oldest first: `{organizationId, from?, to?, cursor?, limit?}` → `{entries, nextCursor, hasMore}`. */
export function audit({ organizationId, from, to, cursor, limit }) {
  return http.get('/organization/audit', { organizationId, from, to, cursor, limit });
}

/** The organization's activity from `from` until before `to` as a CSV file: `{blob, filename}`. */
export function auditCsv({ organizationId, from, to }) {
  const query = new URLSearchParams({ organizationId, format: 'csv' });
  if (from) query.set('from', from);
  if (to) query.set('to', to);
  return http.download(`/organization/audit?${query}`);
}

/** The organization's webhook endpoints: `{webhooks}`. */
export function webhooks(organizationId) {
  return http.post('/organization/webhooks/list', { organizationId });
}

/** Registers an endpoint: `{webhook, secret}`, the secret shown this once. */
export function createWebhook(organizationId, { url, eventTypes }) {
  return http.post('/organization/webhooks/create', { organizationId, url, eventTypes });
}

/** Changes an endpoint (`url`, `eventTypes`, `enabled`); enabling makes it act for me. */
export function updateWebhook(organizationId, webhookId, change) {
  return http.post('/organization/webhooks/update', { organizationId, webhookId, ...change });
}

/** Deletes an endpoint. */
export function deleteWebhook(organizationId, webhookId) {
  return http.post('/organization/webhooks/delete', { organizationId, webhookId });
}

/** A new secret for an endpoint: `{webhook, secret}`, the secret shown this once. */
export function rotateWebhook(organizationId, webhookId) {
  return http.post('/organization/webhooks/rotate', { organizationId, webhookId });
}

/** An endpoint's latest deliveries, each with its attempts: `{deliveries}`. */
export function webhookDeliveries(organizationId, webhookId, limit = 20) {
  return http.post('/organization/webhooks/deliveries', { organizationId, webhookId, limit });
}

/** Delivers an event again, under the same `webhook-id`. */
export function replayWebhook(organizationId, webhookId, deliveryId) {
  return http.post('/organization/webhooks/replay', { organizationId, webhookId, deliveryId });
}
