import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { logChannel } from '../../../src/alerts/channels/index.js';
import { AlertChannelError } from '../../../src/alerts/errors.js';
import { type Logger, wrapLogger } from '../../../src/core/logger.js';
import {
  describeAlertChannel,
  sampleAlert,
  sampleNotification,
} from '../../../src/testing/index.js';
import { recordingLogger } from '../../support/test-doubles.js';
import { rejectionOf, thrownBy } from './thrown.js';

/** A Logger whose lines throw, as a host's own Logger implementation might. */
function brokenLogger(): Logger {
  const fail = () => {
    throw new Error('log pipe closed');
  };
  return { debug: fail, info: fail, warn: fail, error: fail, child: () => brokenLogger() };
}

describeAlertChannel('log', vitest, {
  errorType: AlertChannelError,
  create({ fail }) {
    const host = recordingLogger();
    const counting = wrapLogger(host);
    let attempts = 0;
    const broken = brokenLogger();
    const logger: Logger = {
      ...counting,
      info: (fields, message) => {
        attempts++;
        (fail ? broken : counting).info(fields, message);
      },
      warn: (fields, message) => {
        attempts++;
        (fail ? broken : counting).warn(fields, message);
      },
    };
    return { channel: logChannel({ logger }), received: () => attempts };
  },
});

describe('logChannel', () => {
  it('writes one warn line per firing or repeated notification, with the alerts as fields', async () => {
    const host = recordingLogger();
    const channel = logChannel({ logger: wrapLogger(host) });
    expect(channel.name).toBe('log');
    const notification = sampleNotification();
    await channel.send(notification);
    await channel.send(sampleNotification({ kind: 'repeat', step: 1 }));
    expect(host.calls.map((call) => call.level)).toEqual(['warn', 'warn']);
    const [call] = host.calls;
    expect(call!.message).toBe('[FIRING:1] HighLatency (GET /users)');
    expect(call!.fields).toEqual({
      channel: 'log',
      notification: notification.id,
      kind: 'firing',
      group: 'alertname=HighLatency',
      step: 0,
      alerts: [
        {
          rule: 'HighLatency',
          state: 'firing',
          severity: 'critical',
          value: 620,
          summary: 'p95 of GET /users is 620 ms (above 500 ms)',
          labels: { alertname: 'HighLatency', operation: 'GET /users', region: 'eu-west-1' },
          fingerprint: 'f3a1c2d4e5b60718',
        },
      ],
    });
  });

  it('writes at info when alerts resolve or are acknowledged, on one line whatever the title', async () => {
    const host = recordingLogger();
    const channel = logChannel({ name: 'audit', logger: wrapLogger(host) });
    await channel.send(
      sampleNotification({
        kind: 'resolved',
        title: '[RESOLVED] HighLatency\nforged: line',
        alerts: [sampleAlert({ state: 'resolved', annotations: {}, verdict: undefined })],
      }),
    );
    await channel.send(sampleNotification({ kind: 'acknowledged' }));
    expect(host.calls.map((call) => call.level)).toEqual(['info', 'info']);
    expect(host.calls[0]!.message).toBe('[RESOLVED] HighLatency forged: line');
    expect(host.calls[0]!.fields).toMatchObject({
      channel: 'audit',
      kind: 'resolved',
      alerts: [{ state: 'resolved', summary: 'HighLatency is resolved' }],
    });
  });

  it('rejects with the error as cause when the logger throws', async () => {
    const error = (await rejectionOf(
      logChannel({ logger: brokenLogger() }).send(sampleNotification()),
    )) as AlertChannelError;
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(error.message).toMatch(/log pipe closed/);
    expect((error.cause as Error).message).toBe('log pipe closed');
  });

  it('refuses a missing logger or a blank name at creation', () => {
    expect(thrownBy(() => logChannel({} as never))).toBeInstanceOf(AlertChannelError);
    expect(
      thrownBy(() => logChannel({ name: ' ', logger: wrapLogger(recordingLogger()) })),
    ).toBeInstanceOf(AlertChannelError);
  });
});
