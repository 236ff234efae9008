// The tasks view: queues, their groups, workers, failures and dead letters, with a retry button per
// dead task.
import { api, errorMessage } from '../api.js';
import { $, num, syncTable } from '../dom.js';
import {
  asNamedList,
  builtOrNull,
  fmtDateTime,
  fmtInteger,
  fmtNumber,
  fmtTime,
  fmtUptime,
  isNumber,
} from '../format.js';

/** Dead tasks whose retry was accepted, by `id@finishedAt` (a task that dies again is new). */
const retried = new Set();

function deadKey(task) {
  return `${task.id}@${task.finishedAt ?? ''}`;
}

async function retryDeadTask(task, button) {
  const status = $('dlq-status');
  const label = task.name ? `${task.name} (${task.id})` : task.id;
  button.disabled = true;
  button.textContent = 'Retrying…';
  try {
    const query = task.queue ? `?queue=${encodeURIComponent(task.queue)}` : '';
    const response = await api(`/tasks/dead/${encodeURIComponent(task.id)}/retry${query}`, {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    await response.body?.cancel();
    retried.add(deadKey(task));
    button.textContent = 'Retried';
    const row = button.closest('tr');
    if (row) row.dataset.state = 'retried';
    status.textContent = `Task ${label} was sent back to queue ${task.queue || 'default'}.`;
  } catch (error) {
    button.disabled = false;
    button.textContent = 'Retry';
    status.textContent = `Retry of task ${label} failed: ${error.message}`;
  }
}

/** Renders the tasks section of a snapshot, or says the tasks module is not in use. */
export function renderTasks(snapshot) {
  const tasks = builtOrNull(snapshot.tasks);
  $('tasks-disabled').hidden = Boolean(tasks);
  $('tasks-content').hidden = !tasks;
  if (!tasks) return;
  syncTable(
    'queues',
    'queues-empty',
    asNamedList(tasks.queues),
    (q) => q.name,
    (q) => [
      { kind: 'code', text: String(q.name) },
      num(fmtInteger(q.waiting)),
      num(fmtInteger(q.active)),
      num(fmtInteger(q.delayed)),
      num(fmtInteger(q.blocked)),
      num(fmtInteger(q.completed)),
      num(fmtInteger(q.dead)),
      num(isNumber(q.oldestWaitingSeconds) ? fmtUptime(q.oldestWaitingSeconds) : '–'),
      num(isNumber(q.throughput) ? `${fmtNumber(q.throughput)}/s` : '–'),
      { kind: 'badge', status: q.paused ? 'paused' : 'running' },
    ],
  );
  syncTable(
    'task-groups',
    'task-groups-empty',
    groupRows(asNamedList(tasks.queues)),
    (g) => g.key,
    (g) => [
      String(g.queue),
      { kind: 'code', text: String(g.group) },
      num(fmtInteger(g.waiting)),
      num(fmtInteger(g.active)),
      num(isNumber(g.throughput) ? `${fmtNumber(g.throughput)}/s` : '–'),
      g.limits,
      { kind: 'badge', status: g.state, tone: g.state === 'running' ? 'ok' : 'degraded' },
    ],
  );
  syncTable(
    'workers',
    'workers-empty',
    asNamedList(tasks.workers),
    (w) => w.id,
    (w) => [
      { kind: 'code', text: String(w.id) },
      String(w.queue ?? ''),
      w.host ? `${w.host}${w.pid ? ` (pid ${w.pid})` : ''}` : '',
      { kind: 'badge', status: w.healthy === false ? 'unhealthy' : 'healthy' },
      num(`${fmtInteger(w.active)} / ${fmtInteger(w.concurrency)}`),
      num(fmtInteger(w.processed)),
      num(fmtInteger(w.failed)),
      fmtTime(w.lastHeartbeatAt),
    ],
  );
  syncTable(
    'failures',
    'failures-empty',
    asNamedList(tasks.failures),
    (f) => `${f.name}\u0000${f.error}`,
    (f) => [
      { kind: 'code', text: String(f.name ?? '') },
      { kind: 'error', text: String(f.error ?? '') },
      num(fmtInteger(f.count)),
      fmtDateTime(f.lastAt),
    ],
  );
  syncTable(
    'dead-letters',
    'dead-letters-empty',
    asNamedList(tasks.deadLetters),
    (task) => deadKey(task),
    (task) => [
      { kind: 'code', text: String(task.name || task.id) },
      String(task.queue ?? ''),
      { kind: 'error', text: String(task.error ?? '') },
      num(fmtInteger(task.attempts)),
      fmtDateTime(task.finishedAt),
      {
        kind: 'button',
        update: (button) => {
          // Rows are keyed by task and death, so the handler is bound once per dead task.
          if (button.dataset.bound) return;
          button.dataset.bound = 'true';
          const done = retried.has(deadKey(task));
          button.textContent = done ? 'Retried' : 'Retry';
          button.disabled = done;
          button.setAttribute('aria-label', `Retry task ${task.name || ''} ${task.id}`.trim());
          button.addEventListener('click', () => retryDeadTask(task, button));
        },
      },
    ],
  );
}

/** A rate limit as text (`100 / 1 s`), or '' when there is none. */
function limitText(limit) {
  if (!limit || !isNumber(limit.limit)) return '';
  const per = limit.perMs >= 1000 ? `${fmtNumber(limit.perMs / 1000)} s` : `${limit.perMs} ms`;
  return `${fmtInteger(limit.limit)} / ${per}`;
}

/** One row per listed group of every queue (the deepest ones), then one "other" row per queue. */
function groupRows(queues) {
  const rows = [];
  for (const q of queues) {
    const g = q.groups;
    if (!g) continue;
    const shared = [
      g.rateLimit ? `queue ${limitText(g.rateLimit)}` : '',
      g.groupRateLimit ? `group ${limitText(g.groupRateLimit)}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    for (const t of g.top ?? []) {
      const cap = t.maxConcurrency > 0 ? `max ${t.maxConcurrency}` : '';
      const weight = t.weight !== 1 ? `weight ${fmtNumber(t.weight)}` : '';
      rows.push({
        key: `${q.name}\0${t.group}`,
        queue: q.name,
        group: t.group,
        waiting: t.waiting,
        active: t.active,
        throughput: t.throughput,
        limits: [cap, weight, shared].filter(Boolean).join(' · '),
        state: t.paused ? 'paused' : t.limitedUntil ? 'rate-limited' : 'running',
      });
    }
    if (g.other && g.other.groups > 0) {
      rows.push({
        key: `${q.name}\0\0other`,
        queue: q.name,
        group: `other (${fmtInteger(g.other.groups)})`,
        waiting: g.other.waiting,
        active: g.other.active,
        throughput: null,
        limits: shared,
        state: 'running',
      });
    }
  }
  return rows;
}
