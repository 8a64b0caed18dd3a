/**
 * shardcache leans on parts of memjs and opossum that are not their public
 * API (both are pinned exactly in package.json for that reason). These tests
 * fail loudly, naming the internal, when an upgrade changes one of them:
 *
 * - memjs `Server`: `onResponse`/`onError` keyed by opaque, a handler's
 *   `quiet` flag keeping it for every frame until a zero-body one, `write`,
 *   `error()` failing every outstanding request and destroying `_socket`
 *   (the socket the memcached backend tunes with setNoDelay);
 * - memjs frames and replies carrying memcached's flags word:
 *   `Utils.makeRequestBuffer` writing the extras it is given (flags, then
 *   expiration) into a SET/SETQ frame, and a parsed GET/GETKQ hit's
 *   `extras` holding the item's 4-byte flags (memjs's Client passes that
 *   Buffer on as `flags` but always writes 0: shardcache reads and writes
 *   flags through these internals);
 * - opossum: its rolling window counts `fire` and `success` events (how a
 *   closed breaker's successes are handed over) and rotates on the
 *   `rotateBucketController`'s `rotate` event;
 * - ioredis (the Redis reply guard): `stream`, `commandQueue`,
 *   `recoverFromFatalError`, and its decoder's data listener being in place
 *   before the `connect` event, so a listener prepended then runs first.
 * - memjs TLS (memjs-tls.ts replaces `Server.prototype.sock`, which dials
 *   with `net.connect`, on each instance): the source of the methods that
 *   override mirrors or calls (`sock`, `write`, `writeSASL`,
 *   `responseHandler`, `listSasl`, `saslAuth`, `onConnect`, `error`) is
 *   fingerprinted, so any change in a memjs release fails here and must be
 *   read before the pin moves; and a Server so dialled does SASL over TLS,
 *   reconnects over TLS, and reports a refused login with the string the
 *   memcached adapter recognises (MEMJS_AUTH_FAILED).
 * - ioredis logins (redis-login.ts): handshake commands (AUTH) are in
 *   `commandQueue` as `{ command: { name, args } }` by the `connect` event,
 *   and the error of a refused AUTH carries that very `args` array.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import memjs, { type Response } from 'memjs';
import { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';
import { makeTestPki, startSecureMemcached, startTlsRedis, testSecret, type TestPki } from '../harness/secure-servers.js';
import { dialOverTls } from '../../src/backends/memjs-tls.js';
import { hideHandshakeSecrets } from '../../src/backends/redis-login.js';
import { MEMJS_AUTH_FAILED } from '../../src/backends/memcached.js';
import { TlsSettings } from '../../src/secrets.js';

const { Server, Utils } = memjs;
const NOOP = 0x0a;
const GETKQ = 0x0d;
const EMPTY = Buffer.alloc(0);

let memcached: ServerProcess;
let redis: ServerProcess;
let secureMemcached: ServerProcess;
let secureRedis: ServerProcess;
let pki: TestPki;
const LOGIN = { username: 'app', password: testSecret('pw') };
beforeAll(async () => {
  pki = makeTestPki();
  [memcached, redis, secureMemcached, secureRedis] = await Promise.all([startMemcached(), startRedis(), startSecureMemcached(pki, { users: [LOGIN] }), startTlsRedis(pki, [LOGIN])]);
});
afterAll(async () => {
  await stopAll();
  pki?.remove();
});

describe('memjs internals the memcached backend relies on', () => {
  it('Server answers by opaque, keeps a quiet handler until a zero-body frame, and exposes its socket as _socket', async () => {
    const server = new Server(memcached.host, memcached.port, undefined, undefined, { timeout: 5, conntimeout: 2, keepAlive: true });
    for (const method of ['onResponse', 'onError', 'write', 'error'] as const) {
      expect(typeof server[method], `memjs Server.prototype.${method} changed`).toBe('function');
    }
    try {
      const opcodes: number[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const handler = Object.assign(
          (response: Response) => {
            opcodes.push(response.header.opcode);
            if (response.header.opcode === NOOP) resolve();
          },
          { quiet: true },
        );
        server.onResponse(77, handler);
        server.onError(77, reject);
      });
      // Two quiet misses then a NOOP: only the NOOP is answered, to the same handler.
      server.write(Buffer.concat([Utils.makeRequestBuffer(GETKQ, 'absent:1', EMPTY, EMPTY, 77), Utils.makeRequestBuffer(GETKQ, 'absent:2', EMPTY, EMPTY, 77), Utils.makeRequestBuffer(NOOP, EMPTY, EMPTY, EMPTY, 77)]));
      await done;
      expect(opcodes).toEqual([NOOP]);
      const socket = (server as unknown as { _socket?: unknown })._socket;
      expect(socket, 'memjs no longer keeps its connection in Server._socket').toBeInstanceOf(Socket);

      const failed = new Promise<unknown>((resolve) => server.onError(78, resolve));
      server.onResponse(78, () => {});
      server.error(new Error('reset by the test'));
      expect(await failed).toBeInstanceOf(Error);
      expect((socket as Socket).destroyed, 'memjs Server.error() no longer destroys its socket').toBe(true);
      expect((server as unknown as { _socket?: unknown })._socket).toBeUndefined();
    } finally {
      server.error(new Error('done'));
    }
  });
});

describe('memjs internals that carry the flags word', () => {
  it('makeRequestBuffer writes the extras given; a GET or GETKQ hit parses the flags into extras', async () => {
    const server = new Server(memcached.host, memcached.port, undefined, undefined, { timeout: 5, conntimeout: 2, keepAlive: true });
    const SET = 0x01;
    const GET = 0x00;
    try {
      const extras = Buffer.alloc(8);
      extras.writeUInt32BE(0x10004, 0); // flags; expiration 0
      const frame = Utils.makeRequestBuffer(SET, 'flags:k', extras, Buffer.from('42'), 91);
      expect(frame.readUInt8(4), 'memjs makeRequestBuffer no longer writes the extras length').toBe(8);
      expect(frame.readUInt32BE(24), 'memjs makeRequestBuffer no longer puts the extras right after the header').toBe(0x10004);

      const reply = (request: Buffer, opaque: number, quiet: boolean) =>
        new Promise<Response[]>((resolve, reject) => {
          const frames: Response[] = [];
          const handler = Object.assign(
            (response: Response) => {
              frames.push(response);
              if (!quiet || response.header.totalBodyLength === 0) resolve(frames);
            },
            { quiet },
          );
          server.onResponse(opaque, handler);
          server.onError(opaque, reject);
          server.write(request);
        });
      await reply(frame, 91, false);
      const [hit] = await reply(Utils.makeRequestBuffer(GET, 'flags:k', EMPTY, EMPTY, 92), 92, false);
      expect(Buffer.isBuffer(hit!.extras) && hit!.extras.length === 4, 'memjs no longer parses a GET reply\'s extras').toBe(true);
      expect(hit!.extras.readUInt32BE(0)).toBe(0x10004);
      expect(hit!.val.toString()).toBe('42');
      const batch = Buffer.concat([Utils.makeRequestBuffer(GETKQ, 'flags:k', EMPTY, EMPTY, 93), Utils.makeRequestBuffer(NOOP, EMPTY, EMPTY, EMPTY, 93)]);
      const [quietHit] = await reply(batch, 93, true);
      expect(quietHit!.header.opcode).toBe(GETKQ);
      expect(quietHit!.extras.readUInt32BE(0), 'memjs no longer parses a GETKQ reply\'s extras').toBe(0x10004);
      expect(quietHit!.key.toString()).toBe('flags:k');
    } finally {
      server.error(new Error('done'));
    }
  });
});

describe('opossum internals the breaker relies on', () => {
  it("counts 'fire' and 'success' events in its window and rotates on the controller's 'rotate' event", () => {
    const rotation = new EventEmitter();
    const breaker = new CircuitBreaker(async () => undefined, { timeout: false, rollingCountTimeout: 1000, rollingCountBuckets: 2, rotateBucketController: rotation, enableSnapshots: false });
    try {
      for (let i = 0; i < 3; i++) {
        breaker.emit('fire', []);
        breaker.emit('success', undefined, 0);
      }
      expect(breaker.stats.fires, "opossum no longer counts 'fire' events").toBe(3);
      expect(breaker.stats.successes, "opossum no longer counts 'success' events").toBe(3);
      expect(rotation.listenerCount('rotate'), "opossum no longer listens for 'rotate' on rotateBucketController").toBeGreaterThan(0);
      rotation.emit('rotate');
      rotation.emit('rotate');
      expect(breaker.stats.fires, 'the window did not move on rotate').toBe(0);
      expect(breaker.closed && !breaker.opened && !breaker.halfOpen).toBe(true);
    } finally {
      breaker.shutdown();
    }
  });
});

describe('ioredis internals the Redis reply guard relies on', () => {
  it('has its decoder listening on the socket by the connect event, and fails the queue through recoverFromFatalError', async () => {
    const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      const listenersAtConnect = new Promise<number>((resolve) => client.once('connect', () => resolve(client.stream.listenerCount('data'))));
      await client.connect();
      expect(await listenersAtConnect, "ioredis's decoder no longer listens on the socket by its connect event").toBeGreaterThan(0);
      expect(typeof client.recoverFromFatalError, 'ioredis recoverFromFatalError changed').toBe('function');
      expect(typeof client.commandQueue.length, 'ioredis commandQueue changed').toBe('number');

      const pending = client.blpop('never-pushed', 0).catch((error: unknown) => error);
      expect(client.commandQueue.length).toBe(1);
      const failure = new Error('failed by the test');
      client.recoverFromFatalError(failure, failure, {});
      expect(await pending, 'recoverFromFatalError no longer fails the waiting commands with the given error').toBe(failure);
    } finally {
      client.disconnect(false);
    }
  });
});

/** sha256 (first 16 hex digits) of each memjs 1.3.2 Server method memjs-tls.ts mirrors or relies on. */
const MEMJS_SOURCE_FINGERPRINTS = {
  sock: '28afdfd21bcf51d9',
  write: 'c40173e87a64122d',
  writeSASL: 'ce5523a75aecb5ac',
  responseHandler: 'f217972faa50b8d2',
  listSasl: '7c68cd907b81b889',
  saslAuth: 'cc94cf14391b244b',
  error: 'ce21022c93962e54',
  onConnect: '994df79fb97168be',
} as const;

describe('memjs internals the TLS dialling relies on', () => {
  it.each(Object.entries(MEMJS_SOURCE_FINGERPRINTS))('Server.prototype.%s is the source memjs-tls.ts was written against', (method, fingerprint) => {
    const source = (Server.prototype as unknown as Record<string, () => void>)[method]!.toString();
    const actual = createHash('sha256').update(source).digest('hex').slice(0, 16);
    expect(actual, `memjs Server.prototype.${method} changed: re-read it against src/backends/memjs-tls.ts before moving the memjs pin`).toBe(fingerprint);
  });

  it('still dials with net.connect (what dialOverTls replaces) and reports a refused SASL login with MEMJS_AUTH_FAILED', () => {
    expect(Server.prototype.sock.toString(), 'memjs Server.prototype.sock no longer calls net.connect').toContain('net.connect(');
    expect((Server.prototype as unknown as { responseHandler: () => void }).responseHandler.toString()).toContain(JSON.stringify(MEMJS_AUTH_FAILED).slice(1, -1));
  });

  it('a dialled Server logs in with SASL over TLS, and reconnects over TLS after its socket is lost', async () => {
    const server = new Server(secureMemcached.host, secureMemcached.port, LOGIN.username, LOGIN.password, { timeout: 5, conntimeout: 5, keepAlive: true });
    dialOverTls(server, new TlsSettings({ ca: pki.ca }), () => {});
    const noop = (opaque: number) =>
      new Promise<Response>((resolve, reject) => {
        server.onResponse(opaque, resolve);
        server.onError(opaque, reject);
        server.write(Utils.makeRequestBuffer(NOOP, EMPTY, EMPTY, EMPTY, opaque));
      });
    try {
      expect((await noop(1)).header.status).toBe(0);
      const first = (server as unknown as { _socket?: unknown })._socket;
      expect(first, 'not a TLS socket').toBeInstanceOf(TLSSocket);
      (first as TLSSocket).destroy();
      await new Promise((resolve) => (first as TLSSocket).once('close', resolve));
      expect((await noop(2)).header.status, 'the reconnect logged in again').toBe(0);
      const second = (server as unknown as { _socket?: unknown })._socket;
      expect(second).toBeInstanceOf(TLSSocket);
      expect(second).not.toBe(first);
    } finally {
      server.error(new Error('done'));
    }
  });

  it('a refused login fails the waiting request with MEMJS_AUTH_FAILED', async () => {
    const server = new Server(secureMemcached.host, secureMemcached.port, LOGIN.username, 'not-the-password', { timeout: 5, conntimeout: 5, keepAlive: true });
    dialOverTls(server, new TlsSettings({ ca: pki.ca }), () => {});
    try {
      const failure = await new Promise<unknown>((resolve) => {
        server.onResponse(3, () => resolve('answered'));
        server.onError(3, resolve);
        server.write(Utils.makeRequestBuffer(NOOP, EMPTY, EMPTY, EMPTY, 3));
      });
      expect(failure).toBe(MEMJS_AUTH_FAILED);
    } finally {
      server.error(new Error('done'));
    }
  });
});

describe('ioredis internals the login redaction relies on', () => {
  it('has AUTH queued with its args by the connect event, and a refused AUTH error carries that args array, redacted', async () => {
    const client = new Redis({ host: secureRedis.host, port: secureRedis.port, tls: { ca: pki.ca }, username: 'app', password: 'not-the-password', lazyConnect: true, protocol: 2, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const errors: unknown[] = [];
    client.on('error', (error: unknown) => errors.push(error));
    const queued = new Promise<string[]>((resolve) =>
      client.once('connect', () => {
        const queue = client.commandQueue as unknown as { length: number; peekAt(i: number): { command: { name: string } } };
        resolve(Array.from({ length: queue.length }, (_, i) => queue.peekAt(i).command.name));
      }),
    );
    hideHandshakeSecrets(client);
    try {
      await client.connect().catch(() => {});
      expect(await queued, 'ioredis no longer queues AUTH before its connect event').toContain('auth');
      const refused = errors.find((error) => String((error as Error).message).startsWith('WRONGPASS')) as { command?: { name: string; args: unknown[] } } | undefined;
      expect(refused, 'ioredis did not emit the refused AUTH').toBeDefined();
      expect(refused!.command, "ioredis no longer attaches command to a failed command's error").toEqual({ name: 'auth', args: ['[redacted]', '[redacted]'] });
    } finally {
      client.disconnect(false);
    }
  });
});
