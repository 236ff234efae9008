// Calls to the monitoring endpoints with the access token. A data call answering 401 opens the
// token dialog; the token lives in sessionStorage only.
import { $, setConnection } from './dom.js';

const TOKEN_KEY = 'revcopy-enterprise:monitoring-token';

// The page lives at <mount>/dashboard; every endpoint is relative to <mount>, whatever it is.
const mount = location.pathname.replace(/\/dashboard\/?$/, '');
const endpoint = (path) => mount + path;

let token = null;
try {
  token = sessionStorage.getItem(TOKEN_KEY);
} catch {
  // Storage can be disabled; the token then lasts as long as the page.
}
/** Callers waiting for the user to enter a token. */
let tokenWaiters = [];

function authHeaders(extra) {
  const headers = new Headers(extra);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return headers;
}

/** Opens the token dialog (once, however many calls were refused) and resolves on submit. */
function askForToken() {
  const dialog = $('auth-dialog');
  $('auth-error').hidden = !token;
  $('auth-open').hidden = false;
  setConnection('auth', 'Access token required');
  if (!dialog.open) {
    $('auth-token').value = '';
    dialog.showModal();
  }
  return new Promise((resolve) => {
    tokenWaiters.push(resolve);
  });
}

/** Binds the token dialog: its form stores the token and wakes the waiting calls. */
export function initAuth() {
  $('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('auth-token').value.trim();
    if (!value) return;
    token = value;
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
    } catch {
      // See above: without storage the token is kept in memory only.
    }
    $('auth-dialog').close();
    $('auth-open').hidden = true;
    const waiters = tokenWaiters;
    tokenWaiters = [];
    for (const resolve of waiters) resolve();
  });

  $('auth-open').addEventListener('click', () => {
    const dialog = $('auth-dialog');
    if (!dialog.open) dialog.showModal();
  });
}

/** fetch() against the mount point with the token; a 401 asks for a token and tries again. */
export async function api(path, init = {}) {
  for (;;) {
    const response = await fetch(endpoint(path), {
      ...init,
      headers: authHeaders(init.headers),
      cache: 'no-store',
      credentials: 'same-origin',
    });
    if (response.status !== 401) return response;
    await response.body?.cancel();
    await askForToken();
  }
}

/** The message of an error answer: its JSON `error.message`, else the status line. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body?.error?.message) return body.error.message;
  } catch {
    // Not JSON: the status line says enough.
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}
