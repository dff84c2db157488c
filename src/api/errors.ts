import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from './context.ts';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';

/** The closed set of errors the API reports, each with its HTTP status and RFC 9457 title. */
export const PROBLEMS = {
  bad_request: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  not_applicable: { status: 404, title: 'Not applicable to this source' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;
export type ProblemCode = keyof typeof PROBLEMS;

export interface InvalidParam {
  name: string;
  reason: string;
}

/** An error we raise on purpose; `onError` renders it as problem+json. */
export class ApiError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { invalidParams?: InvalidParam[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  /** A 400 that names the offending query parameter. */
  static badParam(name: string, reason: string): ApiError {
    return new ApiError('bad_request', `query parameter "${name}": ${reason}`, { invalidParams: [{ name, reason }] });
  }
}

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:pricecast:problem:bad_request' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().openapi({ description: 'Path of the request that failed' }),
    request_id: z.string(),
    invalid_params: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof problemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Responses every authenticated route may return, for the OpenAPI document. */
export function problemResponses(...codes: ProblemCode[]) {
  const out: Record<number, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof problemSchema } } }> = {};
  for (const code of codes) {
    out[PROBLEMS[code].status] = { description: PROBLEMS[code].title, content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } };
  }
  return out;
}

export function problemBody(c: Context<AppEnv>, code: ProblemCode, detail: string, invalidParams?: InvalidParam[]): Problem {
  return {
    type: `urn:pricecast:problem:${code}`,
    title: PROBLEMS[code].title,
    status: PROBLEMS[code].status,
    detail,
    instance: c.req.path,
    request_id: c.get('requestId') ?? '',
    ...(invalidParams?.length ? { invalid_params: invalidParams } : {}),
  };
}

export function problemResponse(c: Context<AppEnv>, code: ProblemCode, detail: string, invalidParams?: InvalidParam[], headers?: Record<string, string>): Response {
  const body = problemBody(c, code, detail, invalidParams);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

const STATUS_TO_CODE: Record<number, ProblemCode> = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 406: 'not_acceptable', 503: 'unavailable',
};

/**
 * The one error path, in three tiers: our ApiErrors render as they are; framework HTTPExceptions keep
 * their status and headers (bearer-auth failures carry WWW-Authenticate in `err.res`); anything else
 * is a 500 logged with the request id, its message never shown to the client.
 */
export function renderError(err: unknown, c: Context<AppEnv>, logger: Logger): Response {
  if (err instanceof ApiError) {
    return problemResponse(c, err.code, err.detail, err.extra.invalidParams, err.extra.headers);
  }
  if (err instanceof HTTPException) {
    const code = STATUS_TO_CODE[err.status] ?? (err.status >= 500 ? 'internal' : 'bad_request');
    const headers: Record<string, string> = {};
    err.res?.headers.forEach((v, k) => {
      if (k.toLowerCase() !== 'content-type' && k.toLowerCase() !== 'content-length') headers[k] = v;
    });
    const res = problemResponse(c, code, err.message || PROBLEMS[code].title, undefined, headers);
    return err.status === PROBLEMS[code].status ? res : new Response(res.body, { status: err.status, headers: res.headers });
  }
  logger.error({ err, request_id: c.get('requestId'), path: c.req.path }, 'unhandled error');
  return problemResponse(c, 'internal', 'An unexpected error occurred; quote the request_id when reporting it.');
}
