// The SDS REST API, as any SDS client calls it: the key goes in the query
// string of each request. The key lives in sessionStorage only (gone when
// the tab closes); it is never put in the page's own URL.

const KEY_ITEM = 'sds.key';

/** `/REST/v1/`, relative to the page (a proxy's path prefix is kept). */
export const restBase = new URL('REST/v1/', document.baseURI);

export function currentKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/** An error answer of the API: HTTP status, SDS result code, message. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }

  get isAuth() {
    return this.status === 401;
  }
}

/** Path segments are encoded one by one: names may hold `/`, `#`, `?`. */
export function path(...segments) {
  return segments.map((segment) => encodeURIComponent(segment)).join('/');
}

/**
 * A URL under `/REST/v1/` with `params` and the key. `relative` may also be
 * an absolute URL the API handed out (a `Location`): only its path and query
 * are kept, so requests stay on this origin (`connect-src 'self'`).
 */
export function apiUrl(relative, params = {}, key = currentKey()) {
  let url;
  if (/^https?:/i.test(relative)) {
    const given = new URL(relative);
    url = new URL(given.pathname + given.search, window.location.origin);
  } else {
    url = new URL(relative, restBase);
  }
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  if (key) url.searchParams.set('key', key);
  return url.toString();
}

/** The error an answer carries: SDS `errorDetails` (JSON or XML), else its text. */
function errorOf(xhr) {
  const status = xhr.status;
  let text = '';
  try {
    text = typeof xhr.response === 'string' ? xhr.response : xhr.responseText;
  } catch (_) {
    text = '';
  }
  let details = '';
  let code = '';
  if (text) {
    try {
      const body = JSON.parse(text);
      details = (body.errorDetails || []).join('; ');
      code = body.authenticationResultCode || '';
    } catch (_) {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const items = [...doc.getElementsByTagName('string'), ...doc.getElementsByTagName('ErrorDetails')];
      details = items.map((item) => item.textContent.trim()).filter(Boolean).join('; ');
      const codeElement = doc.getElementsByTagName('AuthenticationResultCode')[0];
      code = codeElement ? codeElement.textContent : '';
      if (!details) details = text.slice(0, 300);
    }
  }
  if (status === 0) return new ApiError(0, 'The server did not answer (network error or the server stopped).', '');
  const prefix = status === 401 ? 'The key was refused' : `The server answered ${status} ${xhr.statusText}`;
  return new ApiError(status, `${prefix}${code && code !== 'ValidCredentials' ? ` (${code})` : ''}${details ? `: ${details}` : ''}`, code);
}

/**
 * One request (XMLHttpRequest, for its upload and download progress events).
 * Resolves to `{status, body, location}`; rejects with an `ApiError` on a
 * status of 400 or more, or no answer.
 */
export function request(method, url, options = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.responseType = options.responseType || 'text';
    if (options.onUploadProgress) xhr.upload.addEventListener('progress', options.onUploadProgress);
    if (options.onDownloadProgress) xhr.addEventListener('progress', options.onDownloadProgress);
    if (options.contentType) xhr.setRequestHeader('Content-Type', options.contentType);
    xhr.addEventListener('load', () => {
      if (xhr.status >= 400) {
        if (xhr.responseType === 'blob' && xhr.response instanceof Blob) {
          xhr.response.text().then((text) => reject(errorOfText(xhr, text)), () => reject(errorOf(xhr)));
        } else {
          reject(errorOf(xhr));
        }
        return;
      }
      resolve({ status: xhr.status, body: xhr.response, location: xhr.getResponseHeader('Location') });
    });
    xhr.addEventListener('error', () => reject(errorOf(xhr)));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The request was cancelled.', '')));
    xhr.send(options.body ?? null);
  });
}

function errorOfText(xhr, text) {
  return errorOf({ status: xhr.status, statusText: xhr.statusText, response: text, responseText: text });
}

/** GET a JSON envelope (`output=json`). */
export async function getJson(relative, params = {}) {
  const answer = await request('GET', apiUrl(relative, { output: 'json', ...params }));
  return { ...answer, body: answer.body ? JSON.parse(answer.body) : null };
}

/** GET a text answer (Atom, EDMX, failed rows). */
export async function getText(relative, params = {}) {
  return request('GET', apiUrl(relative, params));
}

/** Checks a key: the account's data source list answers 200 for a valid one. */
export async function checkKey(key) {
  await request('GET', apiUrl('data', {}, key));
}

export const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));
