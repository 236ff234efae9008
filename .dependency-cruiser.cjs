// Module boundaries of ARCHITECTURE.md, checked by `npm run lint`. Type-only imports count: a
// module that needs a sibling's types depends on that sibling as much as one that calls it.
const LAYERS = [
  ['core'],
  ['redis'],
  ['performance'],
  ['resilience'],
  ['cache', 'tasks'],
  ['alerts', 'security', 'analytics'],
  ['maintenance'],
  ['monitoring'],
  ['adapters'],
];

const above = (index) => LAYERS.slice(index + 1).flat();
const layerRules = LAYERS.flatMap((modules, index) =>
  modules.flatMap((module) => [
    ...(above(index).length > 0
      ? [
          {
            name: `${module}-imports-downwards`,
            comment: `${module}/ may import only the modules below it (ARCHITECTURE.md)`,
            severity: 'error',
            from: { path: `^src/${module}/` },
            to: { path: `^src/(${above(index).join('|')})/` },
          },
        ]
      : []),
    ...(modules.length > 1
      ? [
          {
            name: `${module}-not-its-siblings`,
            comment: 'modules on one level never import each other; enterprise.ts wires them',
            severity: 'error',
            from: { path: `^src/${module}/` },
            to: { path: `^src/(${modules.filter((m) => m !== module).join('|')})/` },
          },
        ]
      : []),
  ]),
);

// Imports of the composition root from inside the modules, present today: the default instance
// (`getEnterprise`, `defaultForCall`) is still reached through enterprise.ts. Each one goes once the
// default instance is reached through a registry in core/; none may be added.
const KNOWN_ROOT_IMPORTS = [
  'src/adapters/mount.ts',
  'src/adapters/nestjs.ts',
  'src/adapters/task-discovery.ts',
  'src/cache/cached.ts',
  'src/cache/default-cache.ts',
  'src/monitoring/handlers/types.ts',
  'src/monitoring/health.ts',
  'src/monitoring/live-snapshot.ts',
  'src/monitoring/query-monitor.ts',
  'src/monitoring/request-instrumentation.ts',
  'src/monitoring/router.ts',
  'src/monitoring/tasks-source.ts',
  'src/performance/default-monitor.ts',
  'src/performance/decorator.ts',
  'src/performance/query-timings.ts',
  'src/tasks/default-tasks.ts',
  'src/tasks/registry.ts',
];
const exact = (path) => path.replace(/[.]/g, '\\.');

// Cycles present today, all of their modules listed (a cycle is reported unless every module in
// it is here): the monitor and the call sites and wrappers that refer to its type, and the task
// registry reaching the default instance through enterprise.ts, which builds the task manager
// (and so its parts). None may be added.
const KNOWN_CYCLES = [
  'src/enterprise.ts',
  'src/performance/call-site.ts',
  'src/performance/performance-monitor.ts',
  'src/performance/wrap-function.ts',
  'src/tasks/dead-letters.ts',
  'src/tasks/manager.ts',
  'src/tasks/pool-hooks.ts',
  'src/tasks/registry.ts',
  'src/tasks/task-build.ts',
  'src/tasks/task-pools.ts',
  'src/tasks/task-queues.ts',
  'src/tasks/task-stats.ts',
  'src/tasks/task-submit.ts',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only imports included',
      severity: 'error',
      from: { pathNot: `^(${KNOWN_CYCLES.map(exact).join('|')})$` },
      to: { circular: true },
    },
    {
      name: 'no-root-from-modules',
      comment:
        'no module imports the composition root (src/enterprise.ts, src/index.ts) to reach a sibling',
      severity: 'error',
      from: {
        path: '^src/[^/]+/',
        pathNot: `^(${KNOWN_ROOT_IMPORTS.map(exact).join('|')})$`,
      },
      to: { path: '^src/(enterprise|index)\\.ts$' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
