// The actions of the alerts view: acknowledge an alert, silence it for an hour (a small form asks
// for a comment), expire a silence. Each goes through api(), with the token the other calls use.
import { api, errorMessage } from '../api.js';
import { $ } from '../dom.js';

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };
/** How long the Silence button mutes an alert. */
const SILENCE_DURATION = '1h';

/** The alert the silence form is open for, and what to do once a silence was created. */
let silencing = null;
/** The alert each Silence button stands for now (rows are reused as alerts change). */
const alertOfButton = new WeakMap();

function setStatus(text) {
  const status = $('alerts-status');
  if (status.textContent !== text) status.textContent = text;
}

/** `CheckoutSlow {service=checkout}`: the rule and the labels that tell its alerts apart. */
export function describeAlert(alert) {
  const labels = Object.entries(alert.labels ?? {})
    .filter(([name]) => name !== 'alertname')
    .map(([name, value]) => `${name}=${value}`);
  return labels.length > 0 ? `${alert.rule} {${labels.join(', ')}}` : String(alert.rule);
}

async function post(path, init) {
  const response = await api(path, { headers: JSON_HEADERS, ...init });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

/**
 * The Ack button of an alert's row. Rows are keyed by fingerprint and reused, so the handler is
 * bound once and reads the fingerprint the row shows now.
 */
export function ackButton(alert, onChange) {
  return {
    kind: 'button',
    update: (button) => {
      button.dataset.fingerprint = alert.fingerprint;
      button.dataset.rule = describeAlert(alert);
      if (!button.dataset.bound) {
        button.dataset.bound = 'true';
        button.addEventListener('click', () => acknowledge(button, onChange));
      }
      if (button.dataset.busy) return;
      const by = alert.acknowledged?.by;
      const text = by ? `Acked by ${by}` : 'Ack';
      if (button.textContent !== text) button.textContent = text;
      button.disabled = Boolean(by);
      button.setAttribute(
        'aria-label',
        by
          ? `${describeAlert(alert)} acknowledged by ${by}`
          : `Acknowledge ${describeAlert(alert)}`,
      );
    },
  };
}

async function acknowledge(button, onChange) {
  const { fingerprint, rule } = button.dataset;
  button.dataset.busy = 'true';
  button.disabled = true;
  button.textContent = 'Acking…';
  try {
    const body = await post(`/alerts/${encodeURIComponent(fingerprint)}/ack`, {
      method: 'POST',
      body: '{}',
    });
    const by = body.alert?.acknowledged?.by ?? 'monitoring';
    button.textContent = `Acked by ${by}`;
    setStatus(`${rule} was acknowledged: its escalation stops until it resolves.`);
  } catch (error) {
    button.disabled = false;
    button.textContent = 'Ack';
    setStatus(`Acknowledging ${rule} failed: ${error.message}`);
  } finally {
    delete button.dataset.busy;
    onChange();
  }
}

/** The Silence button of an alert's row: opens the form for a one-hour silence on its labels. */
export function silenceButton(alert, onChange) {
  return {
    kind: 'button',
    update: (button) => {
      if (!button.dataset.bound) {
        button.dataset.bound = 'true';
        // The row may show a newer version of the alert by the time of the click.
        button.addEventListener('click', () =>
          openSilenceForm(alertOfButton.get(button), onChange),
        );
      }
      alertOfButton.set(button, alert);
      if (button.textContent !== 'Silence 1h') button.textContent = 'Silence 1h';
      button.setAttribute('aria-label', `Silence ${describeAlert(alert)} for one hour`);
    },
  };
}

function matchersOf(alert) {
  return Object.entries(alert.labels ?? {}).map(([name, value]) => ({ name, value, op: '=' }));
}

function openSilenceForm(alert, onChange) {
  silencing = { alert, onChange };
  $('silence-matchers').textContent = matchersOf(alert)
    .map((m) => `${m.name}="${m.value}"`)
    .join(', ');
  $('silence-error').hidden = true;
  $('silence-comment').value = '';
  $('silence-submit').disabled = false;
  $('silence-dialog').showModal();
}

async function submitSilence() {
  if (!silencing) return;
  const { alert, onChange } = silencing;
  const comment = $('silence-comment').value.trim();
  if (!comment) return;
  $('silence-submit').disabled = true;
  try {
    await post('/alerts/silences', {
      method: 'POST',
      body: JSON.stringify({ matchers: matchersOf(alert), duration: SILENCE_DURATION, comment }),
    });
    silencing = null;
    $('silence-dialog').close();
    setStatus(`${describeAlert(alert)} is silenced for one hour.`);
    onChange();
  } catch (error) {
    const message = $('silence-error');
    message.textContent = `The silence was refused: ${error.message}`;
    message.hidden = false;
    $('silence-submit').disabled = false;
  }
}

/** The Expire button of a silence's row (disabled once it has expired). */
export function expireButton(silence, onChange) {
  return {
    kind: 'button',
    update: (button) => {
      button.dataset.id = silence.id;
      if (!button.dataset.bound) {
        button.dataset.bound = 'true';
        button.addEventListener('click', () => expire(button, onChange));
      }
      if (button.dataset.busy) return;
      const over = silence.status === 'expired';
      const text = over ? 'Expired' : 'Expire';
      if (button.textContent !== text) button.textContent = text;
      button.disabled = over;
      button.setAttribute('aria-label', over ? 'Silence expired' : 'Expire this silence now');
    },
  };
}

async function expire(button, onChange) {
  button.dataset.busy = 'true';
  button.disabled = true;
  try {
    const response = await api(`/alerts/silences/${encodeURIComponent(button.dataset.id)}`, {
      method: 'DELETE',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    await response.body?.cancel();
    setStatus('The silence was expired: the alerts it muted are notified again.');
  } catch (error) {
    button.disabled = false;
    setStatus(`Expiring the silence failed: ${error.message}`);
  } finally {
    delete button.dataset.busy;
    onChange();
  }
}

/** Binds the silence form. */
export function initAlertActions() {
  $('silence-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void submitSilence();
  });
  $('silence-cancel').addEventListener('click', () => {
    silencing = null;
    $('silence-dialog').close();
  });
}
