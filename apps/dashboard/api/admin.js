// Superuser administration (`/admin/…`): users (search, change, erase,
// labels) and the KYC profile reviews (queue, one profile, decide, file one
// for a user).

import * as http from './client.js';

const seg = http.segment;

/** A page of users: `{q?, limit, cursor?}` → `{items, nextCursor}`. Refused (403) to anyone but a superuser. */
export function searchUsers(query) {
  return http.get('/admin/users', query);
}

/** Changes a user: `{discordId?, platformRole?}`; resolves with the user. */
export function updateUser(userId, change) {
  return http.patch(`/admin/users/${seg(userId)}`, change);
}

/** Erases a user's personal data (no body); resolves with what was done. */
export function eraseUser(userId) {
  return http.post(`/admin/users/${seg(userId)}/erase`);
}

/** A user's level and labels: `{level, labels}`. */
export function userLabels(userId) {
  return http.get(`/admin/users/${seg(userId)}/labels`);
}

/** A page of the review queue: `{state, limit, cursor}`. */
export function listProfiles(query) {
  return http.get('/admin/profiles', query);
}

/** One profile with its user, author, other profiles and decisions. */
export function profile(id) {
  return http.get(`/admin/profiles/${seg(id)}`);
}

/** Verifies or rejects a profile; resolves with it. */
export function decideProfile(id, decision) {
  return http.put(`/admin/profiles/${seg(id)}`, decision);
}

/** Files a profile for a user: `{userId, …fields}`. */
export function fileProfile(profile) {
  return http.post('/admin/profiles', profile);
}
