/**
 * Placement against vectors produced by the real peers (pylibmc on
 * libmemcached, and nutcracker), never by this code. Regenerate with
 * `/usr/bin/python3 test/fixtures/generate-ring-vectors.py`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KeyHash, RingCompat } from '../../../src/config/options.js';
import { Ring } from '../../../src/ring/ring.js';

interface VectorCase {
  name: string;
  peer: string;
  compat: RingCompat;
  keyHash: KeyHash;
  servers: { host: string; port: number; weight: number; name?: string }[];
  keys: string[];
  owners: number[];
}

const vectors = JSON.parse(readFileSync(new URL('../../fixtures/ring-vectors.json', import.meta.url), 'utf8')) as { cases: VectorCase[] };

describe('golden vectors from the real peers', () => {
  it('cover both peers, unequal weights and at least 50 servers', () => {
    expect(new Set(vectors.cases.map((c) => c.peer))).toEqual(new Set(['libmemcached', 'twemproxy']));
    expect(vectors.cases.some((c) => c.servers.length >= 50 && new Set(c.servers.map((s) => s.weight)).size > 1)).toBe(true);
    expect(vectors.cases.some((c) => c.servers.some((s) => s.name !== undefined))).toBe(true);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s: every key on the peer\'s server', (_, vector) => {
    const members = vector.servers.map((s, index) => ({ ...s, address: `${s.host}:${s.port}`, index }));
    const ring = Ring.build(members, { algorithm: 'ketama', compat: vector.compat, keyHash: vector.keyHash, hashTag: undefined, pointsPerServer: 160 });
    const mismatches = vector.keys.flatMap((key, i) => {
      const ours = ring.lookup(key)!.index;
      return ours === vector.owners[i] ? [] : [{ key, peer: vector.owners[i], ours }];
    });
    expect(vector.keys.length).toBeGreaterThanOrEqual(1000);
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
