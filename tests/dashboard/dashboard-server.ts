// Shared by the dashboard's browser suites: the monitoring listener of the `/node` adapter behind a
// node:http server on a free loopback port, and the one way to take it all down again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMonitoringListener,
  type MonitoringListener,
  type MonitoringListenerOptions,
} from '../../src/adapters/node.js';
import type { Enterprise } from '../../src/index.js';

/** The prefix the suites mount the router under (the adapter's default). */
export const MOUNT = '/api/v1/monitoring';

/** Options of {@link serveDashboard}: the listener's, and whether closing shuts the instance down. */
export interface ServeDashboardOptions extends Omit<MonitoringListenerOptions, 'enterprise'> {
  /**
   * Also `enterprise.shutdown()` once the server is closed. The listener's own close already does
   * it under `shutdownOnClose` (its default); the suites ask for it anyway so that the instance is
   * down whatever the listener options say. @defaultValue false
   */
  shutdown?: boolean;
}

/** A served dashboard; `close()` takes it down in the order the server needs. */
export interface DashboardServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The router's root: `origin` followed by the prefix. */
  url: string;
  listener: MonitoringListener;
  server: Server;
  /** Ends the listener's event streams, drops every connection, closes the server. */
  close(): Promise<void>;
}

/**
 * Serves `enterprise`'s monitoring router on 127.0.0.1, port 0, under `options.prefix` (default
 * {@link MOUNT}); every other request goes to `options.handler` as the listener does.
 */
export async function serveDashboard(
  enterprise: Enterprise,
  options: ServeDashboardOptions = {},
): Promise<DashboardServer> {
  const { shutdown = false, ...listenerOptions } = options;
  const prefix = listenerOptions.prefix ?? MOUNT;
  const listener = createMonitoringListener({ ...listenerOptions, enterprise, prefix });
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}${prefix}`,
    listener,
    server,
    close: async () => {
      // The event streams stay open until the listener ends them: server.close() alone would wait
      // on them, so the listener goes first, then every connection still open.
      await listener.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (shutdown) await enterprise.shutdown();
    },
  };
}
