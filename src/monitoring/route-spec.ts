import type { Schema } from './openapi-builders.js';

/** @internal The name of each endpoint: the router's handler key and the document's operationId. */
export type OperationId =
  | 'index'
  | 'health'
  | 'healthLive'
  | 'healthReady'
  | 'performanceSummary'
  | 'performanceRealtime'
  | 'databasePerformance'
  | 'cacheAnalytics'
  | 'tasksMonitoring'
  | 'metrics'
  | 'info'
  | 'openapi'
  | 'dashboard'
  | 'dashboardAsset'
  | 'docs'
  | 'docsAsset'
  | 'securityMonitoring'
  | 'performanceHistory'
  | 'analyticsOverview'
  | 'analyticsEvents'
  | 'analyticsFunnels'
  | 'analyticsRetention'
  | 'analyticsCapacity'
  | 'reports'
  | 'report'
  | 'alerts'
  | 'alertSilences'
  | 'alertRules'
  | 'alertRecommendations'
  | 'retryDeadTask'
  | 'purgeDeadTasks'
  | 'pauseQueue'
  | 'resumeQueue'
  | 'runCacheWarmer'
  | 'invalidateCacheTag'
  | 'acknowledgeAlert'
  | 'createAlertSilence'
  | 'expireAlertSilence'
  | 'banClient'
  | 'unbanClient'
  | 'schedules'
  | 'addSchedule'
  | 'pauseSchedule'
  | 'resumeSchedule'
  | 'runSchedule'
  | 'removeSchedule'
  | 'maintenance'
  | 'runMaintenanceTask';

/** @internal One endpoint of the router: what the router registers and the document describes. */
export interface RouteSpec {
  /** Every method but `get` is an action: authenticated, and refused when sent from another site. */
  method: 'get' | 'post' | 'delete';
  /** Hono syntax (`/tasks/dead/:id/retry`). */
  path: string;
  operationId: OperationId;
  summary: string;
  tag: string;
  /** `false` for the endpoints served without auth (dashboard shell, liveness, readiness). */
  auth: boolean;
  /** Query parameters. */
  query?: { name: string; description: string; schema: Schema; required?: boolean }[];
  /** The JSON request body: its schema, and whether it may be left out. */
  body?: { description: string; schema: Schema; required: boolean };
  /** Responses other than the common errors: status -> [description, media type, schema]. */
  responses: Record<string, [string, string, Schema]>;
}
