// The API client: the typed client's wrapper (clients/typescript/index.js,
// served as `api/usher-client.js`) with the bearer token from
// sessionStorage; every failure (problem+json or not) is an ApiError whose
// `title` and `detail` the screens show as they are.
//
// Only the resource modules beside this one (`users.js`, `organizations.js`,
// …) call it: they hold every endpoint path, and the screens call them.

import { createClient, check, send, UsherError } from './usher-client.js';

const TOKEN_KEY = 'usher.token';

/** The signed-in session: the bearer token lives in sessionStorage only. */
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A failed request, carrying the RFC 9457 problem fields the service sends (the typed client's UsherError). */
export { UsherError as ApiError };

const api = createClient({ baseUrl: location.origin, token: () => session.token });

/**
 * Calls the API; resolves with the parsed JSON body (or null), rejects with ApiError.
 * `token` sends that bearer token instead of the session's (to ask who a token belongs to).
 */
export function request(method, path, { body, query, token } = {}) {
  return api.request(method, path, { body, query, token });
}

/** The HTTP verbs the resource modules use: `query` becomes the query string, `body` JSON. */
export const get = (path, query) => request('GET', path, { query });
export const post = (path, body) => request('POST', path, { body });
export const patch = (path, body, query) => request('PATCH', path, { body, query });
export const put = (path, body) => request('PUT', path, { body });
export const del = (path) => request('DELETE', path);

/** `encodeURIComponent` for an id that goes into a path. */
export const segment = (id) => encodeURIComponent(id);

/**
 * GETs a file the API sends as an attachment (with the bearer token) and
 * resolves with its bytes as a Blob and the file name the service gave.
 */
export async function download(path) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await check(await send(fetch, new URL(path, location.origin), { method: 'GET', headers, cache: 'no-store' }));
  const disposition = res.headers.get('content-disposition') || '';
  const match = disposition.match(/filename="?([^";]+)"?/i);
  return { blob: await res.blob(), filename: match ? match[1] : 'usher-export.json' };
}

/** PUTs a file to a presigned upload URL with the headers the ticket requires. */
export async function putUpload(uploadUrl, requiredHeaders, file) {
  await check(await send(fetch, uploadUrl, { method: 'PUT', headers: { ...requiredHeaders }, body: file }));
}
