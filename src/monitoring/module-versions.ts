import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rejectAfter } from '../core/timeout.js';
import { packageInfo } from './info.js';
import type { MonitoredInstance } from './monitored-instance.js';

/** One enabled module in `/info`: its version and the versions of what it runs on. */
export interface ModuleVersion {
  /** The module's version: the package's, as every module ships in it. */
  version: string;
  /**
   * Servers and packages the module runs on, by name (`redis`, `ioredis`, `postgresql`, `pg`,
   * `sqlite`, `better-sqlite3`, `hono`): `null` when not known (a server that did not answer).
   */
  runsOn: Record<string, string | null>;
}

/** The server label and driver package of each remote cache tier and task backend, by name. */
const STORES: Record<string, { server: string; driver: string }> = {
  redis: { server: 'redis', driver: 'ioredis' },
  postgres: { server: 'postgresql', driver: 'pg' },
  sqlite: { server: 'sqlite', driver: 'better-sqlite3' },
};

/** A server's answer is kept this long; a failed or late one for less, so it is asked again soon. */
const KEEP_MS = 60_000;
const RETRY_MS = 10_000;

const installed = new Map<string, string | null>();

/**
 * @internal The installed version of package `name`, read from its package.json as Node would find
 * it from this package (never importing it); `null` when it is not installed. Read once.
 */
export function installedVersion(name: string): string | null {
  const known = installed.get(name);
  if (known !== undefined) return known;
  let version: string | null = null;
  try {
    for (const directory of createRequire(import.meta.url).resolve.paths(name) ?? []) {
      try {
        const json = JSON.parse(readFileSync(join(directory, name, 'package.json'), 'utf8'));
        if (typeof json?.version === 'string') {
          version = json.version;
          break;
        }
      } catch {
        // Not in this node_modules: the next one up.
      }
    }
  } catch {
    // No file URL to resolve from (a bundle loaded from memory): unknown.
  }
  installed.set(name, version);
  return version;
}

interface ServerVersions {
  cache: Record<string, string | null>;
  tasks: { name: string; version: string | null } | undefined;
}

/**
 * @internal The `modules` of `/info` with versions: each enabled module with the package's version
 * and, where known, the servers and driver packages it runs on. Server versions are read from the
 * modules' own connections (Redis `INFO server`, PostgreSQL `SHOW server_version`), at most one
 * read at a time, kept for a minute, and waited for at most `timeoutMs`: a server that is down
 * makes its version `null`, never a slow or failed answer.
 */
export class ModuleVersions {
  readonly #enterprise: MonitoredInstance;
  readonly #timeoutMs: number;
  #known: { at: number; value: ServerVersions; keepMs: number } | undefined;
  #reading: Promise<ServerVersions> | undefined;

  constructor(enterprise: MonitoredInstance, timeoutMs: number) {
    this.#enterprise = enterprise;
    this.#timeoutMs = timeoutMs;
  }

  /** The enabled modules (`enabled[name] === true`) with their versions. Never rejects. */
  async read(enabled: Record<string, boolean>): Promise<Record<string, ModuleVersion>> {
    const { version } = packageInfo();
    const servers = await this.#servers();
    const modules: Record<string, ModuleVersion> = {};
    for (const [name, on] of Object.entries(enabled)) {
      if (on) modules[name] = { version, runsOn: {} };
    }
    if (modules.monitoring) modules.monitoring.runsOn.hono = installedVersion('hono');
    if (modules.cache) {
      for (const [tier, server] of Object.entries(servers.cache)) {
        addStore(modules.cache.runsOn, tier, server);
      }
    }
    if (modules.tasks && servers.tasks !== undefined) {
      addStore(modules.tasks.runsOn, servers.tasks.name, servers.tasks.version);
    }
    return modules;
  }

  async #servers(): Promise<ServerVersions> {
    const known = this.#known;
    if (known !== undefined && Date.now() - known.at < known.keepMs) return known.value;
    this.#reading ??= this.#readServers().finally(() => {
      this.#reading = undefined;
    });
    try {
      return await rejectAfter(this.#reading, this.#timeoutMs, 'server versions timed out');
    } catch {
      // Late: answer without them now; the read goes on and fills the cache when it lands.
      const empty: ServerVersions = { cache: {}, tasks: undefined };
      return known?.value ?? empty;
    }
  }

  async #readServers(): Promise<ServerVersions> {
    const cache = this.#enterprise.peek('cache');
    const tasks = this.#enterprise.peek('tasks');
    const [cacheVersions, tasksVersion] = await Promise.all([
      cache?.serverVersions().catch(() => ({})) ?? {},
      tasks?.backendVersion().catch(() => undefined),
    ]);
    const value: ServerVersions = { cache: cacheVersions, tasks: tasksVersion };
    const complete =
      Object.values(cacheVersions).every((v) => v !== null) && tasksVersion?.version !== null;
    this.#known = { at: Date.now(), value, keepMs: complete ? KEEP_MS : RETRY_MS };
    return value;
  }
}

/** A store's server version under its label, and its driver package's installed version. */
function addStore(runsOn: Record<string, string | null>, name: string, version: string | null) {
  const store = STORES[name];
  if (store === undefined) {
    runsOn[name] = version;
    return;
  }
  runsOn[store.server] = version;
  runsOn[store.driver] = installedVersion(store.driver);
}
