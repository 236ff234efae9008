import { type Clock, systemClock } from '../../core/clock.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import { createDefaultLogger, type Logger } from '../../core/logger.js';
import { customContent } from './custom-section.js';
import {
  isReportName,
  type ResolvedDefinition,
  resolveDefinition,
  targetName,
} from './definition.js';
import { fileStem, writeReportFiles } from './directory-delivery.js';
import { ReportConfigError, ReportDeliveryError, ReportQueryError } from './errors.js';
import { figureSections } from './figure-sections.js';
import type { ReportHistory } from './history-reads.js';
import { insightSections, type ReportAnalytics, type ReportCapacity } from './insight-sections.js';
import { performanceSections } from './performance-sections.js';
import { resolveRange } from './range.js';
import { renderCsv } from './render-csv.js';
import { renderHtml, renderText } from './render-html.js';
import type {
  GeneratedSection,
  GenerateOptions,
  RenderedReport,
  ReportContext,
  ReportData,
  ReportDefinitionOptions,
  ReportDelivery,
  ReportFormat,
  ReportInfo,
  ReportRunner,
  ReportRunResult,
  ReportScheduler,
  ReportSection,
  SectionContent,
} from './types.js';

/** Options of {@link Reports}. */
export interface ReportsOptions {
  /** The metrics history the built-in sections read (an instance's `history`), or a function giving it. */
  history?: ReportHistory | (() => ReportHistory | undefined);
  /** Product analytics, for the `analytics` section. */
  analytics?: () => ReportAnalytics | undefined;
  /** The capacity planner, for the `capacity` section. */
  capacity?: () => ReportCapacity | undefined;
  /** More sections reports may name (an instance adds `alerts` and `security`). */
  sections?: readonly ReportSection[];
  /** Sends reports to named channels (an instance wires the alerts module's channels). */
  delivery?: ReportDelivery;
  /** Runs scheduled reports (an instance wires the task scheduler). */
  scheduler?: ReportScheduler;
  /** Reports defined at once, by name. */
  definitions?: Record<string, ReportDefinitionOptions>;
  /** How long one section may take before it is reported as failed. @defaultValue '30s' */
  sectionTimeout?: Duration;
  clock?: Clock;
  logger?: Logger;
}

const CONTENT_TYPES: Record<ReportFormat, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/**
 * Reports: named definitions of sections over a period, generated on demand in JSON, CSV or a
 * self-contained HTML page, and on a cron schedule delivered to channels or a directory. An
 * instance builds one as `enterprise.reports`, wired to its history, analytics, capacity planner,
 * alerts and security modules, channels and task scheduler.
 *
 * @example
 * ```ts
 * enterprise.reports.define('weekly', {
 *   title: 'Weekly operations',
 *   sections: ['performance', 'trends', 'slowest', 'cache', 'tasks', 'capacity',
 *     { name: 'orders', collect: async ({ from, to }) => ({ orders: await db.countOrders(from, to) }) }],
 *   period: 'week',
 *   formats: ['html', 'json', 'csv'],
 *   schedule: '0 8 * * 1',
 *   deliver: [{ channel: 'ops-mail' }, { directory: './reports' }],
 * });
 * const page = await enterprise.reports.generate('weekly', { format: 'html' });
 * ```
 */
export class Reports implements ReportRunner {
  readonly #sections = new Map<string, ReportSection>();
  readonly #definitions = new Map<string, ResolvedDefinition>();
  readonly #lastRuns = new Map<string, NonNullable<ReportInfo['lastRun']>>();
  readonly #delivery: ReportDelivery | undefined;
  readonly #scheduler: ReportScheduler | undefined;
  readonly #sectionTimeoutMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #closed = false;

  constructor(options: ReportsOptions = {}) {
    const history = options.history;
    const historyOf = typeof history === 'function' ? history : () => history;
    for (const section of [
      ...performanceSections(historyOf),
      ...figureSections(historyOf),
      ...insightSections({
        ...(options.analytics === undefined ? {} : { analytics: options.analytics }),
        ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
      }),
    ]) {
      this.#sections.set(section.name, section);
    }
    this.#delivery = options.delivery;
    this.#scheduler = options.scheduler;
    try {
      this.#sectionTimeoutMs = parseDuration(options.sectionTimeout ?? '30s', 'sectionTimeout');
    } catch {
      throw new ReportConfigError(
        '*',
        'sectionTimeout',
        options.sectionTimeout,
        "a duration such as '30s'",
      );
    }
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? createDefaultLogger('info')).child({ module: 'reports' });
    for (const section of options.sections ?? []) this.section(section);
    for (const [name, definition] of Object.entries(options.definitions ?? {}))
      this.define(name, definition);
  }

  /**
   * Adds a section reports may name. A name in use is a {@link ReportConfigError}.
   *
   * @example
   * ```ts
   * reports.section({ name: 'orders', title: 'Orders', collect: async (ctx) => ({ figures: [{ label: 'Orders', value: 12 }] }) });
   * ```
   */
  section(section: ReportSection): void {
    if (
      section === null ||
      typeof section !== 'object' ||
      !isReportName(section.name) ||
      typeof section.collect !== 'function'
    ) {
      throw new ReportConfigError('*', 'section', section, '{ name, title, collect }');
    }
    if (this.#sections.has(section.name)) {
      throw new ReportConfigError('*', 'section.name', section.name, 'a section name not in use');
    }
    this.#sections.set(section.name, { ...section, title: section.title ?? section.name });
  }

  /** The names of the sections reports may name. */
  sections(): string[] {
    return [...this.#sections.keys()];
  }

  /**
   * Defines (or replaces) the report `name`, and schedules it when it has a `schedule`. Throws a
   * {@link ReportConfigError} naming the invalid option.
   */
  define(name: string, options: ReportDefinitionOptions): ReportInfo {
    const definition = resolveDefinition(name, options, (section) => this.#sections.has(section));
    if (definition.schedule !== undefined) {
      if (this.#scheduler === undefined) {
        throw new ReportConfigError(
          name,
          'schedule',
          options.schedule,
          'no schedule: scheduling needs the tasks module, which this process has not loaded',
        );
      }
      try {
        this.#scheduler.schedule(name, definition.schedule.cron, definition.schedule.timezone);
      } catch (error) {
        throw new ReportConfigError(
          name,
          'schedule',
          options.schedule,
          `a valid cron expression and time zone (${error instanceof Error ? error.message : String(error)})`,
        );
      }
    } else if (this.#definitions.get(name)?.schedule !== undefined) {
      this.#scheduler?.unschedule(name);
    }
    if (definition.deliver.some((t) => 'channel' in t) && this.#delivery === undefined) {
      throw new ReportConfigError(
        name,
        'deliver',
        options.deliver,
        'no channel target: channels need the alerts module, which this process has not loaded',
      );
    }
    this.#definitions.set(name, definition);
    return this.#info(definition);
  }

  /** Removes a report (and its schedule); whether there was one. */
  remove(name: string): boolean {
    const definition = this.#definitions.get(name);
    if (definition === undefined) return false;
    if (definition.schedule !== undefined) this.#scheduler?.unschedule(name);
    this.#definitions.delete(name);
    return true;
  }

  /** Every report defined. */
  list(): ReportInfo[] {
    return [...this.#definitions.values()].map((d) => this.#info(d));
  }

  /** One report's definition, `undefined` if there is none. */
  get(name: string): ReportInfo | undefined {
    const definition = this.#definitions.get(name);
    return definition === undefined ? undefined : this.#info(definition);
  }

  /**
   * Generates the report `name` over `from`..`to` (default: the period ending now) in `format`
   * (default: its first format). A section that fails or times out carries its `error` and the
   * report goes on. Rejects with a {@link ReportQueryError} naming `name`, `from`, `to` or `format`.
   *
   * @example
   * ```ts
   * const csv = await reports.generate('weekly', { from: '2025-01-06', to: '2025-01-13', format: 'csv' });
   * await writeFile(csv.filename, csv.body);
   * ```
   */
  async generate(name: string, options: GenerateOptions = {}): Promise<RenderedReport> {
    const definition = this.#definition(name);
    const range = resolveRange(definition, options, this.#clock.epochNow());
    const data = await this.#collect(definition, range);
    return this.#render(data, range.format);
  }

  /**
   * Generates the report over its period ending now (or the range given) and delivers it to each
   * of its targets: never rejects for a target that fails (logged, and listed in `failed`).
   *
   * @example
   * ```ts
   * const { delivered, failed } = await reports.run('weekly');
   * ```
   */
  async run(
    name: string,
    options: Pick<GenerateOptions, 'from' | 'to'> = {},
  ): Promise<ReportRunResult> {
    const definition = this.#definition(name);
    const range = resolveRange(
      definition,
      { ...options, format: definition.formats[0] },
      this.#clock.epochNow(),
    );
    const data = await this.#collect(definition, range);
    const delivered: string[] = [];
    const failed: ReportRunResult['failed'] = [];
    for (const target of definition.deliver) {
      const label = targetName(target);
      try {
        if ('channel' in target) {
          await this.#delivery!.send(target.channel, {
            id: `${name}:${range.from}:${range.to}`,
            kind: 'report',
            subject: `${definition.title}: ${data.from.slice(0, 16).replace('T', ' ')} to ${data.to.slice(0, 16).replace('T', ' ')} UTC`,
            text: renderText(data),
            html: renderHtml(data),
            json: data,
          });
        } else {
          await writeReportFiles(
            target.directory,
            definition.formats.map((format) => this.#render(data, format)),
          );
        }
        delivered.push(label);
      } catch (cause) {
        const error = new ReportDeliveryError(
          name,
          label,
          cause instanceof Error ? cause.message : String(cause),
          cause,
        );
        this.#log.warn({ err: error, report: name, target: label }, 'report delivery failed');
        failed.push({ target: label, error: error.message });
      }
    }
    this.#lastRuns.set(name, {
      at: new Date(this.#clock.epochNow()).toISOString(),
      delivered,
      failed: failed.map((f) => f.target),
    });
    this.#log.info({ report: name, delivered, failed: failed.length }, 'report generated');
    return { name, from: data.from, to: data.to, delivered, failed };
  }

  /** Removes every schedule this object made. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const definition of this.#definitions.values()) {
      if (definition.schedule !== undefined) this.#scheduler?.unschedule(definition.name);
    }
  }

  #definition(name: string): ResolvedDefinition {
    const definition = typeof name === 'string' ? this.#definitions.get(name) : undefined;
    if (definition === undefined) {
      const names = [...this.#definitions.keys()];
      throw new ReportQueryError(
        'name',
        name,
        names.length === 0 ? 'a defined report (none is defined)' : `one of ${names.join(', ')}`,
      );
    }
    return definition;
  }

  #info(d: ResolvedDefinition): ReportInfo {
    return {
      name: d.name,
      title: d.title,
      sections: d.sections.map((s) => s.name),
      periodMs: d.periodMs,
      formats: [...d.formats],
      schedule: d.schedule === undefined ? null : { ...d.schedule },
      deliver: d.deliver.map(targetName),
      lastRun: this.#lastRuns.get(d.name) ?? null,
    };
  }

  async #collect(
    definition: ResolvedDefinition,
    range: { from: number; to: number; stepMs: number },
  ): Promise<ReportData> {
    const now = this.#clock.epochNow();
    const context: ReportContext = {
      report: definition.name,
      from: range.from,
      to: range.to,
      stepMs: range.stepMs,
      now,
    };
    const sections = await Promise.all(
      definition.sections.map(async (entry): Promise<GeneratedSection> => {
        const section: ReportSection | undefined =
          entry.kind === 'custom'
            ? {
                name: entry.name,
                title: entry.title,
                collect: async (ctx) => customContent(await entry.collect(ctx)),
              }
            : this.#sections.get(entry.name);
        if (section === undefined) {
          return {
            name: entry.name,
            title: entry.name,
            error: 'this section is no longer available',
          };
        }
        try {
          const content = await this.#bounded(section.collect({ ...context }));
          return { name: section.name, title: section.title, ...content };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#log.warn(
            { err: error, report: definition.name, section: section.name },
            'a report section failed',
          );
          return { name: section.name, title: section.title, error: message };
        }
      }),
    );
    return {
      name: definition.name,
      title: definition.title,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      generatedAt: new Date(now).toISOString(),
      sections,
    };
  }

  #bounded(work: SectionContent | Promise<SectionContent>): Promise<SectionContent> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.#sectionTimeoutMs} ms`)),
        this.#sectionTimeoutMs,
      );
      timer.unref();
    });
    return Promise.race([Promise.resolve(work), timeout]).finally(() => clearTimeout(timer));
  }

  #render(data: ReportData, format: ReportFormat): RenderedReport {
    const body =
      format === 'json'
        ? `${JSON.stringify(data, null, 2)}\n`
        : format === 'csv'
          ? renderCsv(data)
          : renderHtml(data);
    return {
      name: data.name,
      format,
      contentType: CONTENT_TYPES[format],
      filename: `${fileStem(data.name, data.from, data.to)}.${format}`,
      body,
      data,
    };
  }
}
