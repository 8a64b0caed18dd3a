/**
 * The clock namespace version counters are created from: wall-clock time in
 * whole microseconds since the epoch.
 *
 * `Date.now()` has a resolution of one millisecond. That is too coarse. A
 * counter created at T ms and bumped to T + 1 could be lost and re-created
 * before the clock reached T + 2, which brings back the bumped version's entries.
 * Localhost round trips are tens of microseconds, so that happened.
 * Here the monotonic clock (`performance.timeOrigin + performance.now()`)
 * gives the microseconds, held to the millisecond `Date.now()` reads:
 * - behind it (the machine slept, or the wall clock was stepped forward), it
 *   catches up to `Date.now()` for good;
 * - ahead of it (the wall clock was stepped back, or this call was preempted
 *   between the two readings), the answer is the last microsecond of
 *   `Date.now()`'s millisecond.
 * So a reading is never more than a millisecond from `Date.now()`, and when
 * the two clocks agree it is exact to the microsecond. Integers stay exact in
 * a double until the year 2255.
 */
let monotonicOrigin = performance.timeOrigin;

export function versionClockMicros(): number {
  // Wall clock first: a delay between the two readings makes the monotonic one look ahead (capped below), never behind.
  const wallMs = Date.now();
  const monotonicMs = performance.now();
  if (monotonicOrigin + monotonicMs < wallMs) monotonicOrigin = wallMs - monotonicMs;
  return Math.min(Math.floor((monotonicOrigin + monotonicMs) * 1000), wallMs * 1000 + 999);
}
