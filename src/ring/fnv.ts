/**
 * twemproxy's `fnv1a_64` key hash. Despite its name it runs FNV-1a in 32 bits
 * with the low halves of the 64-bit offset basis and prime, and it widens each
 * key byte through a signed `char`: bytes >= 0x80 are XORed in sign-extended.
 */
const OFFSET_BASIS_LOW = 0x84222325;
const PRIME_LOW = 0x000001b3;

export function fnv1a64KeyHash(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let hash = OFFSET_BASIS_LOW;
  for (const byte of bytes) {
    hash ^= byte >= 0x80 ? byte | 0xffffff00 : byte;
    hash = Math.imul(hash, PRIME_LOW);
  }
  return hash >>> 0;
}
