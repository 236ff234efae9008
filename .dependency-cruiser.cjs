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
  ['adapters', 'cli'],
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

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-root-from-modules',
      comment:
        'no module imports the composition (src/enterprise.ts, src/enterprise/, src/index.ts, src/compose/, src/entries/); modules reach the default instance through core/default-instance.ts',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: '^src/(compose|entries|adapters|cli|enterprise)/' },
      to: { path: '^src/((enterprise|index)\\.ts$|enterprise/|compose/|entries/)' },
    },
    {
      name: 'adapters-load-only-the-root',
      comment:
        'adapter entries load the composition root for the default instance, and nothing else of the composition',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(index\\.ts$|compose/|entries/)' },
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
