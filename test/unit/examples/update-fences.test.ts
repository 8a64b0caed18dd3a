/** The product-service example's update fences: which versions are stale, for how long, and within what bound. */
import { describe, expect, it } from 'vitest';
import { UpdateFences } from '../../../examples/product-service/update-fences.mjs';

describe('UpdateFences', () => {
  it('calls a version older than the last committed update stale, and only that', () => {
    const fences = new UpdateFences({ holdMs: 1000, now: () => 0 });
    expect(fences.isStale(7, 1)).toBe(false);
    fences.record(7, 3);
    expect([fences.isStale(7, 2), fences.isStale(7, 3), fences.isStale(7, 4), fences.isStale(8, 1)]).toEqual([true, false, false, false]);
    // Updates acknowledged out of order: the fence keeps the newest version.
    fences.record(7, 2);
    expect(fences.isStale(7, 2)).toBe(true);
  });

  it('forgets a fence once its hold has run out', () => {
    let now = 0;
    const fences = new UpdateFences({ holdMs: 1000, now: () => now });
    fences.record(1, 5);
    now = 999;
    expect(fences.isStale(1, 4)).toBe(true);
    now = 1000;
    expect(fences.isStale(1, 4)).toBe(false);
    expect(fences.size).toBe(0);
  });

  it('stays within maxEntries, dropping expired fences first and counting the live ones it had to drop', () => {
    let now = 0;
    const fences = new UpdateFences({ holdMs: 100, maxEntries: 3, now: () => now });
    fences.record(1, 2);
    now = 50;
    fences.record(2, 2);
    fences.record(3, 2);
    now = 120; // fence 1 has expired
    fences.record(4, 2);
    expect([fences.size, fences.evicted]).toEqual([3, 0]);
    fences.record(5, 2); // fence 2 is still live: dropped and counted
    expect([fences.size, fences.evicted]).toEqual([3, 1]);
    expect([fences.isStale(2, 1), fences.isStale(5, 1)]).toEqual([false, true]);
  });
});
