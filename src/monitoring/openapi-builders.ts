/** @internal A JSON Schema (the OpenAPI 3.1 dialect, JSON Schema 2020-12). */
export type Schema = Record<string, unknown>;

// Short builders: the route table and the components read as the shapes they describe.
/** @internal A reference to a schema of the document's components. */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
/** @internal The JSON media type. */
export const json = 'application/json';
/** @internal `type` or null. */
export const nullable = (type: string, extra: Schema = {}): Schema => ({
  type: [type, 'null'],
  ...extra,
});
/** @internal A number. */
export const num: Schema = { type: 'number' };
/** @internal A count: a whole number, never negative. */
export const int: Schema = { type: 'integer', minimum: 0 };
/** @internal A string. */
export const str: Schema = { type: 'string' };
/** @internal A boolean. */
export const bool: Schema = { type: 'boolean' };
/** @internal An ISO 8601 date and time. */
export const time: Schema = { type: 'string', format: 'date-time' };
/** @internal An object; every property is required unless `required` says otherwise. */
export const obj = (
  properties: Record<string, Schema>,
  required = Object.keys(properties),
): Schema => ({
  type: 'object',
  properties,
  required,
});
/** @internal An array of `items`. */
export const arr = (items: Schema): Schema => ({ type: 'array', items });
