// Usher's fetch wrapper for web clients: JSON in and out, the bearer token,
// path parameters filled in, and every failure (a problem+json answer, any
// other error answer, or no answer at all) thrown as an UsherError.
//
// No dependencies and no build step: the dashboard serves this very file
// (apps/dashboard/api/client.js builds on it). `index.d.ts` types it against
// `schema.d.ts`, which `npm run generate` makes from Usher's OpenAPI document.

/** A failed request, carrying the RFC 9457 problem fields Usher sends. */
export class UsherError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'UsherError';
    this.status = status;
    this.type = problem.type || 'about:blank';
    this.title = problem.title || `Request failed (HTTP ${status})`;
    this.detail = problem.detail || '';
    this.code = problem.code || null;
    this.errors = problem.errors || null;
    this.requestId = problem.requestId || null;
    this.current = problem.current || null;
    this.retryAfter = retryAfter;
  }
}

/** The problem in an error response: its problem+json body, or what can be said without one. */
export async function problemOf(res) {
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

/** Throws an UsherError for a response that is not 2xx. */
export async function check(res) {
  if (res.ok) return res;
  const seconds = Number.parseInt(res.headers.get('retry-after') || '', 10);
  throw new UsherError(res.status, await problemOf(res), Number.isFinite(seconds) ? seconds : null);
}

/** `fetch`, with no answer at all turned into an UsherError of status 0. */
export async function send(fetchImpl, url, init) {
  try {
    return await fetchImpl(url, init);
  } catch (e) {
    throw new UsherError(0, { title: 'Network error', detail: `The service could not be reached (${e.message}).` });
  }
}

/** `/admin/profiles/{id}` with `{ id: 'a b' }` → `/admin/profiles/a%20b`. */
export function fillPath(template, params = {}) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null) throw new TypeError(`missing path parameter ${name} of ${template}`);
    return encodeURIComponent(String(value));
  });
}

/**
 * A client for the Usher at `baseUrl`. `token` is the bearer token, or a
 * function asked before each request (so a session can change it).
 */
export function createClient({ baseUrl, token = null, fetch: fetchImpl = (...args) => globalThis.fetch(...args) } = {}) {
  const bearer = typeof token === 'function' ? token : () => token;

  async function request(method, path, { body, query, path: params, token: explicit } = {}) {
    const url = new URL(fillPath(path, params), baseUrl);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    }
    const headers = { Accept: 'application/json, application/problem+json' };
    const sent = explicit === undefined ? bearer() : explicit;
    if (sent) headers.Authorization = `Bearer ${sent}`;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await check(await send(fetchImpl, url, init));
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    put: (path, body, options) => request('PUT', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),
    delete: (path, options) => request('DELETE', path, options),
  };
}
