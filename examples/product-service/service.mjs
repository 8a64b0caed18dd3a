// The HTTP side of the product service, as a plain node:http handler:
//
//   GET /products/:id          one product (404 when there is none)
//   GET /products?ids=1,2,3    up to 100 products, in the order asked; null for ids with none
//   PUT /products/:id          {"name"?: string, "priceCents"?: integer} -> the updated product
//   GET /metrics, /cache/*     the cache's ops endpoints (examples/ops-handler.mjs), bearer token
//
// node:http rather than a framework: three routes need no router, the ops
// handler this mounts is a node:http handler already, and the benchmark that
// drives this service then measures the cache and the database, not a
// framework's overhead. Each route is a few lines to move into Express or
// Fastify (`app.get('/products/:id', ...)` calling the same catalog).

const MAX_BODY_BYTES = 4096;
const MAX_BATCH = 100;
const JSON_TYPE = 'application/json; charset=utf-8';
const ID = /^[1-9]\d{0,8}$/;

class HttpError extends Error {
  constructor(status, error, message) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

/**
 * @param {{
 *   catalog: ReturnType<typeof import('./catalog.mjs').createCatalog>,
 *   ops?: (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void,
 *   log?: (line: string) => void,
 * }} options
 * @returns {(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void}
 */
export function createProductService({ catalog, ops, log = () => {} }) {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/metrics' || url.pathname.startsWith('/cache/')) {
      if (ops) return ops(request, response);
      return send(response, 404, { error: 'not_found', message: 'this service runs without a cache' });
    }
    route(request, url)
      .then(([status, body]) => send(response, status, body))
      .catch((error) => {
        if (error instanceof HttpError) return send(response, error.status, { error: error.error, message: error.message });
        log(`${request.method} ${url.pathname} failed: ${error?.code ?? ''} ${error?.message ?? error}`);
        send(response, 500, { error: 'internal', message: 'internal error' });
      });
  };

  async function route(request, url) {
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'products' || parts.length > 2) throw new HttpError(404, 'not_found', `no endpoint ${url.pathname}`);
    if (parts.length === 1) {
      if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET /products?ids=1,2,3');
      const products = await catalog.products(parseIds(url.searchParams.get('ids')));
      return [200, { products: products.map((product) => product ?? null) }];
    }
    const id = parseId(parts[1]);
    if (request.method === 'GET') {
      const product = await catalog.product(id);
      if (product === undefined) throw new HttpError(404, 'not_found', `no product ${id}`);
      return [200, product];
    }
    if (request.method === 'PUT') {
      const product = await catalog.update(id, parseChanges(await readJson(request)));
      if (product === undefined) throw new HttpError(404, 'not_found', `no product ${id}`);
      return [200, product];
    }
    throw new HttpError(405, 'method_not_allowed', 'use GET or PUT');
  }
}

function parseId(text) {
  if (!ID.test(text)) throw new HttpError(400, 'bad_request', `a product id is a positive integer, got ${JSON.stringify(text.slice(0, 20))}`);
  return Number(text);
}

function parseIds(text) {
  if (!text) throw new HttpError(400, 'bad_request', 'send ?ids=1,2,3');
  const ids = text.split(',');
  if (ids.length > MAX_BATCH) throw new HttpError(400, 'bad_request', `at most ${MAX_BATCH} ids per request`);
  return ids.map(parseId);
}

function parseChanges(body) {
  const fields = Object.keys(body);
  const known = fields.every((field) => field === 'name' || field === 'priceCents');
  const nameOk = body.name === undefined || (typeof body.name === 'string' && body.name.length > 0 && body.name.length <= 200);
  const priceOk = body.priceCents === undefined || (Number.isSafeInteger(body.priceCents) && body.priceCents >= 0 && body.priceCents <= 2 ** 31 - 1);
  if (fields.length === 0 || !known || !nameOk || !priceOk) {
    throw new HttpError(400, 'bad_request', 'send {"name": "1 to 200 characters"} and/or {"priceCents": integer >= 0}');
  }
  return { name: body.name, priceCents: body.priceCents };
}

async function readJson(request) {
  if (!/^application\/json(;|$)/i.test(request.headers['content-type'] ?? '')) throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', `bodies are at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'the body must be a JSON object');
  return body;
}

function send(response, status, body) {
  if (response.headersSent) return response.end();
  response.writeHead(status, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
