// Types of index.js against the generated schema.d.ts: each path's methods,
// request bodies, path and query parameters and success bodies, and the
// problem an UsherError carries.

import type { components, paths } from './schema.js';

/** The problem+json body of every error answer. */
export type Problem = components['schemas']['Problem'];

/** A failed request: the problem's fields, the status (0 when nothing answered) and `Retry-After` in seconds. */
export declare class UsherError extends Error {
  constructor(status: number, problem: Partial<Problem> & Record<string, unknown>, retryAfter?: number | null);
  readonly name: 'UsherError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The stable error code, e.g. `invitation.used_up`. */
  readonly code: string | null;
  /** Field errors by JSON pointer, for 422 answers. */
  readonly errors: Record<string, string[]> | null;
  readonly requestId: string | null;
  /** The resource as it stands now, for some 409 answers. */
  readonly current: unknown;
  readonly retryAfter: number | null;
}

/** The HTTP methods the API uses. */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The paths that have `M`. */
export type PathsWith<M extends Method> = {
  [P in Extract<keyof paths, string>]: undefined extends paths[P][M] ? never : P;
}[Extract<keyof paths, string>];

/** The operation at `P` with `M`. */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : null;

/** The body of a 2xx answer (`null` for 204 or a non-JSON answer). */
export type Success<O> = O extends { responses: infer R }
  ? { [S in keyof R]: S extends 200 | 201 | 202 | 204 ? JsonOf<R[S]> : never }[keyof R]
  : never;

/** The JSON request body, `undefined` when the operation takes none. */
export type Body<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;

type Defined<T> = [T] extends [never] ? never : [T] extends [undefined] ? never : T;

/** Options of one call: path and query parameters, and a token other than the client's. */
export type Options<O> = {
  path?: O extends { parameters: { path: infer P } } ? Defined<P> : never;
  query?: O extends { parameters: { query?: infer Q } } ? Defined<Q> : never;
  /** Sends this bearer token instead of the client's (`null`: none). */
  token?: string | null;
};

/** A call of a method that sends a JSON body (`undefined` when the operation takes none). */
export type WithBody<M extends Method> = <P extends PathsWith<M>>(
  path: P,
  body: Body<Operation<P, M>>,
  options?: Options<Operation<P, M>>,
) => Promise<Success<Operation<P, M>>>;

/** A call of a method that sends no body. */
export type WithoutBody<M extends Method> = <P extends PathsWith<M>>(
  path: P,
  options?: Options<Operation<P, M>>,
) => Promise<Success<Operation<P, M>>>;

/** The client `createClient` returns. */
export interface UsherClient {
  request<P extends PathsWith<M>, M extends Method>(
    method: Uppercase<M>,
    path: P,
    options?: Options<Operation<P, M>> & { body?: Body<Operation<P, M>> },
  ): Promise<Success<Operation<P, M>>>;
  get: WithoutBody<'get'>;
  post: WithBody<'post'>;
  put: WithBody<'put'>;
  patch: WithBody<'patch'>;
  delete: WithoutBody<'delete'>;
}

/** Creates a client for the Usher at `baseUrl`; `token` is the bearer token or a function returning it. */
export declare function createClient(options: {
  baseUrl: string | URL;
  token?: string | null | (() => string | null | undefined);
  fetch?: typeof globalThis.fetch;
}): UsherClient;

/** The problem in an error response. */
export declare function problemOf(res: Response): Promise<Partial<Problem> & Record<string, unknown>>;
/** Throws an UsherError for a response that is not 2xx; the response otherwise. */
export declare function check(res: Response): Promise<Response>;
/** `fetch`, with no answer at all turned into an UsherError of status 0. */
export declare function send(fetchImpl: typeof globalThis.fetch, url: string | URL, init?: RequestInit): Promise<Response>;
/** Fills `{name}` in a path template with URL-encoded values. */
export declare function fillPath(template: string, params?: Record<string, string | number>): string;

export type { components, paths };
