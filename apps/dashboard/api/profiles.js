// My KYC profiles (`/resource/profiles`): the list of mine, and the open
// one: start it, change it (with `confirm: true`, send it for review) or
// withdraw the draft.

import * as http from './client.js';

/** Every profile of mine, the open one included. */
export function mine() {
  return http.get('/resource/profiles/me');
}

/** Starts a profile with these fields (`confirm: true` sends it for review at once). */
export function create(fields) {
  return http.post('/resource/profiles', fields);
}

/** Changes the open draft (`confirm: true` sends it for review). */
export function update(changes) {
  return http.put('/resource/profiles', changes);
}

/** Withdraws the open draft. */
export function withdraw() {
  return http.del('/resource/profiles');
}
