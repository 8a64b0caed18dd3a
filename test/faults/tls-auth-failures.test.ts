/**
 * Refused logins and TLS failures against real servers, and a leak test
 * over all of them. Every string a user could see while these failures
 * happen is collected (errors with their stacks, causes and own properties,
 * events, diagnostics-channel messages (shardcache's operation and tracing
 * channels, and ioredis's own tracing channels), console output, stats(), health(), metrics, util.inspect and
 * JSON.stringify of the cache, ConfigErrors about the options) and searched
 * for every secret at the end. NODE_DEBUG lines are checked in
 * test/integration/secret-leak-debug.test.ts (they need a fresh process).
 */
import diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError, ConfigError, createCache, NodeError, TlsError, type ShardcacheOptions } from '../../src/index.js';
import { loadOptions } from '../../src/config/load.js';
import { traceChannels } from '../../src/tracing.js';
import type { ShardedCache } from '../../src/cache/sharded-cache.js';
import { makeTestPki, startLegacyAuthRedis, startSecureMemcached, startTlsRedis, testSecret, tlsMemcachedStats, tlsRedisInfo, type TestPki } from '../harness/secure-servers.js';
import { startMemcached, stopAll, type ServerProcess } from '../harness/servers.js';
import { nextEvent } from '../harness/events.js';
import { exchangeSecure } from '../harness/secure-servers.js';
import { respCommand } from '../harness/servers.js';

const PASSWORD = testSecret('pw');
const WRONG_PASSWORD = testSecret('wrong');
const RETIRED_PASSWORD = testSecret('retired');
const LEGACY_PASSWORD = testSecret('legacy');
const SECRETS = [PASSWORD, WRONG_PASSWORD, RETIRED_PASSWORD, LEGACY_PASSWORD];
const APP = { username: 'app', password: PASSWORD };

let pki: TestPki;
let redisA: ServerProcess;
let redisB: ServerProcess;
let memcachedA: ServerProcess;
let memcachedB: ServerProcess;
let plainRedis: ServerProcess;
let plainMemcached: ServerProcess;

// ---------------------------------------------------------------------------
// Everything a user could see, collected as text.

const seen: { where: string; text: string }[] = [];
const caches: ShardedCache[] = [];

function textOf(value: unknown): string {
  const parts = [inspect(value, { depth: Infinity, showHidden: true, getters: true, maxArrayLength: Infinity, maxStringLength: Infinity }), String(value)];
  try {
    parts.push(JSON.stringify(value) ?? '');
  } catch {
    // circular: inspect covered it
  }
  for (let error = value; error instanceof Error; error = error.cause) parts.push(error.message, error.stack ?? '', JSON.stringify(Object.getOwnPropertyDescriptors(error), (_, v: unknown) => (typeof v === 'function' ? undefined : v)));
  return parts.join('\n');
}

function collect(where: string, value: unknown): void {
  seen.push({ where, text: textOf(value) });
}

/** A cache whose events, reports, metrics and inspection are all collected. */
async function watched(options: ShardcacheOptions): Promise<{ cache: ShardedCache; registry: Registry }> {
  const registry = new Registry();
  let cache: ShardedCache;
  try {
    cache = await createCache({ ...options, metrics: { registry } }, { env: {} });
  } catch (error) {
    collect('createCache rejection', error);
    throw error;
  }
  const emit = cache.events.emit.bind(cache.events) as (name: string, ...args: unknown[]) => boolean;
  (cache.events as unknown as { emit: typeof emit }).emit = (name, ...args) => {
    collect(`event ${name}`, args);
    return emit(name, ...args);
  };
  caches.push(cache);
  return { cache, registry };
}

async function snapshot(where: string, cache: ShardedCache, registry: Registry): Promise<void> {
  collect(`${where} stats`, cache.stats());
  collect(`${where} health`, cache.health());
  collect(`${where} metrics`, await registry.metrics());
  collect(`${where} inspect`, cache);
}

async function rejection(promise: Promise<unknown>, where: string): Promise<unknown> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  collect(where, outcome);
  return outcome;
}

const TRACE_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];
/** shardcache's operation channel and tracing channels, and ioredis's own tracing channels. */
const channels = [
  'shardcache:operation',
  ...Object.keys(traceChannels).flatMap((operation) => TRACE_EVENTS.map((event) => `tracing:shardcache:${operation}:${event}`)),
  ...['command', 'batch', 'connect'].flatMap((kind) => TRACE_EVENTS.map((event) => `tracing:ioredis:${kind}:${event}`)),
];
const onMessage = (message: unknown, name: string | symbol) => collect(`diagnostics ${String(name)}`, message);

beforeAll(async () => {
  pki = makeTestPki();
  for (const channel of channels) diagnostics.subscribe(channel, onMessage);
  for (const method of ['log', 'warn', 'error', 'info', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => collect(`console.${method}`, args));
  }
  [redisA, redisB, memcachedA, memcachedB, plainRedis, plainMemcached] = await Promise.all([
    startTlsRedis(pki, [APP, { username: 'retired', password: RETIRED_PASSWORD, enabled: false }]),
    startTlsRedis(pki, [APP]),
    startSecureMemcached(pki, { users: [APP] }),
    startSecureMemcached(pki, { users: [APP] }),
    startLegacyAuthRedis(LEGACY_PASSWORD),
    startMemcached(),
  ]);
});

afterAll(async () => {
  for (const channel of channels) diagnostics.unsubscribe(channel, onMessage);
  vi.restoreAllMocks();
  await Promise.all(caches.map((cache) => cache.close()));
  await stopAll();
  pki?.remove();
});

/** Patient deadlines: the machine is shared; nothing here measures speed. */
const timeouts = { getMs: 3000, setMs: 3000, batchMs: 3000, connectMs: 5000 };
/** Ejected after two failures; the first probe (and the first retry of a refused login) only after a minute: longer than this file. */
const health = { failureLimit: 2, retryTimeoutMs: 60_000 };

function keyOwnedBy(cache: ShardedCache, address: string, prefix = 'key'): string {
  for (let i = 0; i < 1000; i++) if (cache.nodeFor(`${prefix}:${i}`) === address) return `${prefix}:${i}`;
  throw new Error(`no key of the first 1000 lands on ${address}`);
}

// ---------------------------------------------------------------------------

describe.each(['redis', 'memcached'] as const)('%s: a wrong password on one node', (backend) => {
  it('writes reject with AuthError naming node and user, reads miss, health() says why, and the server sees one connection', async () => {
    const [good, bad] = backend === 'redis' ? [redisA, redisB] : [memcachedA, memcachedB];
    // Connections the server accepted, not counting the one that asks (each login attempt needs a connection).
    const connectionsSeen = async () =>
      Number(backend === 'redis' ? (await tlsRedisInfo(bad, pki.ca, APP, 'stats')).total_connections_received : (await tlsMemcachedStats(bad, pki.ca, APP)).total_connections) - 1;
    const before = await connectionsSeen();
    const { cache, registry } = await watched({
      backend,
      nodes: [good.address, { host: bad.host, port: bad.port, auth: { username: 'app', password: WRONG_PASSWORD } }],
      tls: { ca: pki.ca },
      auth: APP,
      timeouts,
      health,
    });
    const key = keyOwnedBy(cache, bad.address);
    const afterStart = await connectionsSeen();
    expect(afterStart - before, 'createCache tried the login once (plus the count query itself)').toBe(2);

    // A write while the node is on the ring rejects with the reason; the read (and its retry) then eject it.
    const failure = await rejection(cache.set(key, 'v'), 'set on the refusing node');
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ code: 'SHARDCACHE_AUTH', node: bad.address, username: 'app', reason: 'rejected' });
    expect((failure as Error).message).toMatch(/refused the login of user "app": wrong password, or the user is unknown or disabled/);
    expect(await cache.get(key)).toBeUndefined();
    expect(cache.health().nodes.find((entry) => entry.address === bad.address)!.state, 'backed off like a dead node').toBe('ejected');

    // Its keys are served by the next node meanwhile; the refusing node is not dialled again before its probe.
    for (let i = 0; i < 50; i++) {
      await cache.set(key, i);
      expect(await cache.get(key)).toBe(i);
    }
    expect((await connectionsSeen()) - afterStart, 'no new connection per request (only the count query)').toBe(1);

    const report = cache.health();
    const node = report.nodes.find((entry) => entry.address === bad.address)!;
    expect(node.serving).toBe(false);
    expect(node.setupFailure).toMatchObject({ code: 'SHARDCACHE_AUTH', reason: 'rejected' });
    expect(report.reasons.join('\n')).toMatch(new RegExp(`${bad.address} .*refused the login of user "app"`));
    expect(report.nodes.find((entry) => entry.address === good.address)!.serving).toBe(true);
    await cache.set('served', 1);
    expect(await cache.get('served')).toBe(1);
    await snapshot(`${backend} wrong password`, cache, registry);
  });
});

describe('Redis: the local tier with a refused login', () => {
  it("its invalidation connection does not hammer the server either, and leaks nothing", async () => {
    const connectionsSeen = async () => Number((await tlsRedisInfo(redisB, pki.ca, APP, 'stats')).total_connections_received) - 1;
    const before = await connectionsSeen();
    const { cache, registry } = await watched({
      backend: 'redis',
      nodes: [redisA.address, { host: redisB.host, port: redisB.port, auth: { username: 'app', password: WRONG_PASSWORD } }],
      tls: { ca: pki.ca },
      auth: APP,
      timeouts,
      health,
      local: { ttlMs: 60_000, heartbeatMs: 50 },
    });
    const key = keyOwnedBy(cache, redisB.address, 'local');
    // Twenty heartbeats' worth of traffic: a subscriber reconnecting at heartbeat pace would dial twenty times.
    for (let i = 0; i < 20; i++) {
      await rejection(cache.set(key, i), 'local tier: set on the refusing node');
      await cache.get(key);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const dialled = (await connectionsSeen()) - before - 1;
    expect(dialled, 'the data client and the invalidation connection tried once each').toBeLessThanOrEqual(2);
    await snapshot('local tier refused login', cache, registry);
  });
});

describe('Redis: the server starts accepting the login', () => {
  it('a probe logs in on its fresh connection and the node returns', async () => {
    const { cache, registry } = await watched({
      backend: 'redis',
      nodes: [redisA.address, { host: redisB.host, port: redisB.port, auth: { username: 'app', password: WRONG_PASSWORD } }],
      tls: { ca: pki.ca },
      auth: APP,
      timeouts,
      health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 400 },
    });
    const key = keyOwnedBy(cache, redisB.address, 'rotation');
    await rejection(cache.set(key, 1), 'set before the server knows the password');
    const ejected = nextEvent(cache, 'node:ejected', ({ node }) => node === redisB.address);
    expect(await cache.get(key)).toBeUndefined();
    await ejected;
    // The server side of a rotation: user app now also accepts the password this node was given.
    const reply = await exchangeSecure(redisB.port, pki.ca, respCommand('AUTH', APP.username, APP.password) + respCommand('ACL', 'SETUSER', 'app', `>${WRONG_PASSWORD}`), (bytes) => bytes.toString('latin1').split('\r\n').length >= 3, 5000);
    expect(reply?.toString('latin1')).toBe('+OK\r\n+OK\r\n');
    const back = await nextEvent(cache, 'node:readmitted', ({ node }) => node === redisB.address, 20_000);
    expect(back.node).toBe(redisB.address);
    expect(cache.health().nodes.find((entry) => entry.address === redisB.address)).toMatchObject({ serving: true, setupFailure: undefined });
    await cache.set(key, 'now');
    expect(await cache.get(key)).toBe('now');
    await snapshot('redis login accepted later', cache, registry);
    await cache.close();
  });
});

describe('a disabled Redis user', () => {
  it('is refused like a wrong password (Redis gives both one reply) and createCache fails fast', async () => {
    const failure = await rejection(watched({ backend: 'redis', nodes: [redisA.address], tls: { ca: pki.ca }, auth: { username: 'retired', password: RETIRED_PASSWORD }, timeouts, health }), 'disabled user');
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ node: redisA.address, username: 'retired', reason: 'rejected' });
    expect((failure as Error).message).toMatch(/unknown or disabled/);
  });

  it('a legacy password alone (AUTH password) that is wrong names the default user', async () => {
    const failure = await rejection(watched({ backend: 'redis', nodes: [plainRedis.address], auth: { password: WRONG_PASSWORD }, timeouts, health }), 'legacy wrong password');
    expect(failure).toMatchObject({ code: 'SHARDCACHE_AUTH', node: plainRedis.address, username: undefined, reason: 'rejected' });
    expect((failure as Error).message).toMatch(/the default user \(password only\)/);
  });
});

describe.each(['redis', 'memcached'] as const)('%s: certificate problems', (backend) => {
  const server = () => (backend === 'redis' ? redisA : memcachedA);

  it('a CA that did not sign the certificate: TlsError untrusted-certificate, createCache fails fast', async () => {
    const failure = await rejection(watched({ backend, nodes: [server().address], tls: { ca: pki.otherCa }, auth: APP, timeouts, health }), `${backend} wrong CA`);
    expect(failure).toBeInstanceOf(TlsError);
    expect(failure).toMatchObject({ code: 'SHARDCACHE_TLS', node: server().address, reason: 'untrusted-certificate' });
    expect((failure as Error).message).toMatch(/not trusted \(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE\).*tls\.ca/);
  });

  it('a certificate for another host: TlsError hostname-mismatch', async () => {
    const failure = await rejection(watched({ backend, nodes: [server().address], tls: { ca: pki.ca, servername: 'cache.example' }, auth: APP, timeouts, health }), `${backend} hostname`);
    expect(failure).toMatchObject({ code: 'SHARDCACHE_TLS', reason: 'hostname-mismatch' });
    expect((failure as Error).message).toMatch(/not issued for this host.*tls\.servername/);
  });
});

describe.each(['redis', 'memcached'] as const)('%s: TLS and plain TCP mixed up', (backend) => {
  it('plain TCP against a TLS-only port: reads miss, writes reject, health() is down', async () => {
    const server = backend === 'redis' ? redisA : memcachedA;
    const { cache, registry } = await watched({ backend, nodes: [server.address], auth: APP, timeouts, health });
    expect(await cache.get('k')).toBeUndefined();
    const failure = await rejection(cache.set('k', 1), `${backend} plain against TLS`);
    expect(failure).toBeInstanceOf(NodeError);
    expect(failure).toMatchObject({ reason: 'unavailable', node: server.address });
    expect((failure as Error).message, 'the reset comes with a hint').toMatch(/a server that requires TLS resets plain-TCP connections like this: is tls needed\?/);
    await rejection(cache.set('k', 2), `${backend} plain against TLS, again`);
    expect(cache.health().status).toBe('down');
    await snapshot(`${backend} plain against TLS`, cache, registry);
  });

  it('TLS against a plain-text port: TlsError, handshake-timeout (redis never answers the hello) or handshake-failed (memcached answers in plain text)', async () => {
    const server = backend === 'redis' ? plainRedis : plainMemcached;
    const { cache, registry } = await watched({ backend, nodes: [server.address], tls: { ca: pki.ca }, timeouts: { ...timeouts, connectMs: 300 }, health });
    expect(await cache.get('k')).toBeUndefined();
    const failure = await rejection(cache.set('k', 1), `${backend} TLS against plain`);
    expect(failure).toBeInstanceOf(TlsError);
    // redis-server reads a TLS hello as the start of an inline command and waits for its end; memcached answers ERROR in plain text.
    if (backend === 'redis') {
      expect(failure).toMatchObject({ reason: 'handshake-timeout', node: server.address });
      expect((failure as Error).message).toMatch(/TLS handshake did not complete within 300 ms: is this port TLS\?/);
    } else {
      expect(failure).toMatchObject({ reason: 'handshake-failed', node: server.address });
      expect((failure as Error).message).toMatch(/did not answer in TLS \(ERR_SSL_WRONG_VERSION_NUMBER\): is this port TLS\?/);
    }
    await rejection(cache.set('k', 2), `${backend} TLS against plain, again`);
    const node = cache.health().nodes[0]!;
    expect(node.setupFailure).toMatchObject({ code: 'SHARDCACHE_TLS', reason: (failure as TlsError).reason });
    await snapshot(`${backend} TLS against plain`, cache, registry);
  });
});

describe.each(['redis', 'memcached'] as const)('%s: a TLS node that restarts', (backend) => {
  it('reconnects over TLS and logs in again (the port is TLS-only, user default off)', async () => {
    const server = backend === 'redis' ? redisB : memcachedB;
    const { cache, registry } = await watched({ backend, nodes: [server.address], tls: { ca: pki.ca }, auth: APP, timeouts, health: { failureLimit: 100, retryTimeoutMs: 50 }, breaker: { resetTimeoutMs: 50 } });
    await cache.set('before', 1);
    expect(await cache.get('before')).toBe(1);
    await server.restart();
    let written = false;
    for (let attempt = 0; attempt < 100 && !written; attempt++) {
      written = await cache.set('after', 2).then(
        () => true,
        async (error: unknown) => {
          collect(`${backend} during restart`, error);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        },
      );
    }
    expect(written, `a write succeeded after the restart; last errors: ${seen.filter((entry) => entry.where.endsWith('during restart')).slice(-2).map((entry) => entry.text.slice(0, 300)).join(' | ')}`).toBe(true);
    expect(await cache.get('after')).toBe(2);
    expect(await cache.get('before'), 'the restarted server is empty: this answer came from it').toBeUndefined();
    await snapshot(`${backend} restart`, cache, registry);
  });
});

describe.each(['redis', 'memcached'] as const)('%s: a TLS node that hangs (SIGSTOP)', (backend) => {
  it('its connection is replaced, and the new one is TLS and logs in', async () => {
    const server = backend === 'redis' ? redisB : memcachedB;
    const connections = async () => Number(backend === 'redis' ? (await tlsRedisInfo(server, pki.ca, APP, 'stats')).total_connections_received : (await tlsMemcachedStats(server, pki.ca, APP)).total_connections);
    const { cache, registry } = await watched({
      backend,
      nodes: [server.address],
      tls: { ca: pki.ca },
      auth: APP,
      timeouts: { getMs: 300, setMs: 300, batchMs: 300, connectMs: 1000 },
      health: { failureLimit: 2, retryTimeoutMs: 50 },
      breaker: { resetTimeoutMs: 50 },
    });
    await cache.set('hang:before', 1);
    const before = await connections();
    server.pause();
    try {
      for (let i = 0; i < 2; i++) collect(`${backend} hung write`, await rejection(cache.set(`hang:${i}`, i), `${backend} hung write`));
    } finally {
      server.resume();
    }
    let written = false;
    for (let attempt = 0; attempt < 100 && !written; attempt++) {
      written = await cache.set('hang:after', 2).then(
        () => true,
        async (error: unknown) => {
          collect(`${backend} after the hang`, error);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        },
      );
    }
    expect(written, 'a write succeeded after the server resumed').toBe(true);
    expect(await cache.get('hang:after')).toBe(2);
    // The count includes the query that reads it: at least one more is the replacement connection.
    expect((await connections()) - before, 'a new connection logged in').toBeGreaterThanOrEqual(2);
    await snapshot(`${backend} hung`, cache, registry);
  });
});

describe('ConfigErrors and resolved options about logins', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['password not a string', { auth: { username: 'app', password: 12345 } }],
    ['password with a newline', { auth: { username: 'app', password: `${PASSWORD}\n` } }],
    ['unknown auth field', { auth: { user: 'app', password: PASSWORD } }],
    ['bad port beside a login', { nodes: [{ host: '127.0.0.1', port: 'x', auth: { username: 'app', password: PASSWORD } }] }],
    ['bad node string with a login', { nodes: [`app:${PASSWORD}@127.0.0.1:notaport`] }],
    ['nodes not an array', { nodes: `app:${PASSWORD}@127.0.0.1:6379` }],
    ['bad tls beside a passphrase', { tls: { ca: 5, passphrase: PASSWORD } }],
  ];
  it.each(bad)('%s: a ConfigError that never quotes the secret', async (_, options) => {
    const failure = await rejection(createCache({ backend: 'redis', nodes: ['127.0.0.1:1'], ...options } as ShardcacheOptions, { env: {} }), 'ConfigError');
    expect(failure).toBeInstanceOf(ConfigError);
  });

  it('resolved options print no secret (JSON.stringify, util.inspect)', async () => {
    const resolved = await loadOptions(
      { backend: 'redis', nodes: [`app:${PASSWORD}@127.0.0.1:6379`, { host: '127.0.0.1', port: 6380, auth: { password: LEGACY_PASSWORD } }], tls: { ca: pki.ca, passphrase: RETIRED_PASSWORD }, auth: { username: 'app', password: WRONG_PASSWORD } },
      {},
    );
    collect('resolved options', resolved);
    expect(resolved.nodes[0]!.address).toBe('127.0.0.1:6379');
    expect(resolved.nodes[0]!.auth?.revealPassword()).toBe(PASSWORD);
    expect(JSON.parse(JSON.stringify(resolved)).auth).toEqual({ username: 'app', password: '[redacted]' });
  });
});

describe('the leak test', () => {
  it('collected what users see from every failure above', () => {
    const where = new Set(seen.map((entry) => entry.where.split(' ')[0]));
    for (const source of ['event', 'diagnostics', 'createCache', 'redis', 'memcached', 'set', 'ConfigError', 'resolved']) expect(where, source).toContain(source);
    expect(seen.some((entry) => entry.where.startsWith('diagnostics tracing:ioredis:command:error')), 'ioredis published command errors').toBe(true);
    expect(seen.some((entry) => entry.where === 'diagnostics tracing:shardcache:set:error' && entry.text.includes('SHARDCACHE_AUTH')), 'shardcache traced a refused write').toBe(true);
    expect(seen.length).toBeGreaterThan(100);
  });

  it.each(SECRETS.map((secret, i) => [i, secret] as const))('secret %i appears in none of it', (_, secret) => {
    const leaks = seen.filter((entry) => entry.text.includes(secret)).map((entry) => `${entry.where}: ${entry.text.slice(Math.max(0, entry.text.indexOf(secret) - 200), entry.text.indexOf(secret) + 50)}`);
    expect(leaks).toEqual([]);
  });
});
