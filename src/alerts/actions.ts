import { describeValue } from '../core/errors.js';
import { uuid } from '../core/uuid.js';
import { AlertSilenceError } from './errors.js';
import { buildSilence, type SilenceInput, type SilenceStatus, silenceStatus } from './silence.js';
import type { TickState } from './state.js';
import type { Alert, Silence } from './types.js';

/**
 * @internal Acknowledges an alert: kept in the store for every instance (in the outbox while the
 * store is down), shown on the alert at once, announced to the channels that were notified.
 */
export async function acknowledgeAlert(
  state: TickState,
  fingerprint: string,
  by: { by: string; comment?: string },
): Promise<Alert> {
  const alert = state.views.get(fingerprint);
  if (alert === undefined || alert.state === 'inactive' || alert.state === 'resolved') {
    const why =
      alert === undefined ? 'no alert has this fingerprint' : `the alert is ${alert.state}`;
    throw new AlertSilenceError(`cannot acknowledge ${describeValue(fingerprint)}: ${why}`, {
      field: 'fingerprint',
      value: fingerprint,
    });
  }
  if (typeof by?.by !== 'string' || by.by.trim() === '') {
    throw new AlertSilenceError('acknowledge: `by` must say who acknowledges', {
      field: 'by',
      value: by?.by,
    });
  }
  const now = state.clock.epochNow();
  const ack = {
    by: by.by,
    at: new Date(now).toISOString(),
    ...(typeof by.comment === 'string' ? { comment: by.comment } : {}),
  };
  state.acks.set(fingerprint, ack);
  const { guard } = state;
  await guard.write('acknowledge', () => guard.store.acknowledge(fingerprint, ack));
  const updated: Alert = { ...alert, acknowledged: ack };
  state.views.set(fingerprint, updated);
  state.emitter.emit('acknowledged', updated);
  state.notifier.acknowledged(updated, now);
  return updated;
}

/** @internal Validates and stores a new silence. */
export async function addSilence(state: TickState, input: SilenceInput): Promise<Silence> {
  const now = state.clock.epochNow();
  const silence = buildSilence(input, now, uuid());
  await putSilence(state, silence, now);
  return silence;
}

/** @internal Ends a silence now; one not started yet is deleted, as in Alertmanager. */
export async function expireSilence(state: TickState, id: string): Promise<boolean> {
  const now = state.clock.epochNow();
  const { guard } = state;
  const silence =
    state.silences.get(id) ??
    (await guard.call('silences', () => guard.store.silences(), [])).find((s) => s.id === id);
  if (silence === undefined) return false;
  const status = silenceStatus(silence, now);
  if (status === 'expired') return false;
  if (status === 'pending') {
    state.silences.update(state.silences.list().filter((s) => s.id !== id));
    await guard.write('deleteSilence', () => guard.store.deleteSilence(id));
    refreshSilenced(state, now);
    return true;
  }
  await putSilence(state, { ...silence, endsAt: new Date(now).toISOString() }, now);
  return true;
}

/** @internal Every silence of the deployment, freshly read when the store answers. */
export async function listSilences(
  state: TickState,
): Promise<(Silence & { status: SilenceStatus })[]> {
  const { guard } = state;
  const now = state.clock.epochNow();
  const fresh = await guard.call('silences', () => guard.store.silences(), undefined);
  // With writes still in the outbox the store is behind this instance.
  if (fresh !== undefined && guard.pendingWrites === 0) state.silences.update(fresh);
  return state.silences
    .list()
    .map((s) => ({ ...s, status: silenceStatus(s, now) }))
    .sort((a, b) => b.startsAt.localeCompare(a.startsAt) || a.id.localeCompare(b.id));
}

async function putSilence(state: TickState, silence: Silence, now: number): Promise<void> {
  state.silences.put(silence);
  const { guard } = state;
  await guard.write('putSilence', () => guard.store.putSilence(silence));
  refreshSilenced(state, now);
}

/** The list shows a new or expired silence at once, not from the next evaluation. */
function refreshSilenced(state: TickState, now: number): void {
  for (const [fingerprint, alert] of state.views) {
    if (alert.state === 'inactive') continue;
    const silencedBy = state.silences.silencing(alert.labels, now);
    const { silencedBy: _previous, ...rest } = alert;
    state.views.set(fingerprint, silencedBy.length > 0 ? { ...rest, silencedBy } : rest);
  }
}
