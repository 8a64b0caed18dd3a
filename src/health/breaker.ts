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
   * Starts counting a call that was already sent, as `run` would have. Meant
   * for a closed breaker, which would have let the call through anyway.
   * opossum hears of a success on the next tick, after the caller has: its
   * bookkeeping (events, stats window) stays off the request's critical path.
   * It hears of a failure at once.
   */
  track(): CallOutcome {
    const outcome = new CallOutcome();
    this.#breaker.fire(() => outcome.promise).catch(() => {});
    return outcome;
  }

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

/** How a tracked call ended: a success reaches opossum on the next tick, a failure at once. */
export class CallOutcome {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  succeeded(): void {
    process.nextTick(this.#resolve);
  }

  /** At once: a failure may open the breaker, and nothing waits on this path. */
  failed(error: unknown): void {
    this.#reject(error);
  }
}
