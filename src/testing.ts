/**
 * `shardcache/testing`: failure drills on in-process nodes, for demos and for
 * applications' own tests of their fallback paths. Only `backend: 'memory'`
 * nodes can be paused; servers are paused for real (SIGSTOP).
 */
import { MemoryBackend } from './backends/memory.js';
import type { ShardedCache } from './cache/sharded-cache.js';
import { nodesOf } from './create-cache.js';
import { InvalidArgumentError } from './errors.js';

/**
 * Makes an in-process node hang: it accepts requests and answers none, as a
 * SIGSTOPped server would, until `resumeMemoryNode`.
 * @throws {InvalidArgumentError} when `address` is not an in-process node of `cache`.
 */
export function pauseMemoryNode(cache: ShardedCache, address: string): void {
  memoryNode(cache, address).pause();
}

/** Lets a paused in-process node answer again; it returns to the ring after its next probe. */
export function resumeMemoryNode(cache: ShardedCache, address: string): void {
  memoryNode(cache, address).resume();
}

function memoryNode(cache: ShardedCache, address: string): MemoryBackend {
  const backend = nodesOf(cache)?.find((node) => node.address === address)?.backend;
  if (!(backend instanceof MemoryBackend)) throw new InvalidArgumentError(`${address} is not an in-process (backend: 'memory') node of this cache`);
  return backend;
}
