/**
 * Whole units (table slots) shared in proportion to real-valued shares by
 * the largest-remainder method (Hamilton's): each share gets its floor, and
 * the units left go to the largest fractional parts. Every result is within
 * one unit of its exact share, and the results sum to `count`.
 */

/** `count` units over `shares`; equal remainders go first to the index listed first in `order`. */
export function apportion(shares: readonly number[], count: number, order: readonly number[]): number[] {
  const total = shares.reduce((sum, w) => sum + w, 0);
  if (total === 0) return shares.map(() => 0);
  const exact = shares.map((w) => (count * w) / total);
  const result = exact.map(Math.floor);
  let left = count - result.reduce((sum, q) => sum + q, 0);
  const rank = new Array<number>(shares.length);
  order.forEach((server, position) => (rank[server] = position));
  const byRemainder = exact.map((value, i) => ({ i, remainder: value - Math.floor(value) })).sort((a, b) => b.remainder - a.remainder || rank[a.i]! - rank[b.i]!);
  for (let k = 0; left > 0; k++, left--) result[byRemainder[k % byRemainder.length]!.i]!++;
  return result;
}
