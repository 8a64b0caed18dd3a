/**
 * When an ejected node is probed next: `retryTimeoutMs` after its ejection,
 * then, while probes fail, twice the previous wait up to
 * `maxRetryTimeoutMs`, each wait varied by +-20% so that nodes ejected
 * together are not probed in lockstep. One timer at most, on the injected clock.
 */
import type { HealthOptions } from '../config/options.js';
import type { Clock } from './clock.js';

const BACKOFF_FACTOR = 2;
const JITTER = 0.2;

export class ProbeSchedule {
  readonly #clock: Clock;
  readonly #health: Pick<Required<HealthOptions>, 'retryTimeoutMs' | 'maxRetryTimeoutMs'>;
  readonly #probe: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Failed probes since the ejection. */
  attempt = 0;

  constructor(clock: Clock, health: Pick<Required<HealthOptions>, 'retryTimeoutMs' | 'maxRetryTimeoutMs'>, probe: () => void) {
    this.#clock = clock;
    this.#health = health;
    this.#probe = probe;
  }

  /** The node was just ejected: first probe after `retryTimeoutMs`. */
  start(): void {
    this.attempt = 0;
    this.#schedule(this.#health.retryTimeoutMs);
  }

  /** A probe failed: the next one after the backed-off, jittered wait, which is returned. */
  failed(): number {
    this.attempt++;
    const { retryTimeoutMs, maxRetryTimeoutMs } = this.#health;
    const backoff = Math.min(retryTimeoutMs * BACKOFF_FACTOR ** this.attempt, maxRetryTimeoutMs);
    const delayMs = Math.round(backoff * (1 - JITTER + 2 * JITTER * this.#clock.random()));
    this.#schedule(delayMs);
    return delayMs;
  }

  cancel(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#probe();
    }, delayMs);
  }
}
