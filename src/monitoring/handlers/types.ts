import type { Context } from 'hono';
import type { Logger } from '../../core/logger.js';
import type { HealthChecker } from '../health.js';
import type { MonitoredInstance } from '../monitored-instance.js';
import type { RealtimeHub } from '../realtime.js';
import type { OperationId } from '../route-spec.js';
import type { TasksSource } from '../tasks-source.js';

/** @internal What the handlers of every area read and act on. */
export interface HandlerContext {
  enterprise: MonitoredInstance;
  tasks: TasksSource;
  health: HealthChecker;
  hub: RealtimeHub;
  /** The router's logger; actions are logged there. */
  log: Logger;
  /** The mount path when known (`''` otherwise). */
  basePath: string;
  /** Whether the router checks credentials (the document then declares its security scheme). */
  secured: boolean;
  /** Longest wait for a module's figures read for an answer (the health timeout). */
  readTimeoutMs: number;
  /** Where failures to read a module's figures go (logged, throttled); the answer goes on without them. */
  onReadError: (message: string, error: unknown) => void;
}

/** @internal Answers one matched request; a thrown error becomes the JSON error answer. */
export type Handler = (c: Context) => Response | Promise<Response>;

/**
 * @internal The handlers of an area, keyed by operationId: the router's table of every area
 * together must name each route once, which the compiler checks.
 */
export type Handlers<K extends OperationId> = Record<K, Handler>;
