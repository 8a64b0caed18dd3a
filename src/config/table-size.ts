/**
 * `ring.tableSize`, the Maglev table's slot count: Maglev's permutations
 * (offset + j * skip mod M) visit every slot only when M is prime, and a
 * table under 100 slots per node would leave a node's share more than 1%
 * off its weight's.
 */
import { ConfigError } from '../errors.js';
import { describe } from './node-spec.js';
import { DEFAULTS } from './options.js';

const MIN = 1_009;
const MAX = 16_777_213;
const MIN_SLOTS_PER_NODE = 100;

/** The validated size; `nodes` is the pool size in `maglev` mode, else 0 (no per-node check). */
export function maglevTableSize(value: unknown, nodes: number): number {
  if (value === undefined && nodes * MIN_SLOTS_PER_NODE <= DEFAULTS.ring.tableSize) return DEFAULTS.ring.tableSize;
  const size = value ?? DEFAULTS.ring.tableSize;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN || size > MAX || !isPrime(size)) {
    throw new ConfigError('ring.tableSize', `expected a prime from ${MIN} to ${MAX}, got ${describe(size)}`);
  }
  if (size < nodes * MIN_SLOTS_PER_NODE) {
    throw new ConfigError('ring.tableSize', `${size} slots are fewer than ${MIN_SLOTS_PER_NODE} per node for ${nodes} nodes: take a prime of at least ${nodes * MIN_SLOTS_PER_NODE}`);
  }
  return size;
}

function isPrime(value: number): boolean {
  if (value % 2 === 0) return value === 2;
  for (let d = 3; d * d <= value; d += 2) if (value % d === 0) return false;
  return value > 1;
}
