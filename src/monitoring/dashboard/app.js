/*
 * The monitoring dashboard's client: a plain browser script, served as a file so the page runs
 * under a strict Content-Security-Policy (no inline script, no eval, no inline style markup).
 *
 * - Live data comes from the Server-Sent Events stream `<mount>/performance/realtime`, read with
 *   fetch() and a streaming reader rather than EventSource, because EventSource cannot send the
 *   `Authorization` header. Reconnects with exponential backoff and `Last-Event-ID`.
 * - A data call answering 401 opens the token dialog; the token lives in sessionStorage only.
 * - Every value reaches the DOM through textContent: snapshot data is never parsed as HTML.
 * - Every section of a snapshot may be missing or null (a module not in use): views say so.
 */
(() => {
  const TOKEN_KEY = 'revcopy-enterprise:monitoring-token';
  /** Points kept per chart: five minutes at the default one snapshot per second. */
  const HISTORY = 300;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30_000;
  /** A stream silent this long (no snapshot, no heartbeat) is presumed dead and reopened. */
  const STALL_MS = 45_000;
  const MODULE_REFRESH_MS = 30_000;

  // The page lives at <mount>/dashboard; every endpoint is relative to <mount>, whatever it is.
  const mount = location.pathname.replace(/\/dashboard\/?$/, '');
  const endpoint = (path) => mount + path;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- formatting

  const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

  function fmtNumber(value) {
    return isNumber(value) ? numberFormat.format(value) : '–';
  }

  function fmtInteger(value) {
    return isNumber(value) ? integerFormat.format(value) : '–';
  }

  function fmtMs(value) {
    if (!isNumber(value)) return '–';
    if (value >= 1000) return `${numberFormat.format(value / 1000)} s`;
    if (value >= 10 || value === 0) return `${integerFormat.format(value)} ms`;
    return `${value.toFixed(value < 1 ? 2 : 1)} ms`;
  }

  function fmtPercent(value) {
    return isNumber(value) ? `${numberFormat.format(value)} %` : '–';
  }

  /** A 0..1 ratio as a percentage. */
  function fmtRatio(value) {
    return isNumber(value) ? `${numberFormat.format(value * 100)} %` : '–';
  }

  function fmtBytes(value) {
    if (!isNumber(value)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let n = value;
    let unit = 0;
    while (n >= 1024 && unit < units.length - 1) {
      n /= 1024;
      unit += 1;
    }
    return `${numberFormat.format(n)} ${units[unit]}`;
  }

  function fmtUptime(seconds) {
    if (!isNumber(seconds)) return '–';
    const s = Math.floor(seconds);
    const d = Math.floor(s / 86_400);
    const h = Math.floor((s % 86_400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d}d ${h}h ${m}m`;
    if (h > 0) return `${h}h ${m}m ${s % 60}s`;
    if (m > 0) return `${m}m ${s % 60}s`;
    return `${s}s`;
  }

  /** Epoch milliseconds or an ISO string to epoch milliseconds (NaN when neither). */
  function toEpochMs(value) {
    if (isNumber(value)) return value;
    if (typeof value === 'string') return Date.parse(value);
    return Number.NaN;
  }

  function fmtTime(value) {
    const ms = toEpochMs(value);
    return Number.isFinite(ms) ? new Date(ms).toLocaleTimeString() : '–';
  }

  function fmtDateTime(value) {
    const ms = toEpochMs(value);
    return Number.isFinite(ms) ? new Date(ms).toLocaleString() : '–';
  }

  function fmtLabels(labels) {
    if (!labels || typeof labels !== 'object') return '';
    return Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
  }

  /** A record `{ name: {...} }` or an array `[{ name, ... }]` as an array of objects with `name`. */
  function asNamedList(value) {
    if (Array.isArray(value)) return value.filter((item) => item && typeof item === 'object');
    if (value && typeof value === 'object') {
      return Object.entries(value).map(([name, item]) => ({ name, ...item }));
    }
    return [];
  }

  function ratioOf(item) {
    if (isNumber(item.hitRatio)) return item.hitRatio;
    const total = (item.hits ?? 0) + (item.misses ?? 0);
    return total > 0 ? item.hits / total : null;
  }

  // ---------------------------------------------------------------- DOM helpers

  function setText(id, text) {
    const element = $(id);
    if (element && element.textContent !== text) element.textContent = text;
  }

  function badge() {
    const span = document.createElement('span');
    span.className = 'badge';
    return span;
  }

  /** `tone` picks the colour when the text is not itself a health word (a circuit state, say). */
  function updateBadge(span, status, tone) {
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

  function num(text) {
    return { kind: 'num', text };
  }

  /**
   * Brings a table body in line with `items`: rows are keyed, reused and reordered rather than
   * rebuilt, so focus and in-progress actions survive the once-a-second refresh.
   */
  function syncTable(tableId, emptyId, items, keyOf, cellsOf) {
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

  // ---------------------------------------------------------------- auth

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

  /** fetch() against the mount point with the token; a 401 asks for a token and tries again. */
  async function api(path, init = {}) {
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

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body?.error?.message) return body.error.message;
    } catch {
      // Not JSON: the status line says enough.
    }
    return `HTTP ${response.status} ${response.statusText}`.trim();
  }

  // ---------------------------------------------------------------- connection state

  function setConnection(state, text) {
    const element = $('connection');
    element.dataset.state = state;
    if (element.textContent !== text) element.textContent = text;
  }

  // ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern)

  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const tabListeners = new Set();

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

  function selectFromHash() {
    const tab = $(`tab-${location.hash.slice(1)}`);
    if (tab && tabs.includes(tab)) selectTab(tab, false);
  }
  window.addEventListener('hashchange', selectFromHash);

  // ---------------------------------------------------------------- charts (uPlot)

  const series = { t: [], rate: [], p50: [], p95: [], p99: [], cpu: [], eld: [] };
  /** `system.sampledAt` of the last system point: the sampler may be slower than the stream. */
  let lastSystemSample = null;

  function pushHistory(snapshot) {
    const ms = toEpochMs(snapshot.time);
    const t = (Number.isFinite(ms) ? ms : Date.now()) / 1000;
    const requests = snapshot.performance?.requests ?? {};
    const system = snapshot.system ?? {};
    const last = series.t.length - 1;
    // A reconnect may replay the same snapshot time; keep the x axis strictly increasing.
    if (last >= 0 && t <= series.t[last]) return;
    // A system sample repeated by several snapshots is drawn once; the line spans the gaps.
    const freshSystem = system.sampledAt !== lastSystemSample;
    lastSystemSample = system.sampledAt;
    const values = {
      t,
      rate: isNumber(requests.rate) ? requests.rate : null,
      p50: isNumber(requests.p50) ? requests.p50 : null,
      p95: isNumber(requests.p95) ? requests.p95 : null,
      p99: isNumber(requests.p99) ? requests.p99 : null,
      cpu: freshSystem && isNumber(system.cpu?.percent) ? system.cpu.percent : null,
      eld:
        freshSystem && isNumber(system.eventLoop?.delayP99Ms) ? system.eventLoop.delayP99Ms : null,
    };
    for (const [key, value] of Object.entries(values)) {
      series[key].push(value);
      if (series[key].length > HISTORY) series[key].shift();
    }
  }

  function palette() {
    const style = getComputedStyle(document.documentElement);
    const read = (name) => style.getPropertyValue(name).trim();
    return {
      text: read('--muted'),
      grid: read('--grid'),
      s1: read('--series-1'),
      s2: read('--series-2'),
      s3: read('--series-3'),
    };
  }

  /** Value scales start at zero so a small wobble does not look like a cliff. */
  const fromZero = { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };

  const chartDefs = {
    'chart-rate': {
      data: () => [series.t, series.rate],
      series: (c) => [
        {
          label: 'req/s',
          stroke: c.s1,
          fill: `${c.s1}22`,
          width: 2,
          value: (_u, v) => fmtNumber(v),
        },
      ],
      scales: { y: fromZero },
      axes: [{ values: (_u, ticks) => ticks.map((v) => fmtNumber(v)), size: 60 }],
    },
    'chart-latency': {
      data: () => [series.t, series.p50, series.p95, series.p99],
      series: (c) => [
        { label: 'p50', stroke: c.s1, width: 2, value: (_u, v) => fmtMs(v) },
        { label: 'p95', stroke: c.s2, width: 2, value: (_u, v) => fmtMs(v) },
        { label: 'p99', stroke: c.s3, width: 2, value: (_u, v) => fmtMs(v) },
      ],
      scales: { y: fromZero },
      axes: [{ values: (_u, ticks) => ticks.map((v) => fmtMs(v)), size: 70 }],
    },
    'chart-system': {
      data: () => [series.t, series.cpu, series.eld],
      series: (c) => [
        {
          label: 'CPU',
          scale: '%',
          stroke: c.s1,
          width: 2,
          spanGaps: true,
          value: (_u, v) => fmtPercent(v),
        },
        {
          label: 'Loop delay p99',
          scale: 'ms',
          stroke: c.s2,
          width: 2,
          spanGaps: true,
          value: (_u, v) => fmtMs(v),
        },
      ],
      scales: { '%': fromZero, ms: fromZero },
      axes: [
        { scale: '%', values: (_u, ticks) => ticks.map((v) => `${fmtNumber(v)} %`), size: 60 },
        {
          scale: 'ms',
          side: 1,
          grid: { show: false },
          values: (_u, ticks) => ticks.map((v) => fmtMs(v)),
          size: 70,
        },
      ],
    },
  };

  /** Live uPlot instances by container id, created when their view is first visible. */
  const charts = new Map();

  function chartOptions(def, width) {
    const c = palette();
    const axis = (extra) => ({
      stroke: c.text,
      grid: { stroke: c.grid, width: 1 },
      ticks: { stroke: c.grid, width: 1 },
      ...extra,
    });
    return {
      width,
      height: 220,
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least 30 s wide, so the first points do not fill the chart with milliseconds.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
        ...def.scales,
      },
      series: [{}, ...def.series(c)],
      axes: [axis({}), ...def.axes.map((extra) => axis(extra))],
    };
  }

  function renderCharts() {
    // No chart before the first snapshot: an empty time axis would start at 1970.
    if (typeof window.uPlot !== 'function' || series.t.length === 0) return;
    for (const [id, def] of Object.entries(chartDefs)) {
      const container = $(id);
      const width = container.clientWidth;
      if (width === 0) continue; // In a hidden view; drawn when shown.
      let chart = charts.get(id);
      if (!chart) {
        chart = new window.uPlot(chartOptions(def, width), def.data(), container);
        charts.set(id, chart);
      } else {
        if (Math.abs(chart.width - width) > 1) chart.setSize({ width, height: 220 });
        chart.setData(def.data());
      }
    }
  }

  function resetCharts() {
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    renderCharts();
  }

  tabListeners.add(() => renderCharts());
  window.addEventListener('resize', () => renderCharts());
  // Colours come from CSS custom properties; a scheme switch redraws the charts with the new ones.
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', resetCharts);

  // ---------------------------------------------------------------- views

  function renderHeader(snapshot) {
    updateBadge($('overall-status'), snapshot.health?.status);
    setText('uptime', fmtUptime(snapshot.uptimeSeconds));
    setText('updated', fmtTime(snapshot.time));
    document.body.dataset.seq = String(snapshot.seq ?? '');
  }

  function renderHealth(snapshot) {
    const system = snapshot.system ?? {};
    setText('cpu', fmtPercent(system.cpu?.percent));
    setText('memory-rss', fmtBytes(system.memory?.rss));
    setText(
      'memory-heap',
      `heap ${fmtBytes(system.memory?.heapUsed)} of ${fmtBytes(system.memory?.heapTotal)}`,
    );
    setText('eld-p99', fmtMs(system.eventLoop?.delayP99Ms));
    setText(
      'eld-detail',
      `p50 ${fmtMs(system.eventLoop?.delayP50Ms)} · max ${fmtMs(system.eventLoop?.delayMaxMs)}`,
    );
    setText('elu', fmtRatio(system.eventLoop?.utilization));
    syncTable(
      'components',
      'components-empty',
      asNamedList(snapshot.health?.components),
      (c) => c.name,
      (c) => [
        String(c.name),
        { kind: 'badge', status: c.status },
        c.critical ? 'yes' : 'no',
        num(fmtMs(c.latencyMs)),
        c.message ?? '',
      ],
    );
  }

  function renderPerformance(snapshot) {
    const requests = snapshot.performance?.requests ?? {};
    setText('req-rate', fmtNumber(requests.rate));
    setText('req-p50', fmtMs(requests.p50));
    setText('req-p95', fmtMs(requests.p95));
    setText('req-p99', fmtMs(requests.p99));
    setText('req-errors', fmtInteger(requests.errors));
    setText(
      'req-errors-hint',
      isNumber(requests.count)
        ? `${fmtRatio(requests.errorRate)} of ${fmtInteger(requests.count)} in the last minute`
        : '',
    );
    syncTable(
      'operations',
      'operations-empty',
      asNamedList(snapshot.performance?.operations),
      (op) => `${op.name} ${fmtLabels(op.labels)}`,
      (op) => [
        { kind: 'code', text: String(op.name) },
        fmtLabels(op.labels),
        num(fmtInteger(op.count)),
        num(fmtInteger(op.errors)),
        num(fmtMs(op.p50)),
        num(fmtMs(op.p95)),
        num(fmtMs(op.p99)),
        num(fmtMs(op.max)),
      ],
    );
  }

  /** A module's figures, or null when the instance has none or has not built it yet. */
  function builtOrNull(figures) {
    return figures && figures.enabled !== false ? figures : null;
  }

  function renderCache(snapshot) {
    const cache = builtOrNull(snapshot.cache);
    $('cache-disabled').hidden = Boolean(cache);
    $('cache-content').hidden = !cache;
    if (!cache) return;
    setText('cache-ratio', fmtRatio(ratioOf(cache)));
    setText('cache-counts', `${fmtInteger(cache.hits)} hits · ${fmtInteger(cache.misses)} misses`);
    syncTable(
      'cache-tiers',
      null,
      asNamedList(cache.tiers),
      (tier) => tier.name,
      (tier) => [
        String(tier.name),
        { kind: 'ratio', ratio: ratioOf(tier) },
        num(fmtInteger(tier.hits)),
        num(fmtInteger(tier.misses)),
        num(fmtInteger(tier.errors)),
        num(fmtInteger(tier.timeouts)),
        num(fmtMs(tier.latencyP95Ms)),
        // The breaker's states, in the health palette: closed is the healthy one.
        {
          kind: 'badge',
          status: tier.circuit,
          tone: { closed: 'ok', 'half-open': 'degraded', open: 'down' }[tier.circuit],
        },
      ],
    );
    syncTable(
      'cache-namespaces',
      'cache-namespaces-empty',
      asNamedList(cache.namespaces),
      (ns) => ns.name,
      (ns) => [
        String(ns.name),
        { kind: 'ratio', ratio: ratioOf(ns) },
        num(fmtInteger(ns.hits)),
        num(fmtInteger(ns.misses)),
        num(fmtInteger(ns.staleServed)),
        num(fmtInteger(ns.loaderErrors)),
      ],
    );
  }

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

  function renderTasks(snapshot) {
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

  function renderSnapshot(snapshot) {
    // Each view is independent: a section the client does not understand must not blank the rest.
    for (const render of [
      renderHeader,
      renderHealth,
      renderPerformance,
      renderCache,
      renderTasks,
    ]) {
      try {
        render(snapshot);
      } catch (error) {
        console.error(`dashboard: ${render.name} failed`, error);
      }
    }
    pushHistory(snapshot);
    renderCharts();
  }

  // ---------------------------------------------------------------- security and alerts

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
    void loadModule('alerts', '/alerts', 'Alerts');
  }

  tabListeners.add((view) => {
    if (view === 'security') loadModules();
  });
  setInterval(() => {
    if (!$('view-security').hidden) loadModules();
  }, MODULE_REFRESH_MS);

  // ---------------------------------------------------------------- the live stream

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Reads one SSE response to its end, calling `onEvent` per dispatched event. */
  async function readEvents(response, onEvent, onActivity) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { type: '', data: [], id: null };
    const dispatch = () => {
      if (event.data.length > 0) {
        onEvent({ type: event.type || 'message', data: event.data.join('\n'), id: event.id });
      }
      event = { type: '', data: [], id: null };
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onActivity();
      let text = buffer + value;
      // Lines end in \n, \r\n or \r. A trailing \r waits for the next chunk, which may start with
      // the \n of the same line end; the last piece may be an incomplete line, which waits too.
      let held = '';
      if (text.endsWith('\r')) {
        held = '\r';
        text = text.slice(0, -1);
      }
      const lines = text.split(/\r\n|\r|\n/);
      buffer = (lines.pop() ?? '') + held;
      for (const line of lines) {
        if (line === '') {
          dispatch();
          continue;
        }
        if (line.startsWith(':')) continue; // A heartbeat comment.
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let data = colon === -1 ? '' : line.slice(colon + 1);
        if (data.startsWith(' ')) data = data.slice(1);
        if (field === 'data') event.data.push(data);
        else if (field === 'event') event.type = data;
        else if (field === 'id' && !data.includes('\0')) event.id = data;
        else if (field === 'retry' && /^\d+$/.test(data))
          onEvent({ type: 'retry', ms: Number(data) });
      }
    }
  }

  async function stream() {
    let lastEventId = null;
    let baseDelay = BACKOFF_MIN_MS;
    let delay = baseDelay;
    // The page's lifetime loop: every pass opens the stream once, then waits before the next.
    for (;;) {
      setConnection('connecting', lastEventId === null ? 'Connecting…' : 'Reconnecting…');
      const controller = new AbortController();
      let stall = null;
      const onActivity = () => {
        clearTimeout(stall);
        stall = setTimeout(() => controller.abort(), STALL_MS);
      };
      try {
        const headers = { accept: 'text/event-stream' };
        if (lastEventId !== null) headers['last-event-id'] = lastEventId;
        const response = await api('/performance/realtime', {
          headers,
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(await errorMessage(response));
        setConnection('live', 'Live');
        onActivity();
        await readEvents(
          response,
          (event) => {
            if (event.type === 'retry') {
              baseDelay = Math.max(BACKOFF_MIN_MS, Math.min(BACKOFF_MAX_MS, event.ms));
              return;
            }
            if (event.id !== null) lastEventId = event.id;
            if (event.type !== 'snapshot') return;
            delay = baseDelay;
            setConnection('live', 'Live');
            renderSnapshot(JSON.parse(event.data));
          },
          onActivity,
        );
        setConnection('connecting', 'Stream ended; reconnecting…');
      } catch (error) {
        const reason = controller.signal.aborted ? 'stream stalled' : error.message;
        setConnection(
          'error',
          `Disconnected (${reason}); retrying in ${Math.round(delay / 1000)} s`,
        );
      } finally {
        clearTimeout(stall);
      }
      // Jitter spreads the reconnects of many open dashboards after a server restart.
      await sleep(delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(BACKOFF_MAX_MS, delay * 2);
    }
  }

  // ---------------------------------------------------------------- start

  selectFromHash();
  if (!location.hash) selectTab(tabs[0], false);
  void stream();
})();
