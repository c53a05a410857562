// api.js — the admin API (/api/*) over fetch: the bearer token kept in this
// tab's sessionStorage only (never localStorage, never in the page), JSON in
// and out, and every refusal turned into an ApiError that carries the
// server's own message ({"error":{"code","message"}}).

const KEY = 'seam.console.token';
let unauthorized = () => {};

// An API refusal: status (0 when the server was not reached), code, message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// The token this tab signed in with, or '' when signed out.
export function token() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

// Keeps t as this tab's token (sessionStorage: gone when the tab closes).
export function keepToken(t) {
  sessionStorage.setItem(KEY, t);
}

// Forgets everything this tab kept, the token included.
export function forgetToken() {
  sessionStorage.clear();
}

// Sets fn(error) as what happens when the server refuses the token later (401).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// One request; resolves to the decoded JSON (null for an empty body), throws ApiError.
async function send(method, path, body, bearer) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = 'Bearer ' + bearer;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached; check that seam server is running.');
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
    const message = typeof e.message === 'string' && e.message
      ? e.message
      : `The server answered ${res.status} ${res.statusText || ''}`.trim() + '.';
    throw new ApiError(res.status, typeof e.code === 'string' ? e.code : 'http_' + res.status, message);
  }
  return data;
}

// The JSON answer of `method path` (body sent as JSON when given) with this
// tab's token; throws ApiError, and on a 401 first calls the onUnauthorized function.
export async function api(method, path, body) {
  try {
    return await send(method, path, body, token());
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) unauthorized(e);
    throw e;
  }
}

// Resolves true when the server takes t as the admin token, false on 401;
// throws ApiError for anything else (server unreachable, ...).
export async function checkToken(t) {
  try {
    await send('GET', '/api/health', undefined, t);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}
