import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDeadline } from '../../../src/node/deadline.js';

// Each test uses its own duration: queues are kept per duration, module-wide.
describe('deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expire once, after the duration, unless settled first', async () => {
    const answered = vi.fn();
    const late = vi.fn();
    const onTime = startDeadline(101, answered);
    const missed = startDeadline(101, late);
    await vi.advanceTimersByTimeAsync(50);
    expect(onTime.settle()).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(late).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2);
    expect(late).toHaveBeenCalledTimes(1);
    expect(answered).not.toHaveBeenCalled();
    expect(missed.settle()).toBe(false);
  });

  it('keep timing a call that starts after every earlier one was answered, from its own start', async () => {
    // The first call's timer is still armed when the queue empties; the second must expire at its own deadline, not the first's.
    startDeadline(102, () => {}).settle();
    await vi.advanceTimersByTimeAsync(60);
    const expire = vi.fn();
    startDeadline(102, expire);
    await vi.advanceTimersByTimeAsync(60);
    expect(expire).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(44);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('keep timing a call that starts after the queue emptied behind a timer that had already run', async () => {
    startDeadline(104, () => {}); // never settled here: it expires at 104
    const first = startDeadline(104, () => {});
    await vi.advanceTimersByTimeAsync(10);
    const second = startDeadline(104, () => {});
    first.settle();
    // At 104 the timer drops the answered entry and the expired one, and waits for the second (114).
    await vi.advanceTimersByTimeAsync(96);
    expect(second.settle()).toBe(true);
    const expire = vi.fn();
    startDeadline(104, expire);
    await vi.advanceTimersByTimeAsync(103);
    expect(expire).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(3);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('expire exactly the calls left unanswered among many, in any order of answers', async () => {
    const expired: number[] = [];
    const deadlines = Array.from({ length: 2000 }, (_, i) => startDeadline(103, () => expired.push(i)));
    for (let i = deadlines.length - 1; i >= 0; i--) if (i % 7 !== 0) deadlines[i]!.settle();
    await vi.advanceTimersByTimeAsync(105);
    expect(expired).toEqual(deadlines.map((_, i) => i).filter((i) => i % 7 === 0));
  });
});
