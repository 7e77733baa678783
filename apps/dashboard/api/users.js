// The signed-in user (`/user/…`): who a token is, the display name, the
// manual status, the avatar (two-step upload) and the data export.

import * as http from './client.js';

/** The signed-in user (`POST /user/get`). */
export function me() {
  return http.post('/user/get', {});
}

/** The signed-in user's id and platform role (`POST /user/session`): `{ userId, platformRole }`. */
export function session() {
  return http.post('/user/session', {});
}

/** The user a bearer token signs in as (`POST /user/get` with that token), without making it the session. */
export function whoIs(token) {
  return http.request('POST', '/user/get', { body: {}, token });
}

/** Changes the display name; resolves with the updated user. */
export function update({ displayName }) {
  return http.post('/user/update', { displayName });
}

/** Sets the manual status (`null` clears it); resolves with the updated user. */
export function setStatus(manualStatus) {
  return http.post('/user/status', { manualStatus });
}

/** Removes the profile photo; resolves with the updated user. */
export function removeAvatar() {
  return http.post('/user/avatar/remove', {});
}

/** The full two-step avatar upload: ticket → PUT → finalize. Resolves with the finalize answer. */
export async function uploadAvatar(file) {
  const ticket = await http.post('/user/avatar/upload-ticket', { contentType: file.type });
  await http.putUpload(ticket.uploadUrl, ticket.requiredHeaders || {}, file);
  return http.post('/user/avatar/finalize', { tmpKey: ticket.tmpKey });
}

/** Everything Usher holds about the user, as a file: `{blob, filename}`. */
export function exportData() {
  return http.download('/user/export');
}
