/**
 * One opossum circuit breaker per node. opossum's own timeout is off
 * (shardcache's deadline already bounds every call) and its error filter is
 * the failure classification, so a miss, a bad key or an oversize value never
 * opens a breaker. State changes are republished as shardcache events.
 */
import CircuitBreaker from 'opossum';
import type { BreakerOptions } from '../config/options.js';
import { BreakerOpenError } from '../errors.js';
import type { BreakerState, ShardcacheEmitter } from '../events.js';
import { countsAgainstNode } from './classify.js';

type Task = () => Promise<unknown>;

export class NodeBreaker {
  readonly #breaker: CircuitBreaker<[Task], unknown>;
  readonly #node: string;
  #successesToCount = 0;

  constructor(node: string, options: Required<BreakerOptions>, events: ShardcacheEmitter) {
    this.#node = node;
    this.#breaker = new CircuitBreaker<[Task], unknown>((task: Task) => task(), {
      name: node,
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      rollingCountTimeout: options.rollingCountTimeoutMs,
      resetTimeout: options.resetTimeoutMs,
      volumeThreshold: options.volumeThreshold,
      errorFilter: (error: unknown) => !countsAgainstNode(error),
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.#breaker.on('open', () => events.emit('breaker:open', { node }));
    this.#breaker.on('halfOpen', () => events.emit('breaker:half-open', { node }));
    this.#breaker.on('close', () => events.emit('breaker:closed', { node }));
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
   * succeeded. opossum's per-call bookkeeping costs more than the rest of
   * the request path, and in the middle of network work it runs with cold
   * caches, so successes are handed to opossum together at the end of the
   * loop turn, after the replies that produced them have been passed on.
   * Successes still uncounted when the breaker leaves `closed` are dropped:
   * they must not close a breaker that opened after them.
   */
  succeeded(): void {
    if (this.#successesToCount++ === 0) setImmediate(this.#countSuccesses);
  }

  /** Counts a failure of a call sent without `run`, at once: it may open the breaker. */
  failed(error: unknown): void {
    this.#countSuccesses();
    this.#breaker.fire(() => Promise.reject(error)).catch(ignore);
  }

  readonly #countSuccesses = (): void => {
    const count = this.#successesToCount;
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
    this.#breaker.shutdown();
  }
}

const NO_ARGS: readonly unknown[] = [];
const ignore = (): void => {};
