// The security view: the security module as it answers (or that it is not enabled).
import { api, errorMessage } from '../api.js';
import { $ } from '../dom.js';
import { tabListeners } from '../tabs.js';

const MODULE_REFRESH_MS = 30_000;

async function loadModule(elementId, path, title) {
  const container = $(elementId);
  try {
    const response = await api(path, { headers: { accept: 'application/json' } });
    if (response.status === 501) {
      container.dataset.state = 'disabled';
      const message = await errorMessage(response);
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = `${title}: module not enabled.`;
      const hint = document.createElement('p');
      hint.className = 'hint';
      hint.textContent = message;
      container.replaceChildren(p, hint);
      return;
    }
    if (!response.ok) throw new Error(await errorMessage(response));
    const body = await response.json();
    container.dataset.state = 'enabled';
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(body, null, 2);
    container.replaceChildren(pre);
  } catch (error) {
    container.dataset.state = 'error';
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = `${title} could not be loaded: ${error.message}`;
    container.replaceChildren(p);
  }
}

function loadModules() {
  void loadModule('security', '/security/monitoring', 'Security monitoring');
}

/** Loads the security panel when its view is shown, and refreshes it while it is. */
export function initSecurityView() {
  tabListeners.add((view) => {
    if (view === 'security') loadModules();
  });
  setInterval(() => {
    if (!$('view-security').hidden) loadModules();
  }, MODULE_REFRESH_MS);
}
