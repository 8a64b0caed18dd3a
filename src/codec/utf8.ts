/**
 * The bytes as a string when they are valid UTF-8, else `undefined`.
 *
 * Decoding first and checking after is cheaper than checking first, on
 * every read of text: the decoder turns each invalid sequence into U+FFFD,
 * so a string without one came from valid bytes, and V8 answers that search
 * at once for a string it holds as Latin-1 (any ASCII text). Only a string
 * that holds U+FFFD (valid UTF-8 as EF BF BD) needs the full check.
 */
import { isUtf8 } from 'node:buffer';

export function utf8TextOf(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return text.includes('\uFFFD') && !isUtf8(bytes) ? undefined : text;
}
