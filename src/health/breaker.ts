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
  async run<T>(task: () => Promise<T>): Promise<T> {
    try {
      return (await this.#breaker.fire(task)) as T;
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 'EOPENBREAKER') throw new BreakerOpenError(this.#node);
      throw error;
    }
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
