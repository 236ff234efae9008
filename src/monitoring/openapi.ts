import type { PackageInfo } from './info.js';
import { json, ref, type Schema, str } from './openapi-builders.js';
import { SCHEMAS } from './openapi-schemas.js';
import { ROUTES } from './routes.js';

/** `/tasks/dead/:id/retry` -> `/tasks/dead/{id}/retry`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/**
 * @internal The OpenAPI 3.1 document of the router, with the paths as the router sees them (below
 * its mount point; `server` is the mount point when known).
 */
export function openApiDocument(
  info: PackageInfo,
  server: string | undefined,
  secured: boolean,
): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of ROUTES) {
    const path = toOpenApiPath(route.path);
    const parameters: Schema[] = [];
    for (const match of route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
      parameters.push({ name: match[1], in: 'path', required: true, schema: str });
    }
    for (const q of route.query ?? []) {
      parameters.push({
        name: q.name,
        in: 'query',
        required: q.required ?? false,
        description: q.description,
        schema: q.schema,
      });
    }
    const responses: Record<string, Schema> = {};
    for (const [status, [description, mediaType, schema]] of Object.entries(route.responses)) {
      responses[status] = { description, content: { [mediaType]: { schema } } };
    }
    if (route.auth && secured) {
      responses['401'] ??= errorResponse('Missing or invalid credentials.');
      responses['403'] ??= errorResponse('The auth hook refused these credentials.');
    }
    responses['500'] ??= errorResponse('Internal error (no details are exposed).');
    const operation: Schema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      responses,
    };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body !== undefined) {
      operation.requestBody = {
        description: route.body.description,
        required: route.body.required,
        content: { [json]: { schema: route.body.schema } },
      };
    }
    // Endpoints without auth opt out of the global requirement.
    if (!route.auth && secured) operation.security = [];
    paths[path] ??= {};
    paths[path][route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${info.name} monitoring`,
      version: info.version,
      description:
        'The monitoring endpoints of @revcopy/enterprise. Errors are `{ "error": { "code", "message" } }`; every response carries `x-request-id`.',
    },
    ...(server === undefined ? {} : { servers: [{ url: server }] }),
    ...(secured ? { security: [{ bearer: [] }] } : {}),
    paths,
    components: {
      schemas: SCHEMAS,
      ...(secured ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
    },
  };
}

function errorResponse(description: string): Schema {
  return { description, content: { [json]: { schema: ref('Error') } } };
}
