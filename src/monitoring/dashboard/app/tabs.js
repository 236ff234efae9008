// The views' tabs, after the WAI-ARIA tabs pattern; the selected view is kept in the URL fragment.
import { $ } from './dom.js';

const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
/** Called with the view's name whenever a tab is selected. */
export const tabListeners = new Set();

function selectTab(tab, focus) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
  const view = tab.id.replace(/^tab-/, '');
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
  for (const listener of tabListeners) listener(view);
}

/** Binds the tabs (click, arrow keys, Home, End) and the URL fragment. */
export function initTabs() {
  for (const tab of tabs) {
    tab.addEventListener('click', () => selectTab(tab, false));
    tab.addEventListener('keydown', (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length];
      else if (event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === 'Home') next = tabs[0];
      else if (event.key === 'End') next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        selectTab(next, true);
      }
    });
  }
  window.addEventListener('hashchange', selectFromHash);
}

function selectFromHash() {
  const tab = $(`tab-${location.hash.slice(1)}`);
  if (tab && tabs.includes(tab)) selectTab(tab, false);
}

/** Shows the view the URL fragment names, else the first. */
export function showInitialTab() {
  selectFromHash();
  if (!location.hash) selectTab(tabs[0], false);
}
