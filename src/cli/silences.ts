// The deployment's silences, for export and import from the command line: they live in the alerts
// module's Redis store, which the command line opens itself. Alert rules are not there (each
// service defines its own in code), so the command line carries silences only.
import { RedisAlertStore } from '../alerts/redis-store.js';
import { buildSilence, silenceStatus } from '../alerts/silence.js';
import { uuid } from '../core/uuid.js';
import type { BackupAlerts } from '../maintenance/backup-types.js';

/** A {@link BackupAlerts} over the alert store under `prefix`, with no rules. */
export function storeSilences(store: RedisAlertStore): BackupAlerts {
  return {
    rules: () => [],
    addRule: () => {
      // The command strips rules before import; reaching here is a programming error.
      throw new Error('alert rules are defined in the services, not in the alert store');
    },
    silences: async () => {
      const now = Date.now();
      return (await store.silences()).map((s) => ({
        ...s,
        matchers: s.matchers.map((m) => ({ ...m })),
        status: silenceStatus(s, now),
      }));
    },
    addSilence: async (silence) => {
      // The same checks and id the alerts engine applies to a silence it is given.
      const built = buildSilence(
        { ...silence, matchers: [...silence.matchers] },
        Date.now(),
        uuid(),
      );
      await store.putSilence(built);
      return built;
    },
  };
}

/** Opens the alert store of a deployment; the caller closes it. */
export function openAlertStore(url: string, prefix: string | undefined): RedisAlertStore {
  return new RedisAlertStore({
    url,
    commandTimeoutMs: 5_000,
    onError: () => undefined,
    ...(prefix === undefined ? {} : { prefix }),
  });
}
