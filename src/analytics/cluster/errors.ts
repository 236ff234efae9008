import { EnterpriseError } from '../../core/errors.js';

/**
 * The cluster view could not read or write Redis: the instance list, a heartbeat or the
 * deployment's history. `context.operation` names the call; `cause` is Redis' error.
 *
 * @example
 * ```ts
 * await cluster.instances().catch((error: ClusterUnavailableError) => log.warn(error.message));
 * ```
 */
export class ClusterUnavailableError extends EnterpriseError {
  declare readonly context: Readonly<{ operation: string }>;

  constructor(operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('E_CLUSTER_UNAVAILABLE', `cluster view: ${operation} failed: ${reason}`, {
      context: { operation },
      cause,
    });
  }
}
