// The API client: bearer token from sessionStorage, JSON in and out, and
// every failure (problem+json or not) turned into an ApiError whose
// `title` and `detail` the screens show as they are.
//
// Only the resource modules beside this one (`users.js`, `organizations.js`,
// …) call it: they hold every endpoint path, and the screens call them.

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

/** A failed request, carrying the RFC 9457 problem fields the service sends. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = problem.title || `Request failed (HTTP ${status})`;
    this.detail = problem.detail || '';
    this.code = problem.code || null;
    this.errors = problem.errors || null;
    this.requestId = problem.requestId || null;
    this.current = problem.current || null;
  }
}

async function problemOf(res) {
  const type = res.headers.get('content-type') || '';
  let text = '';
  try {
    text = await res.text();
  } catch {
    // the body is lost; the status still says what happened
  }
  if (type.includes('json') && text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body === 'object') return body;
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  return { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) };
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: `The service could not be reached (${e.message}).` });
  }
}

/**
 * Calls the API; resolves with the parsed JSON body (or null), rejects with ApiError.
 * `token` sends that bearer token instead of the session's (to ask who a token belongs to).
 */
export async function request(method, path, { body, query, token = session.token } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  }
  const headers = { Accept: 'application/json, application/problem+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await send(url, init);
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
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
  const res = await send(new URL(path, location.origin), { method: 'GET', headers, cache: 'no-store' });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  const disposition = res.headers.get('content-disposition') || '';
  const match = disposition.match(/filename="?([^";]+)"?/i);
  return { blob: await res.blob(), filename: match ? match[1] : 'usher-export.json' };
}

/** PUTs a file to a presigned upload URL with the headers the ticket requires. */
export async function putUpload(uploadUrl, requiredHeaders, file) {
  const res = await send(uploadUrl, { method: 'PUT', headers: { ...requiredHeaders }, body: file });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
}
