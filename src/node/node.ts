/**
 * CacheNode: one cache node as the cache sees it. It owns the node's
 * backend, every call's deadline, the consecutive-failure count, the breaker,
 * and the ejected/probing state with its probe timer.
 *
 * - Every call runs through the breaker and one deadline; a late reply has
 *   already counted as a failure when its deadline passed.
 * - After `failureLimit` consecutive counted failures (requests that were
 *   already in flight when a failure was counted add nothing: a burst that
 *   times out together is one failure) the node asks its
 *   membership to be ejected, and if they were missed deadlines its
 *   connection is replaced (a hung server keeps its socket open and requests
 *   would queue behind it).
 * - Ejected, it gets no traffic. After `retryTimeoutMs` an out-of-band probe
 *   (fresh connection, one no-op) decides: success readmits it (after the
 *   membership has cleaned up what changed in its absence), failure doubles
 *   the wait, with jitter, up to `maxRetryTimeoutMs`.
 */
import type { Backend, ReadValue } from '../backends/backend.js';
import type { BreakerOptions, HealthOptions, ResolvedNode } from '../config/options.js';
import { debug, describeError } from '../debug.js';
import { operationChannel, type OperationOutcome } from '../diagnostics.js';
import { DeadlineError, type AuthError, type TlsError } from '../errors.js';
import type { NodeState, ShardcacheEmitter } from '../events.js';
import { NodeStats } from './node-stats.js';
import type { RingMember } from '../ring/ring.js';
import { NodeBreaker } from './breaker.js';
import { countsAgainstNode, isConnectionSetupFailure, outcomeOf } from './classify.js';
import type { Clock } from './clock.js';
import { startDeadline, withDeadline } from './deadline.js';
import { GetBatcher } from './get-batcher.js';
import { ProbeSchedule } from './probe-schedule.js';

/** What a node needs from the pool it belongs to. */
export interface Membership {
  /** Takes the node off the ring, unless too many nodes are out already. */
  requestEjection(node: CacheNode): boolean;
  /** Cleans up after the node's absence and puts it back on the ring; rejects if it cannot. */
  readmit(node: CacheNode): Promise<{ invalidatedKeys: number; flushed: boolean }>;
}

export interface CacheNodeOptions {
  readonly health: Required<HealthOptions>;
  /** Deadline of single-key reads (`get`), which are batched per tick. */
  readonly getMs: number;
  readonly breaker: Required<BreakerOptions>;
  readonly clock: Clock;
  readonly events: ShardcacheEmitter;
  /** Tells this cache's diagnostics messages from other caches' in the process. @default 0 */
  readonly cacheId?: number;
}

export class CacheNode implements RingMember {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Changed only by a live membership change (`setNodes` re-weighting the node), before its points are placed again. */
  weight: number;
  name: string | undefined;
  readonly backend: Backend;
  /** Requests, hits, misses and recent latencies, for stats, health and metrics. */
  readonly stats = new NodeStats();

  readonly #options: CacheNodeOptions;
  readonly #breaker: NodeBreaker;
  readonly #gets: GetBatcher<ReadValue | undefined>;
  #membership: Membership | undefined;
  #state: NodeState = 'up';
  #consecutiveFailures = 0;
  /** Requests sent so far, and how many had been sent when the last failure was counted. */
  #sent = 0;
  #sentBeforeLastFailure = 0;
  /** Bumped when the connection is replaced: failures of calls made on the old one do not replace the new one. */
  #connection = 0;
  readonly #probes: ProbeSchedule;
  #ejectedAt = 0;
  #closed = false;
  /** Calls not settled yet, and who waits for there to be none (a node leaving the pool). */
  #inFlight = 0;
  #onDrained: (() => void) | undefined;
  /** The last refused login or TLS set-up, until the node answers again: why it is not serving, for health(). */
  #setupFailure: AuthError | TlsError | undefined;

  constructor(node: ResolvedNode, backend: Backend, options: CacheNodeOptions) {
    this.address = node.address;
    this.host = node.host;
    this.port = node.port;
    this.weight = node.weight;
    this.name = node.name;
    this.backend = backend;
    this.#options = options;
    this.#breaker = new NodeBreaker(node.address, options.breaker, options.events);
    this.#probes = new ProbeSchedule(options.clock, options.health, () => void this.#probe());
    this.#gets = new GetBatcher(
      (key, settled) => this.call('get', options.getMs, (backend) => backend.get(key), settled),
      (keys) => this.call('get', options.getMs, (backend) => backend.getMany(keys)),
    );
  }

  joinMembership(membership: Membership): void {
    this.#membership = membership;
  }

  get state(): NodeState {
    return this.#state;
  }

  get breakerState(): NodeBreaker['state'] {
    return this.#breaker.state;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** The login or TLS set-up the node last refused, while it has not answered since; `undefined` otherwise. */
  get setupFailure(): AuthError | TlsError | undefined {
    return this.#setupFailure;
  }

  /**
   * The bytes and flags stored under `key` (`undefined`: a miss). Gets this tick makes
   * after the first go to the node as one batch request (GetBatcher), which
   * is one call: one deadline of `getMs`, one outcome. A get with a
   * `deadlineMs` other than `getMs` is sent on its own.
   * @throws {BreakerOpenError | DeadlineError | NodeError} as `call` does.
   */
  get(key: string, deadlineMs?: number): Promise<ReadValue | undefined> {
    // A get with a deadline of its own cannot share a batch's.
    if (deadlineMs !== undefined && deadlineMs !== this.#options.getMs) return this.call('get', deadlineMs, (backend) => backend.get(key));
    return this.#gets.get(key);
  }

  /**
   * Runs `work` against the backend under the breaker and one deadline.
   * @param settled runs once, just before the returned promise settles.
   * @throws {BreakerOpenError} at once when the breaker is open.
   * @throws {DeadlineError | NodeError} when the node fails.
   */
  call<T>(operation: string, deadlineMs: number, work: (backend: Backend) => Promise<T>, settled: () => void = ignore): Promise<T> {
    this.#inFlight++;
    const connection = this.#connection;
    const sequence = ++this.#sent;
    const started = this.#options.clock.now();
    if (!this.#breaker.closed) {
      // Open: refused at once. Half-open: opossum admits the one trial call.
      return this.#breaker.run(() => withDeadline(work(this.backend), deadlineMs, this.address, operation)).then(
        (result) => {
          this.#succeeded(operation, started);
          this.#ended();
          settled();
          return result;
        },
        (error: unknown) => {
          this.#callFailed(error, operation, started, connection, sequence);
          this.#ended();
          settled();
          throw error;
        },
      );
    }
    // Closed: opossum would run every call, so the request is sent directly
    // and the breaker is told how it ended (NodeBreaker.succeeded/failed).
    // One promise and one reaction carry the reply to the caller.
    return new Promise<T>((resolve, reject) => {
      let reply: Promise<T>;
      try {
        reply = work(this.backend);
      } catch (error) {
        reply = Promise.reject(error);
      }
      const fail = (error: unknown) => {
        if (this.#callFailed(error, operation, started, connection, sequence)) this.#breaker.failed(error);
        this.#ended();
        settled();
        reject(error);
      };
      const deadline = startDeadline(deadlineMs, () => fail(new DeadlineError(this.address, operation, deadlineMs)));
      reply.then(
        (result) => {
          if (!deadline.settle()) return;
          this.#succeeded(operation, started);
          this.#ended();
          settled();
          resolve(result);
          this.#breaker.succeeded();
        },
        (error: unknown) => {
          if (deadline.settle()) fail(error);
        },
      );
    });
  }

  #succeeded(operation: string, started: number): void {
    this.#consecutiveFailures = 0;
    this.#setupFailure = undefined;
    this.#record(operation, 'ok', started);
  }

  /**
   * Runs before the caller hears of the failure, so that a retry already sees
   * the node ejected. Returns false for an echo: a failure of a request that
   * was already in flight when an earlier failure was counted. A burst of a
   * thousand requests whose tail misses its deadline (a saturated client,
   * one slow moment of the server) is one piece of evidence against the
   * node, not a thousand consecutive failures; a node that keeps failing is
   * still ejected by the requests sent after the first failure.
   */
  #callFailed(error: unknown, operation: string, started: number, connection: number, sequence: number): boolean {
    this.#record(operation, outcomeOf(error), started);
    if (isConnectionSetupFailure(error)) this.#setupFailure = error;
    if (!countsAgainstNode(error)) return true;
    if (sequence <= this.#sentBeforeLastFailure) return false;
    this.#sentBeforeLastFailure = this.#sent;
    this.#failed(connection, error instanceof DeadlineError);
    return true;
  }

  /** Every request is counted and timed (stats, health, metrics); the diagnostics message costs nothing without subscribers. */
  #record(operation: string, outcome: OperationOutcome, started: number): void {
    const ended = this.#options.clock.now();
    const durationMs = ended - started;
    this.stats.record(operation, outcome, durationMs, ended);
    if (operationChannel.hasSubscribers) {
      operationChannel.publish({ cache: this.#options.cacheId ?? 0, node: this.address, operation, outcome, durationMs });
    }
  }

  #ended(): void {
    if (--this.#inFlight === 0 && this.#onDrained !== undefined) this.#onDrained();
  }

  /** Resolves once every call made so far has settled (each is bounded by its deadline). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onDrained;
      this.#onDrained = () => {
        this.#onDrained = undefined;
        previous?.();
        resolve();
      };
    });
  }

  close(): void {
    this.#closed = true;
    this.#probes.cancel();
    this.#breaker.shutdown();
  }

  #failed(connection: number, timedOut: boolean): void {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures < this.#options.health.failureLimit || this.#closed) return;
    // Only a missed deadline means a hung connection. Replacing a connection
    // because requests failed while it was being established would keep it
    // from ever being established.
    if (timedOut && connection === this.#connection) this.#replaceConnection();
    if (this.#state === 'up' && this.#membership?.requestEjection(this)) this.#eject();
  }

  #replaceConnection(): void {
    this.#connection++;
    this.backend.reset();
  }

  #eject(): void {
    this.#state = 'ejected';
    this.#ejectedAt = this.#options.clock.now();
    this.#probes.start();
  }

  async #probe(): Promise<void> {
    if (this.#closed || this.#state !== 'ejected') return;
    this.#state = 'probing';
    const { probeTimeoutMs } = this.#options.health;
    try {
      this.#replaceConnection();
      await withDeadline(
        (async () => {
          await this.backend.connect();
          await this.backend.ping();
        })(),
        probeTimeoutMs,
        this.address,
        'probe',
      );
      const { invalidatedKeys, flushed } = await this.#membership!.readmit(this);
      if (this.#closed) return;
      this.#state = 'up';
      this.#consecutiveFailures = 0;
      this.#setupFailure = undefined;
      this.#breaker.reset();
      const outMs = this.#options.clock.now() - this.#ejectedAt;
      this.#options.events.emit('node:readmitted', { node: this.address, outMs, invalidatedKeys, flushed });
      debug('%s back on the ring after %d ms (%s)', this.address, Math.round(outMs), flushed ? 'flushed' : `${invalidatedKeys} journaled key(s) deleted`);
    } catch (error) {
      if (this.#closed) return;
      this.#state = 'ejected';
      if (isConnectionSetupFailure(error)) this.#setupFailure = error;
      const nextProbeMs = this.#probes.failed();
      const attempt = this.#probes.attempt;
      this.#options.events.emit('node:probe-failed', { node: this.address, attempt, nextProbeMs, error });
      debug('probe %d of %s failed (%s); next in %d ms', attempt, this.address, describeError(error), nextProbeMs);
    }
  }
}

const ignore = (): void => {};
