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
 * - reconnects run in the background with a capped backoff.
 */
import { Redis, ReplyError } from 'ioredis';
import { NodeError } from '../errors.js';
import type { Backend, BackendNode, KeyRules } from './backend.js';

/** Redis keys are binary-safe; 64 KiB keeps a typo'd key from becoming a memory problem. */
export const REDIS_KEY_RULES: KeyRules = { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false };

export interface RedisBackendOptions {
  readonly connectMs: number;
}

const RECONNECT_MAX_DELAY_MS = 1000;

export class RedisBackend implements Backend {
  readonly address: string;
  readonly #client: Redis;

  constructor(node: BackendNode, options: RedisBackendOptions) {
    this.address = node.address;
    this.#client = new Redis({
      host: node.host,
      port: node.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      protocol: 2,
      enableReadyCheck: false,
      disableClientInfo: true,
      connectTimeout: options.connectMs,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS),
    });
    // Without a listener an 'error' event would crash the process; failures
    // reach callers through rejected commands instead.
    this.#client.on('error', () => {});
  }

  async connect(): Promise<void> {
    try {
      await this.#client.connect();
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return (await this.#client.getBuffer(key)) ?? undefined;
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    try {
      const values = await this.#client.mgetBuffer(...keys);
      return values.map((value) => value ?? undefined);
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    try {
      if (ttlSeconds > 0) await this.#client.set(key, value, 'EX', ttlSeconds);
      else await this.#client.set(key, value);
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async setMany(entries: readonly (readonly [string, Buffer])[], ttlSeconds: number): Promise<void> {
    const pipeline = this.#client.pipeline();
    for (const [key, value] of entries) {
      if (ttlSeconds > 0) pipeline.set(key, value, 'EX', ttlSeconds);
      else pipeline.set(key, value);
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw this.#nodeError(error);
    }
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw this.#nodeError(failed[0]);
  }

  async del(key: string): Promise<boolean> {
    try {
      return (await this.#client.del(key)) > 0;
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#client.ping();
    } catch (error) {
      throw this.#nodeError(error);
    }
  }

  async close(): Promise<void> {
    // disconnect(), not quit(): quit waits for a reply a hung server never sends.
    this.#client.disconnect(false);
  }

  /**
   * ioredis errors can carry `command.args` (an AUTH password, the values
   * written): keep only the class, code and message.
   */
  #nodeError(error: unknown): NodeError {
    const original = error as { name?: string; code?: string; message?: string };
    const cause = Object.assign(new Error(original.message ?? String(error)), { name: original.name ?? 'Error', code: original.code });
    if (error instanceof ReplyError) {
      const code = respErrorCode(original.message ?? '');
      const reason = REQUEST_ERROR_CODES.has(code) ? 'rejected' : 'server';
      return new NodeError(this.address, reason, `redis replied ${code}`, { cause });
    }
    return new NodeError(this.address, 'unavailable', `redis is unavailable (${original.code ?? original.message ?? 'error'})`, { cause });
  }
}

/** Error replies about the request itself; the node is healthy. */
const REQUEST_ERROR_CODES = new Set(['WRONGTYPE', 'ERR', 'NOPERM', 'NOSCRIPT']);

/** RESP error replies start with an upper-case code word (`-WRONGTYPE ...`), the protocol's error kind. */
function respErrorCode(message: string): string {
  const end = message.indexOf(' ');
  return end === -1 ? message : message.slice(0, end);
}
