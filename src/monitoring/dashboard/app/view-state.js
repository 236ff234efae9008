// The scope (this instance or the whole deployment) and the time range (live, 1 h, 24 h, 7 d) the
// charts show, chosen in the header; views listen for changes.
import { $ } from './dom.js';

/** Range name -> span in ms and the step of its points (a whole number of minutes, hours for 7 d). */
export const RANGES = {
  live: null,
  '1h': { spanMs: 3_600_000, step: '1m' },
  '24h': { spanMs: 86_400_000, step: '15m' },
  '7d': { spanMs: 7 * 86_400_000, step: '1h' },
};
/** In live mode with the cluster scope, the deployment's last minutes (minutes are written as they close). */
export const LIVE_CLUSTER = { spanMs: 30 * 60_000, step: '1m' };

export const state = { scope: 'instance', range: 'live' };
/** Called with the state whenever the scope or the range changes. */
export const stateListeners = new Set();

function press(group, value) {
  for (const button of document.querySelectorAll(`[data-${group}]`)) {
    button.setAttribute('aria-pressed', String(button.dataset[group] === value));
  }
}

function set(key, value) {
  if (state[key] === value) return;
  state[key] = value;
  press(key, value);
  for (const listener of stateListeners) listener(state);
}

/** Binds the scope switch and the range picker of the header. */
export function initViewState() {
  for (const button of document.querySelectorAll('[data-scope]')) {
    button.addEventListener('click', () => set('scope', button.dataset.scope));
  }
  for (const button of document.querySelectorAll('[data-range]')) {
    button.addEventListener('click', () => set('range', button.dataset.range));
  }
  press('scope', state.scope);
  press('range', state.range);
}

/** Whether the charts follow the stream of this instance (else they read the history). */
export function chartsAreLive() {
  return state.range === 'live' && state.scope === 'instance';
}

/** Shows a message about the scope (an error answer of a cluster call), or hides it with ''. */
export function setScopeNotice(text) {
  const notice = $('scope-notice');
  notice.textContent = text;
  notice.hidden = !text;
}
