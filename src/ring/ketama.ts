/**
 * Weighted ketama as libmemcached (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and
 * twemproxy build it:
 * - a server gets floor(pct * 160 / 4 * servers) * 4 points, pct = weight /
 *   total weight, evaluated in 32-bit floats as the C code does (so weights
 *   6,8,5,2,4 give 188,252,160,60,124 points, not multiples of 160/n);
 * - each MD5 of `<name>-<i>` (i = 0, 1, ...) yields 4 points, its bytes 0-3,
 *   4-7, 8-11 and 12-15 read as little-endian uint32;
 * - the key hash is MD5's first 4 bytes, little-endian.
 * Verified against pylibmc (libmemcached 1.0.18) and nutcracker 0.5.0 by the
 * vectors in test/fixtures/ring-vectors.json.
 */
import { hash as oneShotHash } from 'node:crypto';
import { md5 as jsMd5 } from 'js-md5';

const POINTS_PER_SERVER = 160;
const POINTS_PER_HASH = 4;

export function ketamaPointCount(weight: number, totalWeight: number, serverCount: number): number {
  const f = Math.fround;
  const pct = f(f(weight) / f(totalWeight));
  const scaled = f(f(f(pct * POINTS_PER_SERVER) / POINTS_PER_HASH) * f(serverCount));
  return Math.floor(scaled + 0.0000000001) * POINTS_PER_HASH;
}

export function ketamaPoints(serverName: string, count: number): Uint32Array {
  const points = new Uint32Array(count);
  for (let i = 0; i < count / POINTS_PER_HASH; i++) {
    const digest = md5(`${serverName}-${i}`);
    for (let part = 0; part < POINTS_PER_HASH; part++) {
      points[i * POINTS_PER_HASH + part] = digest.readUInt32LE(part * 4);
    }
  }
  return points;
}

/**
 * Per key, js-md5 is used rather than node:crypto: for keys of a few dozen
 * bytes OpenSSL's per-call setup costs about 1.7 us against js-md5's 0.26 us.
 * Both hash the key's UTF-8 bytes; keys are well-formed Unicode (checkKey),
 * the one case where their encodings would differ.
 */
export function md5KeyHash(key: string): number {
  const digest = jsMd5.array(key);
  return (digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) >>> 0;
}

function md5(text: string): Buffer {
  return oneShotHash('md5', text, 'buffer');
}
