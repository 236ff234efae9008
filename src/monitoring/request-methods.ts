// The HTTP methods the request instrumentation names as they are, in labels and log lines.

/** @internal Methods kept as they are; anything else (WebDAV, custom verbs) is counted as `OTHER`. */
export const METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'OTHER',
] as const;

/** @internal The index of `OTHER` in {@link METHODS}. */
export const OTHER_METHOD = METHODS.length - 1;

const METHOD_INDEX = new Map<string, number>(METHODS.map((method, index) => [method, index]));

/** @internal The index of `method` in {@link METHODS}: {@link OTHER_METHOD} for any other. */
export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? OTHER_METHOD;
}
