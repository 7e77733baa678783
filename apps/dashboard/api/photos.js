// Photo verifications (`/picture/…`, `/discord-actions/…`): a user's own
// reviews, and for superusers the list, one record's event log, the
// decisions and the Discord avatar refresh.

import * as http from './client.js';

const seg = http.segment;

/** A page of one user's photo verifications: `query` is `{status, limit}`. */
export function ofUser(userId, query) {
  return http.get(`/picture/${seg(userId)}`, query);
}

/** A page of every verification: `{status, username, limit, cursor}`. */
export function list(query) {
  return http.get('/picture/all', query);
}

/** One verification with its event log: `{verification, events}`. */
export function verification(id) {
  return http.get(`/picture/verification/${seg(id)}`);
}

/** Approves one side (`profile`, `discord` or `both`); resolves with the record. */
export function approve(id, type) {
  return http.patch(`/picture/verify/${seg(id)}`, undefined, { type });
}

/** Rejects: `{reason, note?, retry}`; resolves with the record. */
export function reject(id, rejection) {
  return http.patch(`/picture/reject/${seg(id)}`, rejection);
}

/** Reads a Discord account's avatar again. */
export function refreshDiscordAvatar(discordId) {
  return http.patch(`/discord-actions/avatar/update/${seg(discordId)}`);
}
