import { describe, expect, it } from 'vitest';
import { NodeStats } from '../../../src/node/node-stats.js';

describe('node stats', () => {
  it('counts requests by operation and outcome; short-circuited requests stay out of the latency window', () => {
    const stats = new NodeStats();
    stats.record('get', 'ok', 0.2, 1);
    stats.record('get', 'timeout', 10, 2);
    stats.record('get', 'short-circuited', 0, 3);
    stats.record('setMany', 'error', 1, 4);
    expect(Object.fromEntries([...stats.operations].map(([op, counts]) => [op, { ...counts }]))).toEqual({
      get: { ok: 1, error: 0, timeout: 1, shortCircuited: 1 },
      setMany: { ok: 0, error: 1, timeout: 0, shortCircuited: 0 },
    });
    expect(stats.latency.size).toBe(3);
  });
});
