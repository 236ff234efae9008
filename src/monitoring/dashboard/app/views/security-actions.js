// The actions of the security view: ban a client from the form (or from a risky client's row,
// which fills the form in), and lift a ban. Each goes through api(), with the token the other
// calls use; the router refuses them from another site.
import { api, errorMessage } from '../api.js';
import { $ } from '../dom.js';

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };

function setStatus(text) {
  const status = $('security-status');
  if (status.textContent !== text) status.textContent = text;
}

async function submitBan(onChange) {
  const client = $('ban-client').value.trim();
  const reason = $('ban-reason').value.trim();
  const duration = $('ban-duration').value;
  if (!client || !reason) return;
  const submit = $('ban-submit');
  submit.disabled = true;
  try {
    const response = await api('/security/bans', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ client, duration, reason }),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const { ban } = await response.json();
    $('ban-client').value = '';
    $('ban-reason').value = '';
    const label = $('ban-duration').selectedOptions[0]?.textContent ?? duration;
    setStatus(`${ban.client} is banned for ${label}, on every instance sharing the ban store.`);
  } catch (error) {
    setStatus(`The ban of ${client} was refused: ${error.message}`);
  } finally {
    submit.disabled = false;
    onChange();
  }
}

/** The Unban button of a ban's row; rows are keyed by client, so the handler is bound once. */
export function unbanButton(ban, onChange) {
  return {
    kind: 'button',
    update: (button) => {
      if (button.dataset.bound) return;
      button.dataset.bound = 'true';
      button.dataset.client = ban.client;
      button.textContent = 'Unban';
      button.setAttribute('aria-label', `Unban ${ban.client}`);
      button.addEventListener('click', () => unban(button, onChange));
    },
  };
}

async function unban(button, onChange) {
  const { client } = button.dataset;
  button.disabled = true;
  button.textContent = 'Unbanning…';
  try {
    const response = await api(`/security/bans/${encodeURIComponent(client)}`, {
      method: 'DELETE',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const { removed } = await response.json();
    setStatus(removed ? `${client} is no longer banned.` : `${client} was not banned any more.`);
  } catch (error) {
    button.disabled = false;
    button.textContent = 'Unban';
    setStatus(`Lifting the ban of ${client} failed: ${error.message}`);
  } finally {
    onChange();
  }
}

/** The Ban… button of a risky client's row: fills the form in with the client. */
export function banClientButton(client) {
  return {
    kind: 'button',
    update: (button) => {
      if (button.dataset.bound) return;
      button.dataset.bound = 'true';
      button.textContent = 'Ban…';
      button.setAttribute('aria-label', `Ban ${client}`);
      button.addEventListener('click', () => {
        $('ban-client').value = client;
        $('ban-reason').focus();
      });
    },
  };
}

/** Binds the ban form. */
export function initSecurityActions(onChange) {
  $('ban-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void submitBan(onChange);
  });
}
