/**
 * Server-assisted invalidation for the local tier, one per Redis node
 * (Redis client-side caching, default tracking mode, RESP2 redirection).
 *
 * ioredis 6 drops the RESP3 invalidation pushes, so each node gets a second,
 * RESP2 connection subscribed to `__redis__:invalidate`, and the node's data
 * connection is told `CLIENT TRACKING ON REDIRECT <its id>`: the server then
 * remembers every key the data connection reads and publishes the key there
 * when it changes, expires or is evicted (null for a flush).
 *
 * What must stay true:
 * - Tracking lives and dies with both connections. It is set again on every
 *   new data connection (the node replaces a hung one) and every new
 *   invalidation connection; until the server confirms it, the tier keeps
 *   nothing from the node (`tracked()` is heard only then).
 * - Losing it (either connection closes, or the invalidation connection
 *   stops answering its heartbeat: a hung server sends no close) is reported
 *   at once (`untracked()`), before anything else from the node is used.
 * - An answer that belongs to an older connection is ignored.
 */
import { ReplyError, type Redis } from 'ioredis';
import type { RedisBackend } from '../backends/redis.js';
import { debug, describeError } from '../debug.js';
import type { Clock } from '../node/clock.js';

export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/** What a node's invalidation stream reports. */
export interface TrackingListener {
  /** Tracking is on for the node's current data connection and redirected to a live invalidation connection. */
  tracked(): void;
  /** Tracking is lost: what was read from the node may have changed unseen. */
  untracked(): void;
  /** The server says these keys changed (written, deleted, expired, evicted). */
  invalidated(keys: string[]): void;
  /** The server was flushed. */
  flushed(): void;
}

export interface TrackingOptions {
  readonly address: string;
  readonly connectMs: number;
  readonly heartbeatMs: number;
  readonly clock: Clock;
}

export class RedisTracking {
  readonly #backend: RedisBackend;
  readonly #listener: TrackingListener;
  readonly #options: TrackingOptions;
  readonly #subscriber: Redis;
  /** CLIENT ID of the invalidation connection, once it is subscribed. */
  #redirectId: number | undefined;
  #dataUp = false;
  #tracked = false;
  /** Bumped by every change of either connection: answers to older attempts are ignored. */
  #generation = 0;
  /** Bumped by every new or lost invalidation connection. */
  #subscriberGeneration = 0;
  #pingOut = false;
  /** When the last heartbeat ran (clock time). */
  #lastBeat = 0;
  /** The last heartbeat ran late and judged nothing; the next one judges whatever its timing. */
  #skipped = false;
  /** Heartbeats seen while the invalidation connection is up but not yet subscribed. */
  #setupBeats = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopWatching: (() => void) | undefined;
  #closed = false;
  /** The server refused CLIENT ID or SUBSCRIBE (a proxy, Redis < 6): not asked again, its keys bypass the tier. */
  #refused = false;
  #settleStart: (() => void) | undefined;

  constructor(backend: RedisBackend, listener: TrackingListener, options: TrackingOptions) {
    this.#backend = backend;
    this.#listener = listener;
    this.#options = options;
    // The data client's settings (address, credentials, TLS), changed only where a subscriber must differ.
    this.#subscriber = backend.duplicate({
      lazyConnect: true,
      protocol: 2,
      // Resubscribing by itself would skip CLIENT ID, which subscriber mode refuses: done by hand on every 'ready'.
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Always back: while it is away the node's keys bypass the tier.
      retryStrategy: () => Math.max(options.heartbeatMs, 100),
    });
    this.#subscriber.on('error', () => {});
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#subscriber.on('close', () => this.#subscriberLost());
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => this.#message(channel, message));
  }

  /** Connects; resolves once tracking is on, or as soon as it cannot be yet (a node down), bounded by `connectMs`. Never rejects. */
  start(): Promise<void> {
    const started = new Promise<void>((resolve) => {
      const timer = this.#options.clock.setTimeout(() => this.#settleStart?.(), this.#options.connectMs);
      this.#settleStart = () => {
        this.#options.clock.clearTimeout(timer);
        this.#settleStart = undefined;
        resolve();
      };
    });
    this.#stopWatching = this.#backend.watchConnection({
      ready: () => {
        this.#dataUp = true;
        this.#enable();
      },
      lost: () => {
        this.#dataUp = false;
        this.#lose('its data connection closed');
      },
    });
    if (!this.#dataUp) this.#settleStart?.();
    this.#subscriber.connect().catch(() => this.#settleStart?.());
    this.#beat();
    return started;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#stopWatching?.();
    this.#settleStart?.();
    this.#subscriber.disconnect(false);
  }

  async #subscribe(): Promise<void> {
    const generation = ++this.#subscriberGeneration;
    this.#setupBeats = 0;
    try {
      const id = Number(await this.#subscriber.client('ID'));
      await this.#subscriber.subscribe(INVALIDATION_CHANNEL);
      if (generation !== this.#subscriberGeneration) return;
      this.#redirectId = id;
      this.#pingOut = false;
      this.#enable();
    } catch (error) {
      // Refused: asking again would not change the answer. Otherwise the heartbeat replaces a connection that never finishes subscribing.
      if (error instanceof ReplyError) this.#refused = true;
      debug('invalidation connection to %s could not subscribe (%s)%s', this.#options.address, describeError(error), this.#refused ? ': its keys bypass the local tier' : '');
      this.#settleStart?.();
    }
  }

  /** Turns tracking on for the current data connection, when both connections are up. */
  #enable(): void {
    if (this.#closed || !this.#dataUp || this.#redirectId === undefined) return;
    const generation = ++this.#generation;
    this.#backend.command('CLIENT', 'TRACKING', 'ON', 'REDIRECT', this.#redirectId).then(
      () => {
        if (generation !== this.#generation || this.#closed) return;
        this.#tracked = true;
        this.#listener.tracked();
        this.#settleStart?.();
      },
      (error: unknown) => {
        if (generation !== this.#generation) return;
        debug('CLIENT TRACKING on %s failed (%s): its keys bypass the local tier until its next connection', this.#options.address, describeError(error));
        this.#settleStart?.();
      },
    );
  }

  #lose(reason: string): void {
    this.#generation++;
    if (!this.#tracked) return;
    this.#tracked = false;
    debug('local tier: tracking on %s lost (%s); its entries are dropped', this.#options.address, reason);
    this.#listener.untracked();
  }

  #subscriberLost(): void {
    this.#subscriberGeneration++;
    this.#redirectId = undefined;
    this.#pingOut = false;
    this.#lose('its invalidation connection closed');
    this.#settleStart?.();
  }

  /**
   * A hung server closes nothing: a ping left unanswered for a whole
   * heartbeat means the stream is gone. A heartbeat that runs late (this
   * process stalled: GC, a busy loop) judges nothing: the answer may be
   * waiting, unread, behind the timer. Never twice in a row, so a
   * process that is always late still notices a hung server.
   */
  readonly #beat = (): void => {
    if (this.#closed || this.#refused) return;
    const now = this.#options.clock.now();
    const late = !this.#skipped && this.#lastBeat !== 0 && now - this.#lastBeat > 1.5 * this.#options.heartbeatMs;
    this.#lastBeat = now;
    this.#skipped = late;
    if (!late && this.#subscriber.status === 'ready') {
      if (this.#redirectId === undefined) {
        if (++this.#setupBeats > 2) this.#replaceSubscriber('it did not finish subscribing');
      } else if (this.#pingOut) {
        this.#replaceSubscriber('its heartbeat went unanswered');
      } else {
        this.#pingOut = true;
        const generation = this.#subscriberGeneration;
        this.#subscriber.ping().then(
          () => {
            if (generation === this.#subscriberGeneration) this.#pingOut = false;
          },
          () => {},
        );
      }
    }
    this.#timer = this.#options.clock.setTimeout(this.#beat, this.#options.heartbeatMs);
  };

  #replaceSubscriber(reason: string): void {
    this.#subscriberGeneration++;
    this.#redirectId = undefined;
    this.#pingOut = false;
    this.#lose(`invalidation connection: ${reason}`);
    // Reconnects by its retryStrategy; the 'close' that follows finds nothing more to drop.
    this.#subscriber.disconnect(true);
  }

  #message(channel: Buffer, message: unknown): void {
    if (channel.toString() !== INVALIDATION_CHANNEL) return;
    if (message === null) {
      this.#listener.flushed();
    } else if (Array.isArray(message)) {
      this.#listener.invalidated(message.map((key: Buffer) => key.toString()));
    } else if (Buffer.isBuffer(message)) {
      this.#listener.invalidated([message.toString()]);
    }
  }
}
