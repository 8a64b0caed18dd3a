/**
 * Time, injected: deadlines, probe timers and backoff read this, so tests can
 * drive them with fake timers. Probe timers are unref'd: a cache alone must
 * not keep a process alive.
 */
export interface Clock {
  now(): number;
  /** A timer that does not keep the process alive. */
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout | undefined): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer),
  random: Math.random,
};
