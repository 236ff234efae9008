// The alerts view: the counts (from every snapshot), the firing and pending alerts with their
// actions, silenced alerts, silences, the recent history and the recommendations. The lists are
// read from `<mount>/alerts` while the view is shown, every few seconds and as soon as the stream
// reports that an alert changed state.
import { api, errorMessage } from '../api.js';
import { $, num, setText, syncTable } from '../dom.js';
import { fmtInteger, fmtNumber, fmtTime, fmtUptime, toEpochMs } from '../format.js';
import { coalesced, moduleView, oncePerBurst, readModuleJson } from '../module-view.js';
import { tabListeners } from '../tabs.js';
import {
  ackButton,
  describeAlert,
  expireButton,
  initAlertActions,
  silenceButton,
} from './alert-actions.js';

const REFRESH_MS = 5_000;
const RECOMMENDATIONS_MS = 30_000;
const HISTORY_SHOWN = 20;
/** Transitions come in bursts (one evaluation): one reload for the burst. */
const EVENT_DEBOUNCE_MS = 250;

const SEVERITY_TONE = { critical: 'down', warning: 'degraded', info: 'unknown' };
/** A silence that mutes alerts now is the one to notice. */
const SILENCE_TONE = { active: 'degraded', pending: 'unknown', expired: 'unknown' };
const STATE_TONE = {
  firing: 'down',
  error: 'down',
  pending: 'degraded',
  nodata: 'degraded',
  resolved: 'ok',
  inactive: 'unknown',
};

const view = moduleView('alerts');
/** Whether the instance has an alerts module, once a snapshot or an answer said so. */
let enabled = null;

function showEnabled(value) {
  enabled = value;
  view.showEnabled(value);
}

/** Renders the alert counts of a snapshot, and the number firing on the tab. */
export function renderAlertsSummary(snapshot) {
  const summary = snapshot.alerts;
  const built = Boolean(summary && summary.enabled !== false);
  const firing = built ? (summary.byState?.firing ?? 0) : 0;
  $('alerts-tab-count').hidden = firing === 0;
  setText('alerts-tab-count', `${firing} firing`);
  if (!summary) return;
  showEnabled(built);
  if (!built) return;
  setText('alerts-firing', fmtInteger(firing));
  const bySeverity = summary.firingBySeverity ?? {};
  setText(
    'alerts-firing-hint',
    ['critical', 'warning', 'info']
      .filter((severity) => bySeverity[severity] > 0)
      .map((severity) => `${bySeverity[severity]} ${severity}`)
      .join(' · '),
  );
  setText('alerts-pending', fmtInteger(summary.byState?.pending));
  setText('alerts-silenced', fmtInteger(summary.silenced));
  setText('alerts-acknowledged', fmtInteger(summary.acknowledged));
}

const severityBadge = (severity) => ({
  kind: 'badge',
  status: severity,
  tone: SEVERITY_TONE[severity] ?? 'unknown',
});
const stateBadge = (state) => ({ kind: 'badge', status: state, tone: STATE_TONE[state] });
const summaryOf = (alert) =>
  alert.annotations?.summary ?? alert.verdict?.reason ?? alert.error ?? '';

/** How long the alert has been firing (or pending), in seconds. */
function ageOf(alert) {
  const since = toEpochMs(alert.state === 'firing' ? alert.firingAt : alert.activeAt);
  return Number.isFinite(since) ? fmtUptime(Math.max(0, (Date.now() - since) / 1000)) : '–';
}

function renderLists(body, silences) {
  const active = [...(body.firing ?? []), ...(body.pending ?? [])];
  syncTable(
    'alerts-active',
    'alerts-active-empty',
    active,
    (alert) => alert.fingerprint,
    (alert) => [
      severityBadge(alert.severity),
      { kind: 'code', text: describeAlert(alert) },
      stateBadge(alert.state),
      num(ageOf(alert)),
      num(fmtNumber(alert.value)),
      summaryOf(alert),
      ackButton(alert, reload),
      silenceButton(alert, reload),
    ],
  );
  syncTable(
    'alerts-silenced-list',
    'alerts-silenced-empty',
    body.silenced ?? [],
    (alert) => alert.fingerprint,
    (alert) => [
      severityBadge(alert.severity),
      { kind: 'code', text: describeAlert(alert) },
      stateBadge(alert.state),
      num(fmtNumber(alert.value)),
      summaryOf(alert),
    ],
  );
  syncTable(
    'silences',
    'silences-empty',
    silences,
    (silence) => silence.id,
    (silence) => [
      {
        kind: 'code',
        text: (silence.matchers ?? []).map((m) => `${m.name}${m.op ?? '='}"${m.value}"`).join(', '),
      },
      { kind: 'badge', status: silence.status, tone: SILENCE_TONE[silence.status] },
      fmtTime(silence.endsAt),
      String(silence.createdBy ?? ''),
      String(silence.comment ?? ''),
      expireButton(silence, reload),
    ],
  );
  syncTable(
    'alerts-history',
    'alerts-history-empty',
    body.history ?? [],
    (t) => `${t.fingerprint}@${t.at}@${t.to}`,
    (t) => [
      fmtTime(t.at),
      { kind: 'code', text: describeAlert(t) },
      `${t.from} → ${t.to}`,
      severityBadge(t.severity),
      num(fmtNumber(t.value)),
    ],
  );
}

async function readSilences() {
  const response = await api('/alerts/silences', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(await errorMessage(response));
  return (await response.json()).silences ?? [];
}

/** One read of the lists; 501 says the module is not enabled. */
async function readAlerts() {
  try {
    const body = await readModuleJson(`/alerts?limit=${HISTORY_SHOWN}`);
    if (body === null) {
      showEnabled(false);
      view.showError('');
      return;
    }
    const silences = await readSilences();
    showEnabled(true);
    view.showError('');
    renderLists(body, silences);
    view.countLoad();
  } catch (error) {
    view.showError(`The alerts could not be loaded: ${error.message}`);
  }
}

const reload = coalesced(readAlerts);

async function loadRecommendations() {
  // Without the module there is nothing to ask (the view says so already).
  if (enabled === false) return;
  try {
    const body = await readModuleJson('/alerts/recommendations');
    if (body === null) return;
    syncTable(
      'recommendations',
      'recommendations-empty',
      body.recommendations ?? [],
      (r) => r.id,
      (r) => [severityBadge(r.severity), String(r.title ?? ''), String(r.advice ?? '')],
    );
  } catch (error) {
    view.showError(`The recommendations could not be loaded: ${error.message}`);
  }
}

const reloadSoon = oncePerBurst(() => void reload(), EVENT_DEBOUNCE_MS);

/** An `event: alert` of the stream: the lists are read again if they are shown. */
export function onAlertEvent() {
  if (view.visible()) reloadSoon();
}

/** Loads the lists when the view is shown, and keeps them fresh while it is. */
export function initAlertsView() {
  initAlertActions();
  tabListeners.add((tab) => {
    if (tab !== 'alerts') return;
    void reload().then(loadRecommendations);
  });
  setInterval(() => {
    if (view.visible()) void reload();
  }, REFRESH_MS);
  setInterval(() => {
    if (view.visible()) void loadRecommendations();
  }, RECOMMENDATIONS_MS);
}
