export * from './events/index.js';
export * from './history/index.js';
