import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../src/loader/single-flight.js';

describe('SingleFlight', () => {
  it('runs concurrent calls for one key once and shares the answer', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    let release!: (n: number) => void;
    const work = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const answers = Promise.all(Array.from({ length: 100 }, () => flight.run('k', work)));
    release(7);
    expect(await answers).toEqual(new Array(100).fill(7));
    expect(calls).toBe(1);
    expect(flight.size).toBe(0);
  });

  it('shares a failure, then lets the next call try again', async () => {
    const flight = new SingleFlight<number>();
    const failing = () => Promise.reject(new Error('db down'));
    const both = await Promise.allSettled([flight.run('k', failing), flight.run('k', failing)]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await flight.run('k', async () => 1)).toBe(1);
  });

  it('keeps keys apart', async () => {
    const flight = new SingleFlight<string>();
    expect(await Promise.all([flight.run('a', async () => 'A'), flight.run('b', async () => 'B')])).toEqual(['A', 'B']);
  });
});
