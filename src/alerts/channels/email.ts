import type { Duration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { loadPeer } from '../../core/optional-peer.js';
import { AlertChannelError } from '../errors.js';
import type { AlertChannel, AlertNotification, ChannelDocument } from '../types.js';
import { bounded, checkName, checkTimeout, throwIfAborted } from './checks.js';
import { formatLabels, notificationTitle, renderAlert, renderText } from './render.js';

/** Where {@link emailChannel} connects when it builds its own nodemailer transporter. */
export interface SmtpTransportOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). When false, STARTTLS is used if the server offers it. */
  secure?: boolean;
  /** Refuse to send unless the connection was upgraded with STARTTLS. */
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
  /** Node `tls.connect` options (`servername`, `ca`, `rejectUnauthorized`...). */
  tls?: Record<string, unknown>;
}

/**
 * The part of a nodemailer transporter the channel uses: `nodemailer.createTransport(...)` hands
 * one back. The channel never closes a transporter it was given.
 */
export interface MailTransporter {
  sendMail(message: Record<string, unknown>): Promise<unknown>;
  close?(): void;
}

/** Options of {@link emailChannel}. */
export interface EmailChannelOptions {
  /** The channel's name, unique among an instance's channels. */
  name: string;
  /** An SMTP server to connect to (through a pooled transporter the channel owns), or a transporter. */
  transport: SmtpTransportOptions | MailTransporter;
  /** The sender, `'Alerts <alerts@example.com>'`. */
  from: string;
  /** The recipients; at least one. */
  to: readonly string[];
  /** Put before the notification's title in the subject (`'[prod]'`). */
  subjectPrefix?: string;
  /** How long one delivery may take, connecting included. Default 30 seconds. */
  timeout?: Duration;
}

interface NodemailerModule {
  createTransport(options: Record<string, unknown>): MailTransporter & { close(): void };
}

/**
 * A channel that emails each notification, as plain text and HTML (every value escaped), with the
 * notification id in an `X-Enterprise-Delivery` header. Given SMTP settings, it loads `nodemailer`
 * (an optional peer dependency: `npm install nodemailer`) at the first send, so importing it never
 * needs the package, and keeps a pooled transporter that `close()` closes; given a transporter, it
 * uses that one and leaves closing it to its owner. A refused or failed delivery rejects with an
 * {@link AlertChannelError} whose `context.status` is the SMTP reply code, when there was one.
 *
 * @throws AlertChannelError at creation when an option is invalid.
 * @throws MissingDependencyError at the first send when `nodemailer` is not installed.
 * @example
 * ```ts
 * const mail = emailChannel({
 *   name: 'oncall-mail',
 *   transport: { host: 'smtp.example.com', port: 587, auth: { user: 'alerts', pass: process.env.SMTP_PASS! } },
 *   from: 'Alerts <alerts@example.com>',
 *   to: ['oncall@example.com'],
 *   subjectPrefix: '[prod]',
 * });
 * ```
 */
export function emailChannel(options: EmailChannelOptions): AlertChannel {
  const name = checkName(options.name);
  const timeoutMs = checkTimeout(name, options.timeout, 30);
  const given = isTransporter(options.transport) ? options.transport : undefined;
  const smtp = given === undefined ? checkSmtp(name, options.transport) : undefined;
  const from = options.from;
  if (typeof from !== 'string' || from.trim() === '') {
    throw invalid(name, 'from', from, 'a sender address');
  }
  const to = options.to;
  if (
    !Array.isArray(to) ||
    to.length === 0 ||
    !to.every((r) => typeof r === 'string' && r !== '')
  ) {
    throw invalid(name, 'to', to, 'a non-empty array of addresses');
  }
  const prefix = options.subjectPrefix ?? '';
  if (typeof prefix !== 'string') throw invalid(name, 'subjectPrefix', prefix, 'a string');

  let owned: (MailTransporter & { close(): void }) | undefined;
  let closed = false;
  const transporter = (): MailTransporter => {
    if (given !== undefined) return given;
    if (owned === undefined) {
      const nodemailer = loadPeer<NodemailerModule>('nodemailer', 'the email alert channel');
      owned = nodemailer.createTransport({
        ...smtp,
        pool: true,
        maxConnections: 2,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
    }
    return owned;
  };

  const deliver = async (
    content: { subject: string; text: string; html: string; id: string },
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    throwIfAborted(name, signal);
    if (closed) {
      throw new AlertChannelError(`channel "${name}": closed`, { channel: name, closed: true });
    }
    const message = {
      from,
      to: [...to],
      subject: `${prefix} ${content.subject}`.trim(),
      text: content.text,
      html: content.html,
      headers: { 'X-Enterprise-Delivery': content.id },
      // The message is built here from alert data: never let it name a file or URL to attach.
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    // Outside the try: a missing nodemailer is a MissingDependencyError, not a failed delivery.
    const mailer = transporter();
    try {
      await bounded(name, mailer.sendMail(message), { signal, timeoutMs });
    } catch (error) {
      if (error instanceof AlertChannelError) throw error;
      const { responseCode, code } = (error ?? {}) as { responseCode?: unknown; code?: unknown };
      throw new AlertChannelError(
        `channel "${name}": email delivery failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          channel: name,
          ...(typeof responseCode === 'number' ? { status: responseCode } : {}),
          ...(typeof code === 'string' ? { smtpError: code } : {}),
        },
        error,
      );
    }
  };

  return {
    name,
    send: (notification: AlertNotification, signal?: AbortSignal): Promise<void> =>
      deliver(
        {
          subject: notificationTitle(notification),
          text: renderText(notification),
          html: renderHtml(notification),
          id: notification.id,
        },
        signal,
      ),
    // A report's page is its own document: sent as the body, escaped where it was rendered.
    sendDocument: (document: ChannelDocument, signal?: AbortSignal): Promise<void> =>
      deliver(document, signal),
    async close(): Promise<void> {
      closed = true;
      const current = owned;
      owned = undefined;
      current?.close();
    },
  };
}

function isTransporter(value: unknown): value is MailTransporter {
  return typeof (value as MailTransporter | undefined)?.sendMail === 'function';
}

function checkSmtp(channel: string, value: unknown): SmtpTransportOptions {
  const smtp = value as SmtpTransportOptions | undefined;
  if (typeof smtp !== 'object' || smtp === null) {
    throw invalid(channel, 'transport', undefined, 'SMTP settings or a nodemailer transporter');
  }
  if (typeof smtp.host !== 'string' || smtp.host === '') {
    throw invalid(channel, 'transport.host', smtp.host, 'a host name');
  }
  if (!Number.isInteger(smtp.port) || smtp.port < 1 || smtp.port > 65_535) {
    throw invalid(channel, 'transport.port', smtp.port, 'a port number');
  }
  if (
    smtp.auth !== undefined &&
    (typeof smtp.auth?.user !== 'string' || typeof smtp.auth.pass !== 'string')
  ) {
    // The credentials stay out of the error.
    throw invalid(channel, 'transport.auth', undefined, '{ user, pass } strings');
  }
  return {
    host: smtp.host,
    port: smtp.port,
    ...(smtp.secure === undefined ? {} : { secure: smtp.secure }),
    ...(smtp.requireTLS === undefined ? {} : { requireTLS: smtp.requireTLS }),
    ...(smtp.auth === undefined ? {} : { auth: { user: smtp.auth.user, pass: smtp.auth.pass } }),
    ...(smtp.tls === undefined ? {} : { tls: smtp.tls }),
  };
}

function invalid(channel: string, field: string, value: unknown, expected: string) {
  const shown = value === undefined ? '' : `=${describeValue(value)}`;
  return new AlertChannelError(
    `channel "${channel}": ${field}${shown} is invalid: expected ${expected}`,
    {
      channel,
      field,
      ...(value === undefined ? {} : { value }),
    },
  );
}

/** The HTML body: the text body's content, laid out, every piece of alert data escaped. */
function renderHtml(notification: AlertNotification): string {
  const alerts = notification.alerts.map((alert) => {
    const rendered = renderAlert(alert);
    const rows = [
      `<strong>${escapeHtml(rendered.headline)}</strong>`,
      escapeHtml(rendered.summary),
      `Value: ${escapeHtml(rendered.value)}`,
    ];
    if (rendered.labels.length > 0)
      rows.push(`Labels: ${escapeHtml(formatLabels(rendered.labels))}`);
    if (rendered.since !== undefined) rows.push(`Since: ${escapeHtml(rendered.since)}`);
    return `<div style="border-left:4px solid ${rendered.colour};margin:0 0 12px;padding:4px 12px">${rows
      .map((row) => `<div>${row}</div>`)
      .join('')}</div>`;
  });
  return [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">',
    `<h2 style="font-size:16px">${escapeHtml(notificationTitle(notification))}</h2>`,
    ...alerts,
    `<p style="color:#777;font-size:12px">notification ${escapeHtml(notification.id)} (${escapeHtml(
      notification.kind,
    )}, step ${notification.step})</p>`,
    '</body></html>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
