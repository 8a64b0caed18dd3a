/**
 * Tracing on `node:diagnostics_channel` `tracingChannel`s, as undici and
 * Node's own http do: each cache call publishes `start`, `end` (its
 * synchronous part), then `asyncStart` and `asyncEnd` when it settles, and
 * `error` when it rejects, all with one context object. APM tools
 * (OpenTelemetry, Datadog, Sentry) subscribe to these without shardcache
 * depending on them; `start.bindStore()` makes a span the active context
 * of the call, so the loader's own spans become its children.
 *
 * Channels: `shardcache:<operation>` (so `tracing:shardcache:get:start`...)
 * for every call of the cache: get, mget, mgetDetailed, set, mset, del,
 * mdel, getOrLoad, mgetOrLoad, invalidate, invalidateNamespace, clear; and
 * `shardcache:load` around each loader call of getOrLoad and mgetOrLoad
 * (`refresh: true` for a refresh-ahead load in the background).
 *
 * What must stay true: with no subscriber a call builds no context and
 * allocates nothing for tracing (one check of `hasSubscribers` per channel
 * half). Contexts carry the cache's id in the process, the operation and
 * the stored key(s) (namespace views trace the prefixed key); Node adds the
 * call's `result` or `error`. Never options, signals or credentials.
 */
import diagnostics, { type TracingChannel } from 'node:diagnostics_channel';

export interface TraceContext {
  /** Which cache in the process made the call (channels are process-wide). */
  readonly cache: number;
  readonly operation: string;
  /** The key of a single-key call, as stored (namespace views: with the namespace prefix); invalidate's pattern; invalidateNamespace's name. */
  readonly key?: string;
  /** The keys of a batch call, as stored. */
  readonly keys?: readonly string[];
  /** `shardcache:load` only: the load refreshes an entry ahead of its expiry, in the background. */
  readonly refresh?: boolean;
}

export type TraceChannel = TracingChannel<unknown, TraceContext>;

const channel = (name: string): TraceChannel => diagnostics.tracingChannel<unknown, TraceContext>(`shardcache:${name}`);

/** One channel per cache call, by operation name. */
export const traceChannels = {
  get: channel('get'),
  mget: channel('mget'),
  mgetDetailed: channel('mgetDetailed'),
  set: channel('set'),
  mset: channel('mset'),
  del: channel('del'),
  mdel: channel('mdel'),
  getOrLoad: channel('getOrLoad'),
  mgetOrLoad: channel('mgetOrLoad'),
  invalidate: channel('invalidate'),
  invalidateNamespace: channel('invalidateNamespace'),
  clear: channel('clear'),
  load: channel('load'),
} as const satisfies Record<string, TraceChannel>;

/**
 * Whether anyone listens to any part of `channel`. `TracingChannel.hasSubscribers`
 * is missing before Node 20.13, so each half is asked.
 */
export function isTraced(channel: TraceChannel): boolean {
  return channel.start.hasSubscribers || channel.end.hasSubscribers || channel.asyncStart.hasSubscribers || channel.asyncEnd.hasSubscribers || channel.error.hasSubscribers;
}
