/** Zipf-distributed ranks from a seeded generator, so two runs draw the same sequence. */
export { seededRandom } from './seeded-random.js';


/** Ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s, by inverse CDF and binary search. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s);
  for (let k = 0; k < n; k++) cdf[k]! /= total;
  return () => {
    const u = random();
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cdf[middle]! < u) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}
