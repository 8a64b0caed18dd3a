/**
 * Large batches go to a server in bounded pieces, sent back to back on the
 * same connection (still one round trip's wait, pipelined):
 * - one Redis command holds the server's only thread for its whole run, so a
 *   450,000-key MGET or DEL would stall every other client of that node;
 * - a batch becomes one request buffer in the client: pieces keep that buffer
 *   (and memcached's per-connection read buffer) bounded;
 * - spreading a key array into a call's arguments (`del(...keys)`) overflows
 *   the stack past about 100,000 keys: nothing here spreads.
 * Batches that fit in one piece, the common case, pay nothing for this.
 */
import type { StoredValue } from './backend.js';

/** Keys per MGET, DEL, UNLINK or memcached GETKQ/SETQ/DELETEQ run. */
export const MAX_KEYS_PER_REQUEST = 8192;
/** Value bytes per memcached SETQ run (a piece holds at least one entry, however large). */
export const MAX_BYTES_PER_REQUEST = 1 << 20;

/** `items` cut into consecutive pieces of at most `maxCount` items. */
export function chunksOf<T>(items: readonly T[], maxCount = MAX_KEYS_PER_REQUEST): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += maxCount) chunks.push(items.slice(start, start + maxCount));
  return chunks;
}

/** Key/value entries cut into consecutive pieces of at most `maxCount` entries and, past the first entry, `maxBytes` value bytes. */
export function entryChunksOf<E extends readonly [string, StoredValue]>(entries: readonly E[], maxCount = MAX_KEYS_PER_REQUEST, maxBytes = MAX_BYTES_PER_REQUEST): E[][] {
  const chunks: E[][] = [];
  let chunk: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (chunk.length > 0 && (chunk.length === maxCount || bytes + entry[1].bytes.length > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += entry[1].bytes.length;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
