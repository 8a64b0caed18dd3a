/**
 * Jump consistent hash (Lamping & Veach, 2014), as a reference point in the
 * distribution report: perfectly balanced, no memory, but buckets can only be
 * added or removed at the end, and it has no weights.
 */
const MULTIPLIER = 2862933555777941757n;
const MASK_64 = (1n << 64n) - 1n;

export function jumpHash(key: bigint, buckets: number): number {
  let k = key & MASK_64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * MULTIPLIER + 1n) & MASK_64;
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(k >> 33n) + 1));
  }
  return b;
}
