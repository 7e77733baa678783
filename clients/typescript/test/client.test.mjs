// The wrapper's behaviour with a recorded fetch: what it sends, and how
// every kind of failure becomes an UsherError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, UsherError } from '../index.js';

/** A fetch that records its calls and answers with `answer(url, init)`. */
function fake(answer) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), init });
    return answer(url, init);
  };
  return { fetch, calls };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

test('sends JSON with the bearer token, fills path parameters and the query', async () => {
  const { fetch, calls } = fake(() => json(200, { ok: true }));
  let token = 'first';
  const usher = createClient({ baseUrl: 'https://usher.example.com', token: () => token, fetch });
  assert.deepEqual(await usher.post('/organization/create', { name: 'Acme' }), { ok: true });
  token = 'second';
  await usher.get('/admin/profiles/{id}', { path: { id: 'a b/c' }, query: { state: 'submitted', cursor: '', limit: null } });
  await usher.post('/user/get', undefined, { token: 'theirs' });
  await usher.post('/user/get', undefined, { token: null });

  assert.equal(calls[0].url, 'https://usher.example.com/organization/create');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers.Authorization, 'Bearer first');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.body, '{"name":"Acme"}');
  assert.equal(calls[1].url, 'https://usher.example.com/admin/profiles/a%20b%2Fc?state=submitted');
  assert.equal(calls[1].init.headers.Authorization, 'Bearer second', 'the token is asked for at each request');
  assert.equal(calls[1].init.body, undefined);
  assert.equal(calls[2].init.headers.Authorization, 'Bearer theirs');
  assert.equal(calls[3].init.headers.Authorization, undefined);
});

test('a missing path parameter is refused before anything is sent', async () => {
  const { fetch, calls } = fake(() => json(200, {}));
  const usher = createClient({ baseUrl: 'https://usher.example.com', fetch });
  await assert.rejects(usher.get('/admin/profiles/{id}', {}), /missing path parameter id/);
  assert.equal(calls.length, 0);
});

test('a problem+json answer becomes an UsherError with its fields and Retry-After', async () => {
  const problem = {
    type: 'about:blank',
    title: 'Too many requests',
    status: 429,
    detail: 'wait a minute',
    code: 'invitation.accept_rate_limited',
    requestId: '01a2',
  };
  const { fetch } = fake(() => json(429, problem, { 'content-type': 'application/problem+json', 'retry-after': '42' }));
  const usher = createClient({ baseUrl: 'https://usher.example.com', fetch });
  const err = await usher.post('/invitation/accept', { token: 't' }).catch((e) => e);
  assert.ok(err instanceof UsherError);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'invitation.accept_rate_limited');
  assert.equal(err.title, 'Too many requests');
  assert.equal(err.detail, 'wait a minute');
  assert.equal(err.message, 'wait a minute');
  assert.equal(err.requestId, '01a2');
  assert.equal(err.retryAfter, 42);
});

test('an answer that is not problem+json, and no answer at all, are UsherErrors too', async () => {
  const html = fake(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
  const err = await createClient({ baseUrl: 'https://u.example', fetch: html.fetch }).get('/healthz').catch((e) => e);
  assert.ok(err instanceof UsherError);
  assert.equal(err.status, 502);
  assert.equal(err.title, 'Bad Gateway');
  assert.equal(err.detail, '<h1>Bad gateway</h1>');
  assert.equal(err.code, null);

  const down = fake(() => {
    throw new TypeError('fetch failed');
  });
  const gone = await createClient({ baseUrl: 'https://u.example', fetch: down.fetch }).get('/healthz').catch((e) => e);
  assert.ok(gone instanceof UsherError);
  assert.equal(gone.status, 0);
  assert.equal(gone.title, 'Network error');
  assert.match(gone.detail, /fetch failed/);
});

test('204 and an empty body resolve with null', async () => {
  const { fetch } = fake((url) => (String(url).endsWith('/remove') ? new Response(null, { status: 204 }) : new Response('', { status: 200 })));
  const usher = createClient({ baseUrl: 'https://u.example', fetch });
  assert.equal(await usher.post('/user/avatar/remove', undefined), null);
  assert.equal(await usher.get('/healthz'), null);
});
