// What the views of an optional module share (alerts, security): whether the instance has the
// module, the view's error line, its JSON read (501: the module is not enabled), reloads that never
// overlap, and reloads folded per burst of stream events.
import { api, errorMessage } from './api.js';
import { $ } from './dom.js';

/**
 * The parts of the view `name`: `view-<name>`, `<name>-content` (shown with the module),
 * `<name>-disabled` (shown without it) and `<name>-error`.
 */
export function moduleView(name) {
  const loadedKey = `${name}Loaded`;
  return {
    visible: () => !$(`view-${name}`).hidden,
    showEnabled(value) {
      $(`${name}-disabled`).hidden = value;
      $(`${name}-content`).hidden = !value;
    },
    showError(text) {
      const element = $(`${name}-error`);
      element.hidden = !text;
      if (element.textContent !== text) element.textContent = text;
    },
    /** Counts a completed read on `<body data-<name>-loaded>`: what the browser tests wait for. */
    countLoad() {
      document.body.dataset[loadedKey] = String(Number(document.body.dataset[loadedKey] ?? 0) + 1);
    },
  };
}

/** GETs `path` as JSON: `null` when it answers 501 (the module is not enabled), throws on an error. */
export async function readModuleJson(path) {
  const response = await api(path, { headers: { accept: 'application/json' } });
  if (response.status === 501) {
    await response.body?.cancel();
    return null;
  }
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

/** `read` as a reload: a call during a read makes one more read after it (never two at once). */
export function coalesced(read) {
  let loading = null;
  let again = false;
  return function reload() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      try {
        do {
          again = false;
          await read();
        } while (again);
      } finally {
        loading = null;
      }
    })();
    return loading;
  };
}

/** `run` once `ms` after the first call of a burst: the calls until it runs join that one. */
export function oncePerBurst(run, ms) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      run();
    }, ms);
  };
}
