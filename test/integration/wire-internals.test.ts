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
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import memjs, { type Response } from 'memjs';
import { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const { Server, Utils } = memjs;
const NOOP = 0x0a;
const GETKQ = 0x0d;
const EMPTY = Buffer.alloc(0);

let memcached: ServerProcess;
let redis: ServerProcess;
beforeAll(async () => {
  [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
});
afterAll(stopAll);

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
