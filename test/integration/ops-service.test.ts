/**
 * The example ops service (examples/ops-handler.mjs, examples/ops-service.mjs):
 * every endpoint with no token, a wrong token and the right one; request
 * bodies checked; the health code follows the cache; and the runnable
 * service itself (which imports the built package: `npm run build` first,
 * as scripts/test-all.sh does through `npm ci`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpsHandler } from '../../examples/ops-handler.mjs';
import { createCache, type ShardedCache } from '../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../src/testing.js';
import { parseExposition, sampleValue } from '../harness/prometheus.js';
import { startMemcached, stopAll } from '../harness/servers.js';

const TOKEN = 'test-token-0123456789abcdef';
const ENDPOINTS = [
  ['GET', '/metrics'],
  ['GET', '/cache/stats'],
  ['GET', '/cache/health'],
  ['POST', '/cache/invalidate'],
  ['POST', '/cache/clear'],
] as const;

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function call(base: string, method: string, path: string, options: { token?: string; body?: string; type?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { connection: 'close' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
  return fetch(`${base}${path}`, { method, headers, body: options.body });
}

describe('ops handler', () => {
  let cache: ShardedCache;
  let registry: Registry;
  let server: Server;
  let base: string;
  const log: string[] = [];

  beforeEach(async () => {
    registry = new Registry();
    cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2', 'mem-c:3'], metrics: { registry }, health: { retryTimeoutMs: 60_000 } }, { env: {} });
    ({ server, base } = await listen(createOpsHandler({ cache, registry, token: TOKEN, log: (line: string) => log.push(line) })));
  });
  afterEach(async () => {
    await close(server);
    await cache.close();
  });

  it.each(ENDPOINTS)('%s %s: 401 without a token, with a wrong one, or with another scheme', async (method, path) => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }];
    for (const headers of attempts) {
      const response = await fetch(`${base}${path}`, { method, headers: { connection: 'close', ...headers } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="shardcache"');
      expect(await response.json()).toEqual({ error: 'unauthorized', message: 'send Authorization: Bearer <token>' });
    }
  });

  it('GET /metrics: the Prometheus text of the cache registry', async () => {
    await cache.set('k', 1);
    await cache.get('k');
    const response = await call(base, 'GET', '/metrics', { token: TOKEN });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const samples = parseExposition(await response.text());
    expect(sampleValue(samples, 'shardcache_operations_total', { op: 'get', node: cache.nodeFor('k'), result: 'ok' })).toBe(1);
    expect(sampleValue(samples, 'shardcache_read_keys_total', { op: 'get', node: cache.nodeFor('k'), result: 'hit' })).toBe(1);
  });

  it('GET /cache/stats and /cache/health: JSON, 200 while up, 503 once down', async () => {
    await cache.get('k');
    const stats = await call(base, 'GET', '/cache/stats', { token: TOKEN });
    expect(stats.status).toBe(200);
    expect(stats.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await stats.json()).toMatchObject({ reads: { hits: 0, misses: 1, failures: 0 }, nodes: [{ address: 'mem-a:1' }, { address: 'mem-b:2' }, { address: 'mem-c:3' }] });
    const up = await call(base, 'GET', '/cache/health', { token: TOKEN });
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: 'up', reasons: [] });

    const single = await createCache({ backend: 'memory', nodes: ['solo:1'], timeouts: { getMs: 20 } }, { env: {} });
    const solo = await listen(createOpsHandler({ cache: single, registry: new Registry(), token: TOKEN }));
    try {
      pauseMemoryNode(single, 'solo:1');
      await single.get('k'); // two missed deadlines; one node cannot be ejected: it fails on the ring
      const down = await call(solo.base, 'GET', '/cache/health', { token: TOKEN });
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'down', nodes: [{ address: 'solo:1', serving: false }] });
    } finally {
      resumeMemoryNode(single, 'solo:1');
      await close(solo.server);
      await single.close();
    }
  });

  it('POST /cache/invalidate by pattern and by namespace', async () => {
    await cache.mset([['user:1', 1], ['user:2', 2], ['order:1', 3]]);
    const byPattern = await call(base, 'POST', '/cache/invalidate', { token: TOKEN, body: JSON.stringify({ pattern: 'user:*' }) });
    expect(byPattern.status).toBe(200);
    expect(await byPattern.json()).toMatchObject({ pattern: 'user:*', deleted: 2 });
    expect(await cache.mget(['user:1', 'user:2', 'order:1'])).toEqual([undefined, undefined, 3]);

    const users = cache.namespace('users');
    await users.set('1', 'Ada');
    const byNamespace = await call(base, 'POST', '/cache/invalidate', { token: TOKEN, body: JSON.stringify({ namespace: 'users' }) });
    expect(byNamespace.status).toBe(200);
    expect(await byNamespace.json()).toMatchObject({ namespace: 'users', version: expect.any(Number) });
    expect(await users.get('1')).toBeUndefined();
    expect(log).toEqual(['invalidated 2 keys matching "user:*"', expect.stringMatching(/^invalidated namespace "users" \(now version \d+\)$/)]);
  });

  it('POST /cache/clear', async () => {
    await cache.mset([['a', 1], ['b', 2]]);
    const response = await call(base, 'POST', '/cache/clear', { token: TOKEN });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { nodes: unknown[] }).nodes).toHaveLength(3);
    expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
    expect((await call(base, 'POST', '/cache/clear', { token: TOKEN, body: '{}' })).status).toBe(200);
  });

  it.each([
    ['not JSON', { body: '{pattern' }, 400, 'the body is not valid JSON'],
    ['not an object', { body: '["user:*"]' }, 400, 'the body must be a JSON object'],
    ['no field', { body: '{}' }, 400, 'expected {"pattern": "<glob>"} or {"namespace": "<name>"}'],
    ['two fields', { body: '{"pattern":"a*","namespace":"b"}' }, 400, 'expected {"pattern": "<glob>"} or {"namespace": "<name>"}'],
    ['a number', { body: '{"pattern":7}' }, 400, 'expected {"pattern": "<glob>"} or {"namespace": "<name>"}'],
    ['a bad namespace', { body: '{"namespace":"a:b"}' }, 400, expect.stringContaining('namespace name')],
    ['an empty pattern', { body: '{"pattern":""}' }, 400, expect.stringContaining('non-empty glob pattern')],
    ['no JSON type', { body: '{"pattern":"a*"}', type: 'text/plain' }, 415, 'send Content-Type: application/json'],
    ['too large', { body: JSON.stringify({ pattern: 'x'.repeat(5000) }) }, 413, 'bodies are at most 4096 bytes'],
  ])('POST /cache/invalidate with %s: %i', async (_, options, status, message) => {
    const response = await call(base, 'POST', '/cache/invalidate', { token: TOKEN, ...options });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { message: string }).message).toEqual(message);
  });

  it('405 with Allow for a wrong method, 404 for an unknown path, 400 for a body on clear', async () => {
    const wrong = await call(base, 'GET', '/cache/clear', { token: TOKEN });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await call(base, 'DELETE', '/metrics', { token: TOKEN })).status).toBe(405);
    expect((await call(base, 'GET', '/cache/nope', { token: TOKEN })).status).toBe(404);
    expect((await call(base, 'POST', '/cache/clear', { token: TOKEN, body: '{"all":true}' })).status).toBe(400);
  });

  it('refuses to start with a short token', () => {
    expect(() => createOpsHandler({ cache, registry, token: 'short' })).toThrow(/at least 16 characters/);
  });
});

describe('ops handler on memcached', () => {
  afterAll(stopAll);

  it('invalidate by pattern is a 400 naming namespaces; by namespace works', async () => {
    const server = await startMemcached();
    const cache = await createCache({ backend: 'memcached', nodes: [server.address] }, { env: {} });
    const { server: http, base } = await listen(createOpsHandler({ cache, registry: new Registry(), token: TOKEN }));
    try {
      const refused = await call(base, 'POST', '/cache/invalidate', { token: TOKEN, body: '{"pattern":"user:*"}' });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'SHARDCACHE_UNSUPPORTED', message: expect.stringContaining('invalidateNamespace') });
      expect((await call(base, 'POST', '/cache/invalidate', { token: TOKEN, body: '{"namespace":"users"}' })).status).toBe(200);
    } finally {
      await close(http);
      await cache.close();
    }
  });
});

describe('ops service process', () => {
  it('starts on in-process nodes, answers with the token only, and stops on SIGTERM', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    expect(existsSync(`${root}dist/index.js`), 'dist/ is missing: run npm run build (scripts/test-all.sh does)').toBe(true);
    const child = spawn(process.execPath, ['examples/ops-service.mjs'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PORT: '0', SHARDCACHE_ADMIN_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the service did not start within 10 s')), 10_000);
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the service exited with ${code}`));
        });
      });
      expect((await call(base, 'GET', '/cache/health')).status).toBe(401);
      const health = await call(base, 'GET', '/cache/health', { token: TOKEN });
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'up', nodes: [{ address: 'local-a:1' }, { address: 'local-b:2' }, { address: 'local-c:3' }] });
      expect(await (await call(base, 'GET', '/metrics', { token: TOKEN })).text()).toContain('shardcache_ring_nodes 3');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
