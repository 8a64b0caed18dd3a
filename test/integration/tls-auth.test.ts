/**
 * TLS and logins against real servers: redis-server on a TLS-only port with
 * an ACL user (and user `default` off), a plain redis-server with a legacy
 * `requirepass`, and memcached with TLS on every port and SASL PLAIN. The
 * ports are TLS-only, so every answer here came over TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, createCache, type ShardedCache } from '../../src/index.js';
import { makeTestPki, startLegacyAuthRedis, startSecureMemcached, startTlsRedis, testSecret, type TestPki } from '../harness/secure-servers.js';
import { redisInfo, stopAll, type ServerProcess } from '../harness/servers.js';
import { readUntil } from '../harness/cache-process.js';

const PASSWORD = testSecret('pw');
const LEGACY_PASSWORD = testSecret('legacy');
let pki: TestPki;
let tlsRedis: ServerProcess;
let legacyRedis: ServerProcess;
let memcached: ServerProcess;

beforeAll(async () => {
  pki = makeTestPki();
  [tlsRedis, legacyRedis, memcached] = await Promise.all([
    startTlsRedis(pki, [{ username: 'app', password: PASSWORD }]),
    startLegacyAuthRedis(LEGACY_PASSWORD),
    startSecureMemcached(pki, { users: [{ username: 'app', password: PASSWORD }] }),
  ]);
});
afterAll(async () => {
  await stopAll();
  pki?.remove();
});

const timeouts = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 5000 };

/** get, set, mget, mset and del all work on `cache`, with no request error; closes it. */
async function expectRoundTrips(cache: ShardedCache): Promise<void> {
  try {
    await cache.set('tls:a', { n: 1 });
    await cache.mset([
      ['tls:b', 'two'],
      ['tls:c', [3]],
    ]);
    expect(await cache.get('tls:a')).toEqual({ n: 1 });
    expect(await cache.mget(['tls:a', 'tls:b', 'tls:c', 'tls:none'])).toEqual([{ n: 1 }, 'two', [3], undefined]);
    expect(await cache.del('tls:a')).toBe(true);
    expect(await cache.get('tls:a')).toBeUndefined();
    expect(cache.stats().requests.errors).toBe(0);
  } finally {
    await cache.close();
  }
}

describe('Redis over TLS with an ACL user', () => {
  it('round-trips get, set, mget, mset and del', async () => {
    const cache = await createCache({ backend: 'redis', nodes: [tlsRedis.address], tls: { ca: pki.ca }, auth: { username: 'app', password: PASSWORD }, timeouts }, { env: {} });
    await expectRoundTrips(cache);
  });

  it('takes the login from a user:pass@host:port node string, percent-encoded', async () => {
    const node = `app:${encodeURIComponent(PASSWORD)}@${tlsRedis.address}`;
    const cache = await createCache({ backend: 'redis', nodes: [node], tls: { ca: pki.ca }, timeouts }, { env: {} });
    try {
      expect(cache.nodeFor('k')).toBe(tlsRedis.address);
      await cache.set('tls:url', 1);
      expect(await cache.get('tls:url')).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('gives each node its own TLS and login: a legacy requirepass node in plain TCP beside the TLS one', async () => {
    const cache = await createCache(
      {
        backend: 'redis',
        nodes: [tlsRedis.address, { host: legacyRedis.host, port: legacyRedis.port, tls: false, auth: { password: LEGACY_PASSWORD } }],
        tls: { ca: pki.ca },
        auth: { username: 'app', password: PASSWORD },
        timeouts,
      },
      { env: {} },
    );
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `mixed:${i}`);
      await cache.mset(keys.map((key, i) => [key, i]));
      expect(await cache.mget(keys)).toEqual(keys.map((_, i) => i));
      const owners = new Set(keys.map((key) => cache.nodeFor(key)));
      expect(owners).toEqual(new Set([tlsRedis.address, legacyRedis.address]));
      const { connected_clients } = await redisInfo(legacyRedis, 'clients').catch(() => ({ connected_clients: 'NOAUTH' }));
      expect(connected_clients, 'the legacy node refuses an unauthenticated INFO').toBe('NOAUTH');
    } finally {
      await cache.close();
    }
  });

  it('setNodes dials a joining node with the TLS and login it is listed with', async () => {
    const cache = await createCache({ backend: 'redis', nodes: [tlsRedis.address], tls: { ca: pki.ca }, auth: { username: 'app', password: PASSWORD }, timeouts }, { env: {} });
    try {
      const changes = await cache.setNodes([tlsRedis.address, { host: legacyRedis.host, port: legacyRedis.port, tls: false, auth: { password: LEGACY_PASSWORD } }]);
      expect(changes.added).toEqual([legacyRedis.address]);
      const keys = Array.from({ length: 40 }, (_, i) => `joined:${i}`);
      await cache.mset(keys.map((key, i) => [key, i]));
      expect(await cache.mget(keys)).toEqual(keys.map((_, i) => i));
      expect(new Set(keys.map((key) => cache.nodeFor(key)))).toEqual(new Set([tlsRedis.address, legacyRedis.address]));
      expect(cache.health().status).toBe('up');
    } finally {
      await cache.close();
    }
  });

  it('reads SHARDCACHE_TLS_CA_FILE, SHARDCACHE_AUTH_USERNAME and SHARDCACHE_AUTH_PASSWORD_FILE', async () => {
    const { writeFileSync } = await import('node:fs');
    const passwordFile = `${pki.dir}/password`;
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const env = { SHARDCACHE_BACKEND: 'redis', SHARDCACHE_NODES: tlsRedis.address, SHARDCACHE_TLS_CA_FILE: pki.caFile, SHARDCACHE_AUTH_USERNAME: 'app', SHARDCACHE_AUTH_PASSWORD_FILE: passwordFile };
    const cache = await createCache({ timeouts }, { env });
    try {
      await cache.set('tls:env', 'yes');
      expect(await cache.get('tls:env')).toBe('yes');
    } finally {
      await cache.close();
    }
  });
});

describe('the local tier over TLS with an ACL user', () => {
  it("its invalidation connection is TLS and logs in too: another cache's write reaches it", async () => {
    const options = { backend: 'redis' as const, nodes: [tlsRedis.address], tls: { ca: pki.ca }, auth: { username: 'app', password: PASSWORD }, timeouts };
    const [a, b] = await Promise.all([createCache({ ...options, local: { ttlMs: 600_000, heartbeatMs: 100 } }, { env: {} }), createCache(options, { env: {} })]);
    try {
      await b.set('lt:tls', 'v1');
      await readUntil(() => a.get('lt:tls'), (value) => value === 'v1', 'A reads v1');
      const hits = a.stats().local!.hits;
      expect(await a.get('lt:tls')).toBe('v1');
      expect(a.stats().local!.hits, 'the second read came from the local tier').toBe(hits + 1);
      await b.set('lt:tls', 'v2');
      await readUntil(() => a.get('lt:tls'), (value) => value === 'v2', 'A sees the overwrite through the TLS, logged-in invalidation connection');
      expect(a.stats().local!.invalidations).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('memcached over TLS with SASL PLAIN', () => {
  it('round-trips get, set, mget, mset and del', async () => {
    const cache = await createCache({ backend: 'memcached', nodes: [memcached.address], tls: { ca: pki.ca }, auth: { username: 'app', password: PASSWORD }, timeouts }, { env: {} });
    await expectRoundTrips(cache);
  });

  it('never logs in with MEMCACHIER_* / MEMCACHE_* variables memjs would read: no auth option, no login', async () => {
    const saved = { user: process.env.MEMCACHE_USERNAME, password: process.env.MEMCACHE_PASSWORD };
    process.env.MEMCACHE_USERNAME = 'app';
    process.env.MEMCACHE_PASSWORD = PASSWORD;
    try {
      await expect(createCache({ backend: 'memcached', nodes: [memcached.address], tls: { ca: pki.ca }, timeouts }, { env: {} })).rejects.toMatchObject({
        code: 'SHARDCACHE_AUTH',
        reason: 'required',
      });
    } finally {
      if (saved.user === undefined) delete process.env.MEMCACHE_USERNAME;
      else process.env.MEMCACHE_USERNAME = saved.user;
      if (saved.password === undefined) delete process.env.MEMCACHE_PASSWORD;
      else process.env.MEMCACHE_PASSWORD = saved.password;
    }
  });

  it('fails createCache with AuthError when every node refuses the login', async () => {
    const failure = await createCache({ backend: 'memcached', nodes: [memcached.address], tls: { ca: pki.ca }, auth: { username: 'app', password: 'not-it' }, timeouts }, { env: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ node: memcached.address, username: 'app', reason: 'rejected' });
  });
});
