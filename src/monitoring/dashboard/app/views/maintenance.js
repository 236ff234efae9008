// The maintenance view: each task's schedule, next run and last result, with a Run now button.
// Read from `<mount>/maintenance` while the view is shown, every few seconds and after a run.
import { api, errorMessage } from '../api.js';
import { $, num, setText, syncTable } from '../dom.js';
import { fmtDateTime, fmtMs } from '../format.js';
import { tabListeners } from '../tabs.js';

const REFRESH_MS = 5_000;
const visible = () => !$('view-maintenance').hidden;

function showError(text) {
  const element = $('maintenance-error');
  element.hidden = !text;
  if (element.textContent !== text) element.textContent = text;
}

/** "deleted 12 · vacuumed 1": the non-zero counts of what a run did. */
function didText(result) {
  if (!result) return '';
  if (!result.ok) return result.error?.message ?? 'failed';
  const parts = Object.entries(result.done ?? {})
    .filter(([, n]) => n !== 0)
    .map(([kind, n]) => `${kind} ${n}`);
  if (parts.length > 0) return parts.join(' · ');
  return result.notes?.[0] ?? 'nothing to do';
}

function runButton(task) {
  return {
    kind: 'button',
    update: (button) => {
      if (!button.dataset.bound) {
        button.dataset.bound = 'true';
        button.dataset.task = task.name;
        button.setAttribute('aria-label', `Run ${task.name} now`);
        button.addEventListener('click', () => runNow(button));
      }
      const running = task.running || button.dataset.busy === 'true';
      button.disabled = running;
      button.textContent = running ? 'Running…' : 'Run now';
    },
  };
}

async function runNow(button) {
  const { task } = button.dataset;
  button.dataset.busy = 'true';
  button.disabled = true;
  button.textContent = 'Running…';
  try {
    const response = await api(`/maintenance/${encodeURIComponent(task)}/run`, {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const result = await response.json();
    setText(
      'maintenance-status',
      result.ok
        ? `${task} ran in ${fmtMs(result.durationMs)}: ${didText(result)}.`
        : `${task} failed: ${result.error?.message ?? 'see the logs'}.`,
    );
  } catch (error) {
    setText('maintenance-status', `${task} could not be run: ${error.message}`);
  } finally {
    delete button.dataset.busy;
    void reload();
  }
}

function render(overview) {
  $('maintenance-disabled').hidden = overview.enabled;
  $('maintenance-content').hidden = !overview.enabled;
  syncTable(
    'maintenance-tasks',
    null,
    overview.tasks,
    (task) => task.name,
    (task) => {
      const last = task.lastResult;
      return [
        { kind: 'code', text: task.name },
        task.schedule === null ? 'not scheduled' : `${task.schedule} (${task.timezone})`,
        task.nextRunAt === null ? '–' : fmtDateTime(task.nextRunAt),
        last ? fmtDateTime(last.startedAt) : 'never',
        last
          ? { kind: 'badge', status: last.ok ? 'ok' : 'failed', tone: last.ok ? 'ok' : 'down' }
          : { kind: 'badge', status: 'not run', tone: 'unknown' },
        num(last ? fmtMs(last.durationMs) : '–'),
        last && !last.ok ? { kind: 'error', text: didText(last) } : didText(last),
        runButton(task),
      ];
    },
  );
}

async function reload() {
  try {
    const response = await api('/maintenance', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(await errorMessage(response));
    render(await response.json());
    showError('');
  } catch (error) {
    showError(`The maintenance tasks could not be read: ${error.message}`);
  }
}

/** Loads the view when its tab is selected, then every few seconds while it is shown. */
export function initMaintenanceView() {
  tabListeners.add((view) => {
    if (view === 'maintenance') void reload();
  });
  setInterval(() => {
    if (visible()) void reload();
  }, REFRESH_MS);
}
