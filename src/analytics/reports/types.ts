import type { Duration } from '../../core/duration.js';

/** A value in a report's figures and tables. */
export type ReportValue = string | number | boolean | null;

/** A headline figure of a section: a label, a value and how to read it. */
export interface ReportFigure {
  label: string;
  value: ReportValue;
  /** `'ms'`, `'bytes'`, `'%'`, `'/s'`...: printed after the value. */
  unit?: string;
}

/** A table of a section: column names and rows of values. */
export interface ReportTable {
  title: string;
  columns: string[];
  rows: ReportValue[][];
}

/** A line chart of a section: one or more series of `[epoch ms, value]` points on a shared axis. */
export interface ReportChart {
  title: string;
  unit?: string;
  series: { name: string; points: [number, number | null][] }[];
  /** A horizontal line drawn across the chart (a limit). */
  threshold?: { label: string; value: number };
}

/**
 * What a section produces. Built-in sections fill `figures`, `tables` and `charts`; a custom
 * section may return this shape or any JSON value (kept as `data`, shown as a table when it is an
 * object or an array of objects).
 *
 * @example
 * ```ts
 * const content: SectionContent = {
 *   figures: [{ label: 'Orders', value: 1_204 }],
 *   tables: [{ title: 'By country', columns: ['country', 'orders'], rows: [['FR', 700], ['DE', 504]] }],
 * };
 * ```
 */
export interface SectionContent {
  /** One or two sentences that say what matters. */
  summary?: string;
  figures?: ReportFigure[];
  tables?: ReportTable[];
  charts?: ReportChart[];
  /** Anything else (what a custom section returned), kept in the JSON format. */
  data?: unknown;
  /** Caveats: a module not enabled, data missing for part of the range. */
  notes?: string[];
}

/** What a section is given when a report is generated. */
export interface ReportContext {
  /** The report's name. */
  report: string;
  /** Start of the range, epoch milliseconds (inclusive). */
  from: number;
  /** End of the range, epoch milliseconds (exclusive). */
  to: number;
  /** A step that cuts the range into about 60 to 120 points, a whole number of minutes. */
  stepMs: number;
  /** When the report is generated, epoch milliseconds. */
  now: number;
}

/**
 * A section a report can include, by its `name`. Built-in ones are provided by the reports
 * module (`performance`, `trends`, `slowest`, `database`, `cache`, `tasks`, `analytics`,
 * `capacity`); an instance adds `alerts` and `security` when those modules are loaded; you may
 * register your own with {@link Reports.section}.
 *
 * @example
 * ```ts
 * const orders: ReportSection = {
 *   name: 'orders',
 *   title: 'Orders',
 *   collect: async ({ from, to }) => ({ figures: [{ label: 'Orders', value: await db.countOrders(from, to) }] }),
 * };
 * ```
 */
export interface ReportSection {
  name: string;
  title: string;
  collect(context: ReportContext): SectionContent | Promise<SectionContent>;
}

/** A custom section given inline in a definition: a function of the context returning any JSON value. */
export type CustomSectionFunction = (context: ReportContext) => unknown;

/** An entry of a definition's `sections`: a section's name, or an inline custom section. */
export type SectionEntry =
  | string
  | { name: string; title?: string; collect: CustomSectionFunction };

/** The formats a report renders to. */
export type ReportFormat = 'json' | 'csv' | 'html';

/**
 * Where a generated report goes: a channel of the alerts module by name (email sends the HTML page
 * as the body, a webhook POSTs the JSON), or a directory where each format is written as a file.
 *
 * @example
 * ```ts
 * const targets: ReportTarget[] = [{ channel: 'ops-mail' }, { channel: 'ops-hook' }, { directory: '/var/reports' }];
 * ```
 */
export type ReportTarget = { channel: string } | { directory: string };

/**
 * A report definition: its sections, the default range (`period`, ending now), the formats it
 * offers, and optionally a cron schedule and where each run is delivered.
 *
 * @example
 * ```ts
 * const weekly: ReportDefinitionOptions = {
 *   title: 'Weekly operations',
 *   sections: ['performance', 'trends', 'slowest', 'cache', 'tasks', 'alerts', 'capacity'],
 *   period: '7d',
 *   formats: ['html', 'json', 'csv'],
 *   schedule: { cron: '0 8 * * 1', timezone: 'Europe/Paris' },
 *   deliver: [{ channel: 'ops-mail' }, { directory: './reports' }],
 * };
 * ```
 */
export interface ReportDefinitionOptions {
  /** @defaultValue the name */
  title?: string;
  sections: readonly SectionEntry[];
  /** The range a report covers when none is given: `'day'`, `'week'`, `'month'` or a duration. @defaultValue 'day' */
  period?: 'day' | 'week' | 'month' | Duration;
  /** @defaultValue ['html', 'json', 'csv'] */
  formats?: readonly ReportFormat[];
  /** A cron expression (5 fields, or 6 with seconds), or one with its IANA time zone. */
  schedule?: string | { cron: string; timezone?: string };
  /** Where scheduled runs (and {@link Reports.run}) send the report. */
  deliver?: readonly ReportTarget[];
}

/** A report definition as {@link Reports.list} shows it. */
export interface ReportInfo {
  name: string;
  title: string;
  sections: string[];
  periodMs: number;
  formats: ReportFormat[];
  schedule: { cron: string; timezone: string | undefined } | null;
  deliver: string[];
  /** The last run of this process: when, and how its deliveries went. */
  lastRun: { at: string; delivered: string[]; failed: string[] } | null;
}

/** Options of {@link Reports.generate}. */
export interface GenerateOptions {
  /** Epoch milliseconds, a `Date`, ISO 8601 or digits. @defaultValue `to` minus the period */
  from?: number | Date | string;
  /** @defaultValue now */
  to?: number | Date | string;
  /** @defaultValue the definition's first format */
  format?: ReportFormat | string;
}

/** One section of a generated report. */
export interface GeneratedSection extends SectionContent {
  name: string;
  title: string;
  /** Why the section has no content, when it failed. */
  error?: string;
}

/** The data of a generated report, before rendering: what the JSON format holds. */
export interface ReportData {
  name: string;
  title: string;
  /** ISO 8601. */
  from: string;
  to: string;
  generatedAt: string;
  sections: GeneratedSection[];
}

/** A rendered report. */
export interface RenderedReport {
  name: string;
  format: ReportFormat;
  /** `application/json`, `text/csv; charset=utf-8`, `text/html; charset=utf-8`. */
  contentType: string;
  /** A file name: `<name>-<from>-<to>.<ext>`. */
  filename: string;
  body: string;
  data: ReportData;
}

/**
 * A message carrying a whole report to a channel, as every format it may need: an email channel
 * sends `html` (and `text`), a webhook POSTs `json`, a chat channel posts `text`.
 */
export interface ReportMessage {
  /** Unique per run and report: receivers drop duplicates by it. */
  id: string;
  kind: 'report';
  subject: string;
  text: string;
  html: string;
  json: ReportData;
}

/**
 * Sends reports on named channels. The instance wires the alerts module's channels here when
 * that module is loaded; the reports module knows nothing else of them.
 *
 * @example
 * ```ts
 * const delivery: ReportDelivery = { send: (channel, message) => enterprise.alerts.sendDocument(channel, message) };
 * ```
 */
export interface ReportDelivery {
  send(channel: string, message: ReportMessage): Promise<void>;
}

/**
 * Runs scheduled reports. The instance wires the task module's scheduler here (one task per slot
 * across every process); `run` is what the slot must do.
 *
 * @example
 * ```ts
 * const scheduler: ReportScheduler = {
 *   schedule: (name, cron, timezone) => tasks.scheduler.schedulePeriodic(cron, `report:${name}`, 'run_report', { name }, { timezone }),
 *   unschedule: (name) => void tasks.scheduler.unschedule(`report:${name}`),
 * };
 * ```
 */
export interface ReportScheduler {
  schedule(report: string, cron: string, timezone: string | undefined): void;
  unschedule(report: string): void;
}

/** The outcome of {@link Reports.run}: what was generated and where it went. */
export interface ReportRunResult {
  name: string;
  from: string;
  to: string;
  delivered: string[];
  failed: { target: string; error: string }[];
}

/**
 * The part of the reports module a caller that only produces reports needs (the maintenance
 * task `generate_analytics_report`, a CLI): generate one, or generate and deliver one.
 *
 * @example
 * ```ts
 * async function weekly(runner: ReportRunner) {
 *   const html = await runner.generate('weekly', { format: 'html' });
 *   await runner.run('weekly');
 * }
 * ```
 */
export interface ReportRunner {
  generate(name: string, options?: GenerateOptions): Promise<RenderedReport>;
  run(name: string, options?: Pick<GenerateOptions, 'from' | 'to'>): Promise<ReportRunResult>;
  list(): ReportInfo[];
}
