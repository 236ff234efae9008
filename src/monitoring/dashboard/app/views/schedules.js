// The schedules view: every schedule of the deployment (registered in code or added at run time)
// with Pause / Resume, Run now and Remove, and a form to add one. Read from `<mount>/schedules`
// while the view is shown, every few seconds and after each action.
import { api, errorMessage } from '../api.js';
import { $, setText, syncTable } from '../dom.js';
import { fmtDateTime, fmtNumber } from '../format.js';
import { tabListeners } from '../tabs.js';

const REFRESH_MS = 5_000;
const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };
const visible = () => !$('view-schedules').hidden;

function showError(text) {
  const element = $('schedules-error');
  element.hidden = !text;
  if (element.textContent !== text) element.textContent = text;
}

/** "cron 0 2 * * * (UTC)" or "every 5 min". */
function whenText(schedule) {
  if (schedule.kind === 'every') {
    const ms = schedule.everyMs;
    if (ms >= 3_600_000) return `every ${fmtNumber(ms / 3_600_000)} h`;
    if (ms >= 60_000) return `every ${fmtNumber(ms / 60_000)} min`;
    return `every ${fmtNumber(ms / 1000)} s`;
  }
  return schedule.timezone ? `${schedule.cron} (${schedule.timezone})` : String(schedule.cron);
}

const ACTIONS = {
  pause: { label: 'Pause', busy: 'Pausing…', done: 'paused' },
  resume: { label: 'Resume', busy: 'Resuming…', done: 'resumed' },
  run: { label: 'Run now', busy: 'Submitting…', done: 'submitted' },
  remove: { label: 'Remove', busy: 'Removing…', done: 'removed' },
};

function actionButton(schedule, verb) {
  const action = ACTIONS[verb];
  return (button) => {
    if (!button.dataset.bound) {
      button.dataset.bound = 'true';
      button.dataset.verb = verb;
      button.addEventListener('click', () => void act(button));
    }
    button.classList.add('row-action');
    button.dataset.schedule = schedule.name;
    button.setAttribute('aria-label', `${action.label} ${schedule.name}`);
    const busy = button.dataset.busy === 'true';
    button.disabled = busy;
    button.textContent = busy ? action.busy : action.label;
  };
}

/** The action cell: Pause or Resume (by state), Run now, Remove. */
function actionsCell(schedule) {
  return {
    kind: 'button',
    update: (first) => {
      const cell = first.parentElement;
      const verbs = [schedule.paused ? 'resume' : 'pause', 'run', 'remove'];
      while (cell.children.length < verbs.length) {
        const button = document.createElement('button');
        button.type = 'button';
        cell.append(button);
      }
      verbs.forEach((verb, i) => {
        const button = cell.children[i];
        if (button.dataset.verb && button.dataset.verb !== verb) {
          // Pause became Resume (or back): a fresh button, bound to its own verb.
          const fresh = document.createElement('button');
          fresh.type = 'button';
          const hadFocus = document.activeElement === button;
          button.replaceWith(fresh);
          actionButton(schedule, verb)(fresh);
          if (hadFocus) fresh.focus();
        } else actionButton(schedule, verb)(button);
      });
    },
  };
}

async function act(button) {
  const { verb, schedule: name } = button.dataset;
  const action = ACTIONS[verb];
  button.dataset.busy = 'true';
  button.disabled = true;
  button.textContent = action.busy;
  const path = `/schedules/${encodeURIComponent(name)}`;
  try {
    const response = await api(verb === 'remove' ? path : `${path}/${verb}`, {
      method: verb === 'remove' ? 'DELETE' : 'POST',
      headers: JSON_HEADERS,
      ...(verb === 'remove' ? {} : { body: '{}' }),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const result = await response.json();
    const task = result.taskId ? ` (task ${result.taskId})` : '';
    setText('schedules-status', `${name} ${action.done}${task}.`);
  } catch (error) {
    setText('schedules-status', `${name} could not be ${action.done}: ${error.message}`);
  } finally {
    delete button.dataset.busy;
    button.disabled = false;
    button.textContent = action.label;
    void reload();
  }
}

function render(list) {
  $('schedules-disabled').hidden = true;
  $('schedules-content').hidden = false;
  syncTable(
    'schedules-list',
    'schedules-empty',
    list.schedules,
    (schedule) => schedule.name,
    (schedule) => [
      { kind: 'code', text: schedule.name },
      { kind: 'code', text: schedule.taskName },
      whenText(schedule),
      schedule.paused
        ? { kind: 'badge', status: 'paused', tone: 'degraded' }
        : { kind: 'badge', status: 'active', tone: 'ok' },
      schedule.origin ?? 'code',
      schedule.paused || !schedule.nextRunAt ? '–' : fmtDateTime(schedule.nextRunAt),
      schedule.lastRunAt ? fmtDateTime(schedule.lastRunAt) : 'never',
      actionsCell(schedule),
    ],
  );
}

async function reload() {
  try {
    const response = await api('/schedules', { headers: { accept: 'application/json' } });
    if (response.status === 501) {
      await response.body?.cancel();
      $('schedules-disabled').hidden = false;
      $('schedules-content').hidden = true;
      showError('');
      return;
    }
    if (!response.ok) throw new Error(await errorMessage(response));
    render(await response.json());
    showError('');
  } catch (error) {
    showError(`The schedules could not be read: ${error.message}`);
  }
}

/** "300" -> 300 (seconds); "5m" stays a duration string. */
function everyValue(text) {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

async function add(event) {
  event.preventDefault();
  const name = $('schedule-name').value.trim();
  const task = $('schedule-task').value.trim();
  const kind = $('schedule-kind').value;
  const when = $('schedule-when').value.trim();
  if (!name || !task || !when) return;
  const submit = $('schedule-submit');
  submit.disabled = true;
  try {
    const body = {
      name,
      task,
      ...(kind === 'cron' ? { cron: when } : { every: everyValue(when) }),
    };
    const response = await api('/schedules', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    setText('schedules-status', `${name} added.`);
    $('schedule-form').reset();
  } catch (error) {
    setText('schedules-status', `${name} could not be added: ${error.message}`);
  } finally {
    submit.disabled = false;
    void reload();
  }
}

/** Loads the view when its tab is selected, then every few seconds while it is shown. */
export function initSchedulesView() {
  $('schedule-form').addEventListener('submit', (event) => void add(event));
  tabListeners.add((view) => {
    if (view === 'schedules') void reload();
  });
  setInterval(() => {
    if (visible()) void reload();
  }, REFRESH_MS);
}
