/**
 * Redis adapter: one ioredis client per node.
 *
 * ioredis's own resilience is switched off because it works against
 * shardcache's deadlines and ring:
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once
 *   instead of being buffered until a reconnect (a dead node must be a miss
 *   now, not a late answer);
 * - `maxRetriesPerRequest: 0`: a command lost with its connection is not
 *   replayed (the cache layer decides about retries);
 * - `protocol: 2`: ioredis 6 sends `HELLO 3` by default. RESP2 is what
 *   twemproxy, envoy and Redis < 6 speak, so a pool behind a proxy or on an old
 *   server works unchanged, and GET/MGET replies are the same bytes either way;
 * - `enableReadyCheck: false`, `disableClientInfo: true`: no INFO / CLIENT
 *   SETINFO round trips on every (re)connect;
 * - `disconnectTimeout: 0`: closing or replacing a connection destroys the
 *   socket at once instead of waiting 2 s for a FIN a hung server never sends;
 * - reconnection follows `timeouts.connectRetries`/`connectBackoffMs`; after
 *   that the client rests until a command or a health probe wakes it.
 *
 * TLS (`tls`) and the login (`auth`) are RedisSecurity's (redis-security.ts):
 * a login or TLS set-up the server refuses stops ioredis's reconnecting, and
 * requests fail at once with the `AuthError`/`TlsError` until the next
 * attempt is due; errors never carry `command.args`.
 *
 * Every reply byte passes `guardRedisReplies` (reply-guard.ts) before ioredis
 * decodes it: no element over `maxValueBytes` + 64 KiB is buffered, and
 * garbage, a huge length or an unasked-for reply fails the waiting commands
 * with a `protocol` NodeError and drops the connection.
 */
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { NodeError, type AuthError, type TlsError } from '../errors.js';
import type { Backend, BackendNode, KeyRules, ReadValue, StoredValue } from './backend.js';
import { chunksOf, MAX_KEYS_PER_REQUEST } from './chunks.js';
import type { ConnectionSetupOptions } from './connection-failure.js';
import { RedisSecurity } from './redis-security.js';
import { codeOf, redisReplyReason } from './redis-replies.js';
import { guardRedisReplies } from './reply-guard.js';

/** Redis keys are binary-safe; 64 KiB keeps a typo'd key from becoming a memory problem. */
export const REDIS_KEY_RULES: KeyRules = { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false };

export interface RedisBackendOptions extends ConnectionSetupOptions {
  readonly connectMs: number;
  /** Reconnection attempts after a connection is lost or refused, then the client rests until used or probed. */
  readonly connectRetries: number;
  readonly connectBackoffMs: number;
  /** Largest value the cache stores: a longer reply element is a protocol error (see reply-guard.ts). */
  readonly maxValueBytes: number;
}

/** See `RedisBackend.watchConnection`. */
export interface ConnectionWatcher {
  ready(): void;
  lost(): void;
}

export class RedisBackend implements Backend {
  readonly address: string;
  readonly #client: Redis;
  readonly #security: RedisSecurity;
  #closed = false;

  constructor(node: BackendNode, options: RedisBackendOptions) {
    this.address = node.address;
    this.#security = new RedisSecurity(node, options);
    this.#client = new Redis({
      ...this.#security.clientOptions(),
      host: node.host,
      port: node.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      protocol: 2,
      enableReadyCheck: false,
      disableClientInfo: true,
      connectTimeout: options.connectMs,
      // ioredis half-closes and waits this long for the server's FIN before
      // destroying the socket; a hung server never sends it.
      disconnectTimeout: 0,
      // No reconnecting of its own after a refused login or TLS set-up: RedisSecurity paces those.
      retryStrategy: (attempt: number) => this.#security.reconnectDelay(attempt <= options.connectRetries ? options.connectBackoffMs : null),
    });
    // Without a listener an 'error' event would crash the process; failures
    // reach callers through rejected commands instead, set-up failures through RedisSecurity.
    this.#security.watch(this.#client, () => this.#closed);
    guardRedisReplies(this.#client, this.address, options.maxValueBytes);
  }

  async connect(): Promise<void> {
    try {
      // A client just reset still reads 'ready' until its socket's 'close':
      // wait for the end, or a probe would ping the closing socket and fail.
      if (this.#client.status === 'ready' && this.#client.stream?.writable === false) await this.#ended();
    } catch (error) {
      throw this.#nodeError(error);
    }
    const status = this.#client.status;
    if (status === 'ready') return;
    this.#security.attempting();
    try {
      if (status === 'reconnecting') {
        // Waiting out ioredis's reconnection backoff: cancel it and connect
        // now. (A client reset during the backoff has no timer left at all,
        // and would wait for good.)
        this.#client.disconnect(false);
        await this.#client.connect();
      } else if (status === 'end' || status === 'wait') {
        await this.#client.connect();
      } else {
        await this.#settled();
      }
    } catch (error) {
      throw this.#nodeError(error);
    }
    // With a login, ioredis reports 'ready' only once AUTH succeeded; a refusal ends the attempt with a close.
    if (this.#client.status !== 'ready' && this.#security.failure !== undefined) throw this.#security.failure;
  }

  /** Resolves once the client has ended (its closing socket gone). */
  #ended(): Promise<void> {
    return new Promise((resolve) => this.#client.once('end', () => resolve()));
  }

  /** Waits for a connection attempt already under way. */
  #settled(): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        this.#client.off('ready', onReady);
        this.#client.off('end', onEnd);
        this.#client.off('close', onEnd);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => finish();
      const onEnd = () => finish(new Error('connection closed while connecting'));
      this.#client.on('ready', onReady);
      this.#client.on('end', onEnd);
      this.#client.on('close', onEnd);
    });
  }

  // Promise chains rather than #run: these are the hot path.
  get(key: string): Promise<ReadValue | undefined> {
    this.#wakeIfEnded();
    return this.#client.getBuffer(key).then(missAsUndefined, this.#fail);
  }

  /** One MGET. (MGET reads a key of another type as nil, a miss, where GET would answer WRONGTYPE; for a cache both mean "no value".) */
  getMany(keys: readonly string[]): Promise<(ReadValue | undefined)[]> {
    this.#wakeIfEnded();
    // The array itself, not spread into arguments; the reply array is ours, so it is rewritten in place.
    if (keys.length <= MAX_KEYS_PER_REQUEST) return this.#client.mgetBuffer(keys as string[]).then(missesAsUndefined, this.#fail);
    const replies = chunksOf(keys).map((chunk) => this.#client.mgetBuffer(chunk));
    return Promise.all(replies).then((parts) => missesAsUndefined(parts.flat()), this.#fail);
  }

  /** Redis has no flags word: only the bytes are stored (the codec's Redis format puts the type in them). */
  async set(key: string, { bytes }: StoredValue, ttlSeconds: number): Promise<void> {
    await this.#run(() => (ttlSeconds > 0 ? this.#client.set(key, bytes, 'EX', ttlSeconds) : this.#client.set(key, bytes)));
  }

  async setMany(entries: readonly (readonly [string, StoredValue])[], ttlSeconds: number): Promise<void> {
    const results = await this.#run(() => {
      const pipeline = this.#client.pipeline();
      for (const [key, { bytes }] of entries) {
        if (ttlSeconds > 0) pipeline.set(key, bytes, 'EX', ttlSeconds);
        else pipeline.set(key, bytes);
      }
      return pipeline.exec();
    });
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw this.#nodeError(failed[0]);
  }

  async add(key: string, { bytes }: StoredValue, ttlSeconds: number): Promise<boolean> {
    const reply = await this.#run(() => (ttlSeconds > 0 ? this.#client.set(key, bytes, 'EX', ttlSeconds, 'NX') : this.#client.set(key, bytes, 'NX')));
    return reply === 'OK';
  }

  async del(key: string): Promise<boolean> {
    return (await this.#run(() => this.#client.del(key))) > 0;
  }

  async delMany(keys: readonly string[]): Promise<void> {
    await this.#run(() => Promise.all(chunksOf(keys).map((chunk) => this.#client.del(chunk))));
  }

  async flush(): Promise<void> {
    await this.#run(() => this.#client.flushdb());
  }

  async counter(key: string, delta: number, initial: number, ttlSeconds: number): Promise<number> {
    const value = await this.#run(() => this.#client.eval(COUNTER_SCRIPT, 1, key, delta, initial, ttlSeconds));
    return Number(value);
  }

  /** SCAN (never KEYS, which blocks the server for the whole keyspace), then UNLINK (frees memory off the main thread). */
  async scanDelete(cursor: string, pattern: string, count: number): Promise<{ cursor: string; deleted: number }> {
    const [next, keys] = await this.#run(() => this.#client.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', count));
    const counts = await this.#run(() => Promise.all(chunksOf(keys).map((chunk) => this.#client.unlink(chunk))));
    return { cursor: next.toString(), deleted: counts.reduce((total, count) => total + count, 0) };
  }

  /**
   * For state the server keeps per connection (the local tier's CLIENT
   * TRACKING), which every new connection must be given again: `ready` runs
   * for each connection that comes up (at once when one is up now), `lost`
   * when it closes, replaced or not. Returns the function that stops watching.
   */
  watchConnection(watcher: ConnectionWatcher): () => void {
    const ready = () => watcher.ready();
    const lost = () => watcher.lost();
    this.#client.on('ready', ready);
    this.#client.on('close', lost);
    if (this.#client.status === 'ready' && this.#client.stream?.writable !== false) ready();
    return () => {
      this.#client.off('ready', ready);
      this.#client.off('close', lost);
    };
  }

  /**
   * A new client for this node with this one's connection settings (and so
   * whatever credentials or TLS they carry), `overrides` applied: the local
   * tier's invalidation connection. Not connected; the caller owns it.
   */
  duplicate(overrides: Partial<RedisOptions>): Redis {
    // Its own TLS dialler, its AUTH arguments hidden, and a refused login waited out as the data client does.
    const client = this.#client.duplicate(this.#security.duplicateOptions(overrides));
    this.#security.watchDuplicate(client);
    return client;
  }

  /** One command, as given, on the current connection (CLIENT TRACKING). */
  async command(name: string, ...args: (string | number)[]): Promise<unknown> {
    return this.#run(() => this.#client.call(name, ...args));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#client.ping());
  }

  reset(): void {
    // Ends the client; the next command or probe connects afresh at once
    // rather than after the reconnection backoff. While reconnecting there
    // is no connection to drop, and disconnecting would cancel the pending
    // reconnection with nothing in its place.
    const status = this.#client.status;
    if (!this.#closed && status !== 'end' && status !== 'reconnecting') this.#client.disconnect(false);
  }

  async close(): Promise<void> {
    this.#closed = true;
    // disconnect(), not quit(): quit waits for a reply a hung server never sends.
    this.#client.disconnect(false);
  }

  /**
   * Runs one command. A client that used up its reconnection attempts is
   * woken in the background; the command itself fails at once rather than
   * wait for the connection.
   */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    this.#wakeIfEnded();
    try {
      return await command();
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  #wakeIfEnded(): void {
    if (this.#client.status === 'end' && !this.#closed && this.#security.mayAttempt()) this.#client.connect().catch(() => {});
  }

  readonly #fail = (error: unknown): never => {
    throw this.#nodeError(error);
  };

  /**
   * ioredis errors can carry `command.args` (an AUTH password, the values
   * written): keep only the class, code and message.
   */
  #nodeError(error: unknown): NodeError | AuthError | TlsError {
    // The reply guard's own verdict, already redacted.
    if (error instanceof NodeError) return error;
    const setupFailure = this.#security.failureOf(error) ?? (error instanceof ReplyError ? undefined : this.#security.failure);
    if (setupFailure !== undefined) return setupFailure;
    const original = error as { name?: string; code?: string; message?: string };
    // Redis error replies can quote a command's arguments: the login is scrubbed from the text.
    const text = this.#security.scrub(original.message ?? String(error));
    const cause = Object.assign(new Error(text), { name: original.name ?? 'Error', code: original.code });
    if (error instanceof ReplyError) {
      const message = original.message ?? '';
      return new NodeError(this.address, redisReplyReason(message), `redis replied ${codeOf(message)}`, { cause });
    }
    return new NodeError(this.address, 'unavailable', `redis is unavailable (${original.code ?? original.message ?? 'error'}${this.#security.resetHint(error)})`, { cause });
  }
}

/** Redis answers a miss with nil (null); the backends answer `undefined`. Values stay bare bytes (ReadValue). */
function missAsUndefined(bytes: Buffer | null): Buffer | undefined {
  return bytes ?? undefined;
}

function missesAsUndefined(reply: (Buffer | null)[]): (Buffer | undefined)[] {
  const values: (Buffer | null | undefined)[] = reply;
  for (let i = 0; i < values.length; i++) values[i] ??= undefined;
  return values as (Buffer | undefined)[];
}

/**
 * `counter()` in one atomic step: SET NX creates the counter, else INCRBY
 * (0 reads it). Two commands from the client could interleave with an expiry
 * or a delete and restart the counter from 0.
 */
const COUNTER_SCRIPT = `
local created
if tonumber(ARGV[3]) > 0 then
  created = redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3])
else
  created = redis.call('SET', KEYS[1], ARGV[2], 'NX')
end
if created then return tonumber(ARGV[2]) end
return redis.call('INCRBY', KEYS[1], ARGV[1])`;
