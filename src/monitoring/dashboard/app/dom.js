// DOM helpers of every view. Values reach the page through textContent only: snapshot data is
// never parsed as HTML.
import { fmtRatio, isNumber } from './format.js';

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** Sets an element's text, leaving the DOM alone when it is unchanged. */
export function setText(id, text) {
  const element = $(id);
  if (element && element.textContent !== text) element.textContent = text;
}

function badge() {
  const span = document.createElement('span');
  span.className = 'badge';
  return span;
}

/** `tone` picks the colour when the text is not itself a health word (a circuit state, say). */
export function updateBadge(span, status, tone) {
  const text = status === undefined || status === null ? 'unknown' : String(status);
  if (span.textContent !== text) span.textContent = text;
  span.dataset.status = (tone ?? text).toLowerCase();
}

/**
 * Cell kinds a table row is described with. Plain strings are text cells; the others are
 * objects so a row can be updated in place (a re-render must not steal keyboard focus from a
 * button the user is on).
 */
function renderCell(td, spec) {
  const kind = typeof spec === 'object' && spec !== null ? spec.kind : 'text';
  if (td.dataset.kind !== kind) {
    td.replaceChildren();
    td.dataset.kind = kind;
    td.className = '';
  }
  if (kind === 'text') {
    const text = spec === undefined || spec === null ? '' : String(spec);
    if (td.textContent !== text) td.textContent = text;
  } else if (kind === 'num') {
    td.className = 'num';
    if (td.textContent !== spec.text) td.textContent = spec.text;
  } else if (kind === 'error') {
    td.className = 'error-text';
    if (td.textContent !== spec.text) td.textContent = spec.text;
  } else if (kind === 'code') {
    let code = td.firstElementChild;
    if (!code) code = td.appendChild(document.createElement('code'));
    if (code.textContent !== spec.text) code.textContent = spec.text;
  } else if (kind === 'badge') {
    const span = td.firstElementChild ?? td.appendChild(badge());
    updateBadge(span, spec.status, spec.tone);
  } else if (kind === 'ratio') {
    let wrap = td.firstElementChild;
    if (!wrap) {
      wrap = document.createElement('div');
      wrap.className = 'ratio';
      const bar = document.createElement('div');
      bar.className = 'ratio-bar';
      const fill = document.createElement('div');
      fill.className = 'ratio-fill';
      bar.append(fill);
      const label = document.createElement('span');
      wrap.append(bar, label);
      td.append(wrap);
    }
    const [bar, label] = wrap.children;
    // Setting element.style from script is CSSOM, which `style-src 'self'` allows.
    bar.firstElementChild.style.width = isNumber(spec.ratio)
      ? `${Math.max(0, Math.min(1, spec.ratio)) * 100}%`
      : '0';
    const text = fmtRatio(spec.ratio);
    if (label.textContent !== text) label.textContent = text;
  } else if (kind === 'button') {
    let button = td.firstElementChild;
    if (!button) {
      button = document.createElement('button');
      button.type = 'button';
      td.append(button);
    }
    spec.update(button);
  }
}

/** A right-aligned numeric cell of a table row. */
export function num(text) {
  return { kind: 'num', text };
}

/**
 * Brings a table body in line with `items`: rows are keyed, reused and reordered rather than
 * rebuilt, so focus and in-progress actions survive the once-a-second refresh.
 */
export function syncTable(tableId, emptyId, items, keyOf, cellsOf) {
  const table = $(tableId);
  if (!table) return;
  const body = table.tBodies[0];
  const existing = new Map();
  for (const row of Array.from(body.rows)) existing.set(row.dataset.key, row);
  let previous = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let row = existing.get(key);
    if (row) existing.delete(key);
    else {
      row = document.createElement('tr');
      row.dataset.key = key;
    }
    const cells = cellsOf(item, row);
    while (row.cells.length < cells.length) row.insertCell();
    while (row.cells.length > cells.length) row.deleteCell(-1);
    cells.forEach((spec, index) => {
      renderCell(row.cells[index], spec);
    });
    const expected = previous ? previous.nextSibling : body.firstChild;
    if (expected !== row) body.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
  table.hidden = items.length === 0;
  if (emptyId) $(emptyId).hidden = items.length > 0;
}

/** The connection indicator of the header: its state (a CSS hook) and text. */
export function setConnection(state, text) {
  const element = $('connection');
  element.dataset.state = state;
  if (element.textContent !== text) element.textContent = text;
}
