/**
 * One opossum circuit breaker per node. opossum's own timeout is off
 * (shardcache's deadline already bounds every call) and its error filter is
 * the failure classification, so a miss, a bad key or an oversize value never
 * opens a breaker. State changes are republished as shardcache events.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { BreakerOptions } from '../config/options.js';
import { BreakerOpenError } from '../errors.js';
import type { BreakerState, ShardcacheEmitter } from '../events.js';
import { countsAgainstNode } from './classify.js';

type Task = () => Promise<unknown>;

/** opossum's default: the rolling window is 10 buckets. */
const BUCKETS = 10;
/**
 * Successes handed to opossum in one go at most (each is two events, about
 * 0.3 us): a busy node's tally goes over at the end of the loop turn once it
 * reaches this, so no hand-over stalls the process for long.
 */
const SUCCESSES_PER_HANDOVER = 256;

export class NodeBreaker {
  readonly #breaker: CircuitBreaker<[Task], unknown>;
  readonly #node: string;
  #successesToCount = 0;
  /** Rotates opossum's buckets, after handing it the successes of the bucket that ends. */
  readonly #rotation = new EventEmitter();
  readonly #rotationTimer: NodeJS.Timeout;

  constructor(node: string, options: Required<BreakerOptions>, events: ShardcacheEmitter) {
    this.#node = node;
    this.#breaker = new CircuitBreaker<[Task], unknown>((task: Task) => task(), {
      name: node,
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      rollingCountTimeout: options.rollingCountTimeoutMs,
      rollingCountBuckets: BUCKETS,
      rotateBucketController: this.#rotation,
      resetTimeout: options.resetTimeoutMs,
      volumeThreshold: options.volumeThreshold,
      errorFilter: (error: unknown) => !countsAgainstNode(error),
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.#breaker.on('open', () => {
      this.#successesToCount = 0;
      events.emit('breaker:open', { node });
    });
    this.#breaker.on('halfOpen', () => events.emit('breaker:half-open', { node }));
    this.#breaker.on('close', () => events.emit('breaker:closed', { node }));
    this.#rotationTimer = setInterval(() => {
      this.#countSuccesses();
      this.#rotation.emit('rotate');
    }, options.rollingCountTimeoutMs / BUCKETS);
    this.#rotationTimer.unref();
  }

  /** Runs `task` unless the breaker is open, in which case it rejects at once with `BreakerOpenError`. */
  run<T>(task: () => Promise<T>): Promise<T> {
    // An open breaker refuses here, without opossum's per-call bookkeeping; a
    // half-open one goes through opossum, which lets exactly one trial call pass.
    if (this.#breaker.opened) return Promise.reject(new BreakerOpenError(this.#node));
    return (this.#breaker.fire(task) as Promise<T>).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code === 'EOPENBREAKER') throw new BreakerOpenError(this.#node);
      throw error;
    });
  }

  get closed(): boolean {
    return this.#breaker.closed;
  }

  /**
   * Counts a call that a closed breaker let through (it was sent without
   * `run`; a closed breaker would have let it through anyway) and that
   * succeeded. Successes only matter to opossum when it weighs a failure
   * (the error rate) and when its rolling window moves on, so they are
   * tallied here and handed over at those moments, or at the end of the loop
   * turn once `SUCCESSES_PER_HANDOVER` are waiting: the request path does no
   * breaker work and rarely schedules any. Successes still uncounted when the
   * breaker leaves `closed` are dropped: they must not close a breaker that
   * opened after them.
   */
  succeeded(): void {
    if (++this.#successesToCount === SUCCESSES_PER_HANDOVER) setImmediate(this.#countSuccesses);
  }

  /** Counts a failure of a call sent without `run`, at once: it may open the breaker. */
  failed(error: unknown): void {
    this.#countSuccesses();
    this.#breaker.fire(() => Promise.reject(error)).catch(ignore);
  }

  readonly #countSuccesses = (): void => {
    const count = this.#successesToCount;
    if (count === 0) return;
    this.#successesToCount = 0;
    if (!this.#breaker.closed) return;
    // What `fire` records for a call that succeeds, without running one: two
    // promises, a semaphore and a coalescing check per success cost more
    // than the request they count. opossum counts through its own events
    // ('fire', then 'success', which feed its rolling window); this breaker
    // is private, so only opossum's listeners and ours hear them.
    for (let i = 0; i < count; i++) {
      this.#breaker.emit('fire', NO_ARGS);
      this.#breaker.emit('success', undefined, 0);
    }
  };

  get state(): BreakerState {
    if (this.#breaker.opened) return 'open';
    return this.#breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** A node that passed its probe starts with a clean record. */
  reset(): void {
    if (!this.#breaker.closed) this.#breaker.close();
  }

  shutdown(): void {
    clearInterval(this.#rotationTimer);
    this.#breaker.shutdown();
  }
}

const NO_ARGS: readonly unknown[] = [];
const ignore = (): void => {};
