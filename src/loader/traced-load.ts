/**
 * One loader call, published on the `shardcache:load` tracing channel when
 * someone listens (and nothing more when no one does).
 */
import { isTraced, traceChannels } from '../tracing.js';
import type { LoadContext } from '../store.js';

/** @param keys the key of a getOrLoad load, or the keys handed to a batch loader. */
export function callLoader<R>(cacheId: number, keys: string | readonly string[], load: (context: LoadContext) => R | Promise<R>, context: LoadContext, refresh = false): Promise<R> {
  if (!isTraced(traceChannels.load)) return Promise.resolve(load(context));
  const trace = typeof keys === 'string' ? { cache: cacheId, operation: 'load', key: keys, refresh } : { cache: cacheId, operation: 'load', keys, refresh };
  return traceChannels.load.tracePromise(async () => load(context), trace);
}
