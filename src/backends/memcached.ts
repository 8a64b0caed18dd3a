/**
 * Memcached adapter: one memjs `Server` (one socket) per node, binary protocol.
 *
 * memjs's `Client` is not used for requests: it places keys by `hash % n`,
 * retries each request twice 200 ms apart, has no multi-get, and reports
 * server statuses only as message text. Its `Server` (connection, framing,
 * SASL) and `Utils` (request frames, parsing) are used directly instead:
 * - get/set/delete/noop are single frames;
 * - getMany is GETKQ x N then NOOP in one write: the server answers hits only
 *   and the NOOP marks the end, so a batch is one round trip;
 * - setMany is SETQ x N then NOOP likewise (only failures are answered);
 * - every SET, SETQ and hit carries the item's 32-bit flags word (the
 *   value's type for pylibmc, PHP Memcached and shardcache's codec): memjs's
 *   Client reads flags but always writes 0, so the frames are built here;
 * - batches past MAX_KEYS_PER_REQUEST keys go as several such runs, back to
 *   back (chunks.ts).
 * All frames of one request share an opaque, so replies can never be handed
 * to another request, even when they arrive after its deadline.
 *
 * Hung connections are replaced by shardcache (CacheNode resets the backend
 * after `failureLimit` consecutive failures), by retiring the whole memjs
 * `Server`: memjs's own socket teardown lets the old socket's late 'close'
 * handler forget a socket opened after it, which then stays open for good.
 * So memjs's `timeout` (seconds, per outstanding request) is set out of the
 * way; shardcache's per-operation deadlines answer the caller long before.
 *
 * TLS (`tls`) and the SASL login (`auth`) of every Server are
 * MemcachedSecurity's (memcached-security.ts). A login or TLS set-up the
 * server refuses fails requests at once with the stored `AuthError` /
 * `TlsError` until the next attempt is due; `connect()` (probes) always tries.
 *
 * Every reply byte passes `guardMemjsReplies` (reply-guard.ts) before memjs
 * buffers it: no frame over `maxValueBytes` + 64 KiB is buffered, and a bad
 * header, a huge length or an answer to no waiting request fails the waiting
 * requests with a `protocol` NodeError and drops the connection.
 */
import memjs from 'memjs';
import type { Response, Server as MemjsServer } from 'memjs';
import { NodeError } from '../errors.js';
import type { Socket } from 'node:net';
import type { Backend, BackendNode, KeyRules, StoredValue } from './backend.js';
import { chunksOf, entryChunksOf, MAX_KEYS_PER_REQUEST } from './chunks.js';
import type { ConnectionSetupOptions } from './connection-failure.js';
import { MEMJS_AUTH_FAILED, MemcachedSecurity } from './memcached-security.js';
import { KeyFrameCursor, keyFrames } from './memcached-frames.js';
import { guardMemjsReplies } from './reply-guard.js';

export const MEMCACHED_KEY_RULES: KeyRules = { maxKeyBytes: 250, forbidSpaceAndControl: true };

const { Server, Utils } = memjs;

const OPCODE = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, increment: 0x05, flush: 0x08, noop: 0x0a, getkq: 0x0d, setq: 0x11, deleteq: 0x14 } as const;
const STATUS = { ok: 0x00, notFound: 0x01, exists: 0x02, notStored: 0x05, notNumeric: 0x06 } as const;
/** Statuses about the request itself (too large, bad arguments, not stored): the node is fine. */
const REQUEST_STATUSES = new Set([0x02, 0x03, 0x04, 0x05]);
/** memcached reads an expiration over 30 days as a Unix time. */
const MAX_RELATIVE_TTL_SECONDS = 60 * 60 * 24 * 30;
const NO_FLAGS_NO_EXPIRY = Buffer.alloc(8);
const EMPTY = Buffer.alloc(0);

export interface MemcachedBackendOptions extends ConnectionSetupOptions {
  readonly connectMs: number;
  /** Largest value the cache stores: a longer reply frame is a protocol error (see reply-guard.ts). */
  readonly maxValueBytes: number;
}

export { MEMJS_AUTH_FAILED };

const MEMJS_REQUEST_TIMEOUT_SECONDS = 60;

type FrameHandler = (response: Response) => void;

export class MemcachedBackend implements Backend {
  readonly address: string;
  readonly #newServer: () => MemjsServer;
  #server: MemjsServer;
  #opaque = 0;
  #closed = false;
  readonly #tunedSockets = new WeakSet<Socket>();
  readonly #security: MemcachedSecurity;

  constructor(node: BackendNode, options: MemcachedBackendOptions) {
    this.address = node.address;
    this.#security = new MemcachedSecurity(this.address, options);
    this.#newServer = () => {
      const server = new Server(node.host, node.port, ...this.#security.login, {
        timeout: MEMJS_REQUEST_TIMEOUT_SECONDS,
        conntimeout: options.connectMs / 1000,
        keepAlive: true,
      });
      this.#security.configure(server);
      guardMemjsReplies(server, node.address, options.maxValueBytes, () => {
        // The guard dropped this Server's connection. A memjs Server that
        // reconnects can lose its new socket to the old one's late 'close'
        // (see above), so later requests get a fresh Server, as on reset().
        if (this.#server === server && !this.#closed) this.#server = this.#newServer();
      });
      return server;
    };
    this.#server = this.#newServer();
  }

  /** One no-op on the connection; tried even while a refused login or TLS set-up is being backed off (probes call this). */
  connect(): Promise<void> {
    return this.#exchange(Utils.makeRequestBuffer(OPCODE.noop, EMPTY, EMPTY, EMPTY, this.#nextOpaque()), false, () => {}, undefined, true);
  }

  get(key: string): Promise<StoredValue | undefined> {
    let value: StoredValue | undefined;
    return this.#exchange(keyFrames(OPCODE.get, [key], this.#nextOpaque()), false, (response) => {
      const status = response.header.status;
      if (status === STATUS.ok) value = storedValueOfHit(response);
      else if (status !== STATUS.notFound) throw this.#statusError(status, 'get');
    }, () => value);
  }

  getMany(keys: readonly string[]): Promise<(StoredValue | undefined)[]> {
    if (keys.length <= MAX_KEYS_PER_REQUEST) return this.#getBatch(keys);
    return Promise.all(chunksOf(keys).map((chunk) => this.#getBatch(chunk))).then((parts) => parts.flat());
  }

  /** One GETKQ...NOOP run. */
  #getBatch(keys: readonly string[]): Promise<(StoredValue | undefined)[]> {
    const values: (StoredValue | undefined)[] = new Array(keys.length).fill(undefined);
    // A connection's requests are answered in order, hits only: each answer
    // names the next of the asked-for keys it belongs to, so a forward scan
    // places it (no lookup table per batch). Anything else is a protocol error.
    const frames = keyFrames(OPCODE.getkq, keys, this.#nextOpaque(), OPCODE.noop);
    const asked = new KeyFrameCursor(frames, keys.length);
    return this.#exchange(frames, true, (response) => {
      if (response.header.opcode === OPCODE.noop) return;
      const status = response.header.status;
      if (status !== STATUS.ok) throw this.#statusError(status, 'getMany');
      const index = asked.advanceTo(response.key);
      if (index === -1) throw new NodeError(this.address, 'protocol', 'memcached answered a key that was not asked for, or out of order');
      values[index] = storedValueOfHit(response);
    }, () => values);
  }

  async set(key: string, value: StoredValue, ttlSeconds: number): Promise<void> {
    const frame = Utils.makeRequestBuffer(OPCODE.set, key, setExtras(value.flags, ttlSeconds), value.bytes, this.#nextOpaque());
    await this.#exchange(frame, false, (response) => {
      if (response.header.status !== STATUS.ok) throw this.#statusError(response.header.status, 'set');
    });
  }

  async setMany(entries: readonly (readonly [string, StoredValue])[], ttlSeconds: number): Promise<void> {
    await Promise.all(entryChunksOf(entries).map((chunk) => this.#setBatch(chunk, ttlSeconds)));
  }

  /** One SETQ...NOOP run; each frame carries its own value's flags. */
  async #setBatch(entries: readonly (readonly [string, StoredValue])[], ttlSeconds: number): Promise<void> {
    const opaque = this.#nextOpaque();
    // A batch's values mostly share a few kinds: one extras buffer per flags value.
    const extrasByFlags = new Map<number, Buffer>();
    const frames = entries.map(([key, { bytes, flags }]) => {
      let extras = extrasByFlags.get(flags);
      if (extras === undefined) extrasByFlags.set(flags, (extras = setExtras(flags, ttlSeconds)));
      return Utils.makeRequestBuffer(OPCODE.setq, key, extras, bytes, opaque);
    });
    frames.push(Utils.makeRequestBuffer(OPCODE.noop, EMPTY, EMPTY, EMPTY, opaque));
    let failure: NodeError | undefined;
    await this.#exchange(Buffer.concat(frames), true, (response) => {
      // Keep reading to the NOOP so the socket stays in step; report the first failure.
      if (response.header.opcode !== OPCODE.noop && response.header.status !== STATUS.ok) {
        failure ??= this.#statusError(response.header.status, 'setMany');
      }
    });
    if (failure) throw failure;
  }

  async add(key: string, value: StoredValue, ttlSeconds: number): Promise<boolean> {
    let stored = false;
    const frame = Utils.makeRequestBuffer(OPCODE.add, key, setExtras(value.flags, ttlSeconds), value.bytes, this.#nextOpaque());
    await this.#exchange(frame, false, (response) => {
      const status = response.header.status;
      if (status === STATUS.ok) stored = true;
      else if (status !== STATUS.exists && status !== STATUS.notStored) throw this.#statusError(status, 'add');
    });
    return stored;
  }

  async del(key: string): Promise<boolean> {
    let existed = false;
    await this.#exchange(keyFrames(OPCODE.delete, [key], this.#nextOpaque()), false, (response) => {
      const status = response.header.status;
      if (status === STATUS.ok) existed = true;
      else if (status !== STATUS.notFound) throw this.#statusError(status, 'delete');
    });
    return existed;
  }

  async delMany(keys: readonly string[]): Promise<void> {
    await Promise.all(chunksOf(keys).map((chunk) => this.#delBatch(chunk)));
  }

  /** One DELETEQ...NOOP run. */
  async #delBatch(keys: readonly string[]): Promise<void> {
    let failure: NodeError | undefined;
    await this.#exchange(keyFrames(OPCODE.deleteq, keys, this.#nextOpaque(), OPCODE.noop), true, (response) => {
      const status = response.header.status;
      if (response.header.opcode !== OPCODE.noop && status !== STATUS.ok && status !== STATUS.notFound) {
        failure ??= this.#statusError(status, 'delMany');
      }
    });
    if (failure) throw failure;
  }

  async flush(): Promise<void> {
    await this.#exchange(Utils.makeRequestBuffer(OPCODE.flush, EMPTY, EMPTY, EMPTY, this.#nextOpaque()), false, (response) => {
      if (response.header.status !== STATUS.ok) throw this.#statusError(response.header.status, 'flush');
    });
  }

  /**
   * One binary INCREMENT: memcached itself creates an absent counter with the
   * initial value (the expiration field is not all ones), so there is no
   * add-then-incr race. Every key, including counters, is forgotten by
   * memcached on eviction: callers must tolerate a counter restarting.
   */
  async counter(key: string, delta: number, initial: number, ttlSeconds: number): Promise<number> {
    const extras = Buffer.alloc(20);
    extras.writeBigUInt64BE(BigInt(delta), 0);
    extras.writeBigUInt64BE(BigInt(initial), 8);
    extras.writeUInt32BE(expirationOf(ttlSeconds), 16);
    let value = 0;
    await this.#exchange(Utils.makeRequestBuffer(OPCODE.increment, key, extras, EMPTY, this.#nextOpaque()), false, (response) => {
      const status = response.header.status;
      if (status === STATUS.notNumeric) throw new NodeError(this.address, 'rejected', 'memcached incr: the value is not a counter');
      if (status !== STATUS.ok) throw this.#statusError(status, 'incr');
      value = Number(response.val.readBigUInt64BE(0));
    });
    return value;
  }

  reset(): void {
    if (this.#closed) return;
    const retired = this.#server;
    this.#server = this.#newServer();
    // Fails everything outstanding on the old socket and destroys it.
    retired.error(new Error('connection reset by shardcache'));
  }

  async ping(): Promise<void> {
    await this.#exchange(Utils.makeRequestBuffer(OPCODE.noop, EMPTY, EMPTY, EMPTY, this.#nextOpaque()), false, () => {});
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // error() destroys the socket and fails whatever is still outstanding;
    // close() would only half-close it, and a hung server never finishes that.
    this.#server.error(new Error('closed'));
  }

  /**
   * Writes `frames` and feeds each reply frame to `onFrame` until the request
   * ends: its single reply, or for a quiet batch the closing NOOP. Then it
   * resolves with `result()`. An exception thrown by `onFrame` rejects the
   * request.
   */
  #exchange<T = void>(frames: Buffer, quiet: boolean, onFrame: FrameHandler, result?: () => T, explicitAttempt = false): Promise<T> {
    if (this.#closed) return Promise.reject(new NodeError(this.address, 'unavailable', 'the memcached connection is closed'));
    // A refused login or TLS set-up: no new connection per request; fail with the reason until an attempt is due.
    const refusal = this.#security.refusalBlocking(this.#connected(), explicitAttempt);
    if (refusal !== undefined) return Promise.reject(refusal);
    const opaque = frames.readUInt32BE(12);
    return new Promise<T>((resolve, reject) => {
      let failure: unknown;
      const handler = Object.assign(
        (response: Response) => {
          try {
            onFrame(response);
          } catch (error) {
            failure ??= error;
          }
          const ended = !quiet || response.header.totalBodyLength === 0;
          this.#security.answered();
          if (ended) {
            if (failure === undefined) resolve(result?.() as T);
            else reject(failure);
          }
        },
        { quiet },
      );
      this.#server.onError(opaque, (error: unknown) => {
        // A NodeError is the reply guard's verdict; anything else is memjs losing the connection.
        if (error instanceof NodeError) reject(error);
        else reject(this.#security.failureOf(error) ?? new NodeError(this.address, 'unavailable', `memcached is unavailable (${errorCode(error)}${this.#security.resetHint(error)})`, { cause: redact(error) }));
      });
      this.#server.onResponse(opaque, handler);
      this.#server.write(frames);
      this.#tuneSocket();
    });
  }

  /** memjs's Server has a connection that finished its login. */
  #connected(): boolean {
    return (this.#server as unknown as { connected?: boolean }).connected === true;
  }

  /** memjs leaves Nagle's algorithm on; its socket (an internal, `_socket`, present once connected) gets `noDelay`. */
  #tuneSocket(): void {
    const socket = (this.#server as unknown as { _socket?: Socket })._socket;
    if (socket === undefined || this.#tunedSockets.has(socket)) return;
    this.#tunedSockets.add(socket);
    socket.setNoDelay(true);
  }

  #nextOpaque(): number {
    this.#opaque = (this.#opaque + 1) >>> 0;
    return this.#opaque;
  }

  #statusError(status: number, operation: string): NodeError {
    const reason = REQUEST_STATUSES.has(status) ? 'rejected' : 'server';
    return new NodeError(this.address, reason, `memcached ${operation} answered status 0x${status.toString(16).padStart(4, '0')}`);
  }
}

/** SET extras: the flags word, then the expiration. */
function setExtras(flags: number, ttlSeconds: number): Buffer {
  if (ttlSeconds === 0 && flags === 0) return NO_FLAGS_NO_EXPIRY;
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(flags, 0);
  extras.writeUInt32BE(expirationOf(ttlSeconds), 4);
  return extras;
}

/**
 * A GET or GETKQ hit: memcached answers the item's flags as the 4-byte
 * extras (memjs parses them into `extras`; its own Client hands them to the
 * caller as that Buffer). `val` is a view into the chunk memjs read, which
 * memjs never writes again; the codec copies what it keeps.
 */
function storedValueOfHit(response: Response): StoredValue {
  const { extras } = response;
  return { bytes: response.val, flags: extras.length >= 4 ? extras.readUInt32BE(0) : 0 };
}

function expirationOf(ttlSeconds: number): number {
  return ttlSeconds > MAX_RELATIVE_TTL_SECONDS ? Math.floor(Date.now() / 1000) + ttlSeconds : ttlSeconds;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'connection failed';
}

function redact(error: unknown): Error {
  if (error instanceof Error) return Object.assign(new Error(error.message), { name: error.name, code: (error as { code?: unknown }).code });
  return new Error(String(error));
}
