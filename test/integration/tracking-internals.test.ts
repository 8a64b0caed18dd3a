/**
 * What the local tier relies on in ioredis (pinned exactly in package.json):
 * on a RESP2 connection subscribed to `__redis__:invalidate`, a tracking
 * invalidation arrives as a 'messageBuffer' event whose message is an array
 * of key Buffers, and a flush as a null message. If an ioredis upgrade
 * changes either shape, this fails loudly (and so would invalidation).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALIDATION_CHANNEL } from '../../src/local/redis-tracking.js';
import { startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

let server: ServerProcess;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAll);

describe('ioredis delivers RESP2 tracking invalidations as the local tier expects', () => {
  it('an array of key Buffers for a write, null for a flush', async () => {
    const options = { host: server.host, port: server.port, protocol: 2 as const, lazyConnect: true };
    const subscriber = new Redis(options);
    const data = new Redis(options);
    try {
      await Promise.all([subscriber.connect(), data.connect()]);
      const id = Number(await subscriber.client('ID'));
      await subscriber.subscribe(INVALIDATION_CHANNEL);
      const messages: unknown[] = [];
      const arrived = (count: number) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${messages.length} invalidation(s) in 5 s`)), 5000);
          const check = () => {
            if (messages.length < count) return;
            clearTimeout(timer);
            subscriber.off('messageBuffer', check);
            resolve();
          };
          subscriber.on('messageBuffer', check);
        });
      subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => messages.push([channel.toString(), message]));
      expect(await data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id)).toBe('OK');
      await data.get('tracked:key');
      const first = arrived(1);
      await data.set('tracked:key', 'changed');
      await first;
      const [channel, keys] = messages[0] as [string, unknown];
      expect(channel).toBe(INVALIDATION_CHANNEL);
      expect(Array.isArray(keys)).toBe(true);
      expect((keys as Buffer[]).map((key) => Buffer.isBuffer(key) && key.toString())).toEqual(['tracked:key']);
      const second = arrived(2);
      await data.flushall();
      await second;
      expect(messages[1]).toEqual([INVALIDATION_CHANNEL, null]);
    } finally {
      subscriber.disconnect();
      data.disconnect();
    }
  });
});
