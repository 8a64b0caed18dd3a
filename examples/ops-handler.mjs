// The cache-management endpoints of a service that moved to a shared cache,
// as a plain node:http request handler:
//
//   GET  /metrics            Prometheus text format (the registry given to createCache)
//   GET  /cache/stats        cache.stats() as JSON
//   GET  /cache/health       cache.health() as JSON; 503 when down, so load balancers can act on it
//   POST /cache/invalidate   {"pattern": "user:*"} or {"namespace": "users"}
//   POST /cache/clear        empty body or {}
//
// Every endpoint wants "Authorization: Bearer <token>". The token is compared
// in constant time (SHA-256 of both sides, then timingSafeEqual, so neither
// the content nor the length leaks through timing). Bodies are JSON, at most
// 4 KiB, and checked field by field. Errors are JSON { error, message }.
import { createHash, timingSafeEqual } from 'node:crypto';

const MAX_BODY_BYTES = 4096;
const MIN_TOKEN_LENGTH = 16;
const JSON_TYPE = 'application/json; charset=utf-8';

class HttpError extends Error {
  constructor(status, error, message, headers = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/**
 * @param {{ cache: import('shardcache').ShardedCache, registry: import('prom-client').Registry, token: string, log?: (line: string) => void }} options
 * @returns {(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void}
 */
export function createOpsHandler({ cache, registry, token, log = () => {} }) {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the admin token must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = digest(token);

  const routes = {
    'GET /metrics': async () => ({ status: 200, type: registry.contentType, body: await registry.metrics() }),
    'GET /cache/stats': async () => json(200, cache.stats()),
    'GET /cache/health': async () => {
      const health = cache.health();
      return json(health.status === 'down' ? 503 : 200, health);
    },
    'POST /cache/invalidate': async (request) => {
      const body = await readJson(request);
      const fields = Object.keys(body);
      if (fields.length !== 1 || !['pattern', 'namespace'].includes(fields[0]) || typeof body[fields[0]] !== 'string') {
        throw new HttpError(400, 'bad_request', 'expected {"pattern": "<glob>"} or {"namespace": "<name>"}');
      }
      if (body.namespace !== undefined) {
        const version = await cache.invalidateNamespace(body.namespace);
        log(`invalidated namespace ${JSON.stringify(body.namespace)} (now version ${version})`);
        return json(200, { namespace: body.namespace, version });
      }
      const result = await cache.invalidate(body.pattern);
      log(`invalidated ${result.deleted} keys matching ${JSON.stringify(body.pattern)}`);
      return json(200, { pattern: body.pattern, ...result });
    },
    'POST /cache/clear': async (request) => {
      const body = await readJson(request, { optional: true });
      if (Object.keys(body).length > 0) throw new HttpError(400, 'bad_request', 'clear takes no parameters: send no body or {}');
      const result = await cache.clear();
      log('cleared every cache node');
      return json(200, result);
    },
  };
  const methodsByPath = new Map();
  for (const route of Object.keys(routes)) {
    const [method, path] = route.split(' ');
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
  }

  return (request, response) => {
    handle(request)
      .then((reply) => send(response, reply))
      .catch((error) => send(response, errorReply(error)));
  };

  async function handle(request) {
    // Authentication first, so unknown paths reveal nothing either.
    if (!authorized(request.headers.authorization)) {
      throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="shardcache"' });
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = routes[`${request.method} ${path}`];
    if (route) return route(request);
    const allowed = methodsByPath.get(path);
    if (allowed) throw new HttpError(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
    throw new HttpError(404, 'not_found', `no endpoint ${path}`);
  }

  function authorized(header) {
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/.exec(header) : null;
    return match !== null && timingSafeEqual(digest(match[1]), expected);
  }
}

function digest(text) {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The request body as a JSON object; `optional` lets an empty body stand for {}. */
async function readJson(request, { optional = false } = {}) {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', `bodies are at most ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', `bodies are at most ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    chunks.push(chunk);
  }
  if (size === 0 && optional) return {};
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json(;|$)/i.test(type)) throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'the body must be a JSON object');
  return body;
}

function json(status, value) {
  return { status, type: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` };
}

/** shardcache errors carry stable codes: bad input is the client's, node failures are upstream's, the rest stays private. */
function errorReply(error) {
  if (error instanceof HttpError) return { ...json(error.status, { error: error.error, message: error.message }), headers: error.headers };
  switch (error?.code) {
    case 'SHARDCACHE_INVALID_ARGUMENT':
    case 'SHARDCACHE_INVALID_KEY':
    case 'SHARDCACHE_UNSUPPORTED':
      return json(400, { error: error.code, message: error.message });
    case 'SHARDCACHE_WRITE_FAILED':
    case 'SHARDCACHE_DEADLINE':
    case 'SHARDCACHE_NODE':
    case 'SHARDCACHE_BREAKER_OPEN':
      return json(502, { error: error.code, message: error.message });
    default:
      return json(500, { error: 'internal', message: 'internal error' });
  }
}

function send(response, { status, type, body, headers = {} }) {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  response.end(body);
}
