export { ReportConfigError, ReportDeliveryError, ReportQueryError } from './errors.js';
export type { ReportHistory } from './history-reads.js';
export type { ReportAnalytics, ReportCapacity } from './insight-sections.js';
export { Reports, type ReportsOptions } from './reports.js';
export type {
  CustomSectionFunction,
  GeneratedSection,
  GenerateOptions,
  RenderedReport,
  ReportChart,
  ReportContext,
  ReportData,
  ReportDefinitionOptions,
  ReportDelivery,
  ReportFigure,
  ReportFormat,
  ReportInfo,
  ReportMessage,
  ReportRunner,
  ReportRunResult,
  ReportScheduler,
  ReportSection,
  ReportTable,
  ReportTarget,
  ReportValue,
  SectionContent,
  SectionEntry,
} from './types.js';
