export { CapacityConfigError, CapacityQueryError } from './errors.js';
export {
  crossing,
  fitHolt,
  type HoltForecastPoint,
  type HoltModel,
  holtPoint,
  normalQuantile,
} from './holt.js';
export { CapacityPlanner, type CapacityPlannerOptions } from './planner.js';
export type {
  CapacityForecast,
  CapacityHistory,
  CapacityLimit,
  CapacityQuery,
  CapacityReport,
} from './types.js';
