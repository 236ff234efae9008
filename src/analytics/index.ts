export * from './capacity/index.js';
export * from './cluster/index.js';
export * from './events/index.js';
export * from './history/index.js';
export * from './reports/index.js';
