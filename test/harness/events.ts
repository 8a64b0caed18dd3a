/** Waiting for a cache's events in tests, always bounded in time. */
import type { ShardcacheEvents, ShardedCache } from '../../src/index.js';

const EVENT_WAIT_MS = 10_000;

type EventName = keyof ShardcacheEvents;

/** Resolves with the first `name` event matching `match`; rejects after a bounded wait. */
export function nextEvent<E extends EventName>(cache: ShardedCache, name: E, match: (payload: ShardcacheEvents[E][0]) => boolean = () => true, waitMs = EVENT_WAIT_MS): Promise<ShardcacheEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cache.events.off(name, listener as never);
      reject(new Error(`no ${name} event within ${waitMs} ms`));
    }, waitMs);
    const listener = (payload: ShardcacheEvents[E][0]) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      cache.events.off(name, listener as never);
      resolve(payload);
    };
    cache.events.on(name, listener as never);
  });
}
