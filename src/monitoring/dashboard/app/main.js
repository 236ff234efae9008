/*
 * The monitoring dashboard's client: a plain browser script, served as a file so the page runs
 * under a strict Content-Security-Policy (no inline script, no eval, no inline style markup).
 * This is its entry: scripts/build-dashboard.mjs bundles it with the modules it imports into the
 * one served `app.js`.
 *
 * - Live data comes from the Server-Sent Events stream (stream.js): a snapshot every interval, an
 *   `alert` event whenever an alert changes state, and `security` events (threats, bans...).
 * - A data call answering 401 opens the token dialog (api.js).
 * - Every value reaches the DOM through textContent: snapshot data is never parsed as HTML.
 * - Every section of a snapshot may be missing or null (a module not in use): views say so.
 */
import { initAuth } from './api.js';
import { initCharts, pushHistory, renderCharts } from './charts.js';
import { stream } from './stream.js';
import { initTabs, showInitialTab } from './tabs.js';
import { initViewState } from './view-state.js';
import { initAlertsView, onAlertEvent, renderAlertsSummary } from './views/alerts.js';
import { initAnalyticsView } from './views/analytics.js';
import { renderCache } from './views/cache.js';
import { initClusterView } from './views/cluster.js';
import { renderHeader } from './views/header.js';
import { renderHealth } from './views/health.js';
import { initMaintenanceView } from './views/maintenance.js';
import { renderPerformance } from './views/performance.js';
import { initSchedulesView } from './views/schedules.js';
import { initSecurityView, onSecurityEvent, renderSecuritySummary } from './views/security.js';
import { renderTasks } from './views/tasks.js';

function renderSnapshot(snapshot) {
  // Each view is independent: a section the client does not understand must not blank the rest.
  for (const render of [
    renderHeader,
    renderHealth,
    renderPerformance,
    renderCache,
    renderTasks,
    renderAlertsSummary,
    renderSecuritySummary,
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

initAuth();
initTabs();
initViewState();
initCharts();
initClusterView();
initSecurityView();
initAlertsView();
initMaintenanceView();
initSchedulesView();
initAnalyticsView();
showInitialTab();
void stream(renderSnapshot, onAlertEvent, onSecurityEvent);
