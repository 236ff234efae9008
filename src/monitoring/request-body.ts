// The JSON body of an action request, read within a bound, and the 400 that names the wrong field.
import { MonitoringRequestError } from './errors.js';

/** A JSON body larger than this is refused: an action's body is a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/** @internal A 400 naming the request field that is wrong. */
export function badRequest(message: string, field: string): MonitoringRequestError {
  return new MonitoringRequestError(400, 'E_BAD_REQUEST', message, {}, { field });
}

/**
 * @internal The JSON object a request carries; `{}` when it carries none and none is `required`.
 * A body must be `application/json`, a JSON object and at most 64 KiB, else the answer is a 400.
 */
export async function jsonBody(
  request: Request,
  required: boolean,
): Promise<Record<string, unknown>> {
  const text = await boundedText(request);
  if (text.trim() === '') {
    if (required) throw badRequest('a JSON body is required', 'body');
    return {};
  }
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw badRequest('the body must be sent as application/json', 'body');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('the body is not valid JSON', 'body');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body must be a JSON object', 'body');
  }
  return value as Record<string, unknown>;
}

async function boundedText(request: Request): Promise<string> {
  if (request.body === null) return '';
  if (Number(request.headers.get('content-length')) > MAX_BODY_BYTES) throw tooLarge();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(): MonitoringRequestError {
  return badRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`, 'body');
}
