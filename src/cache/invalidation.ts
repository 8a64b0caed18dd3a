/**
 * Cache-wide administration: delete the keys matching a pattern on every
 * node, or clear every node.
 *
 * - Redis: SCAN MATCH (never KEYS, which blocks a server for its whole
 *   keyspace) in pages of about `count` keys, each page's matches UNLINKed,
 *   until the cursor returns to 0; nodes in parallel, pages in sequence.
 *   In-process nodes match the same glob syntax. Memcached cannot list its
 *   keys: pattern invalidation there is an `UnsupportedOperationError`, and
 *   namespaces (cache.namespace) are the way to drop a group of keys.
 * - Clear: FLUSHDB / flush_all / dropping the in-process map.
 * - A node that is out of the ring (ejected or being probed) is not asked:
 *   it is flushed before it returns, so nothing it holds survives the
 *   operation. A node that fails mid-way is treated the same way if it is out
 *   by then; otherwise the call rejects with a `WriteFailedError` naming it,
 *   after every other node is done.
 * - Not a snapshot: a key written while the scan is running may survive it.
 */
import { describe } from '../config/node-spec.js';
import { InvalidArgumentError, UnsupportedOperationError, WriteFailedError } from '../errors.js';
import type { NodeMembership } from '../routing/membership.js';
import type { CacheNode } from '../node/node.js';

export interface InvalidateOptions {
  /** Keys each SCAN page looks at (Redis `COUNT`). @default 1000 */
  count?: number;
}

export interface NodeAdminOutcome {
  readonly node: string;
  /** `done`: the node was cleaned now. `flush-on-return`: it is out of the ring and will be flushed before it returns. */
  readonly status: 'done' | 'flush-on-return';
  /** Keys deleted on this node by an invalidation (not reported by a clear, nor for a node flushed on return). */
  readonly deleted?: number;
}

export interface AdminResult {
  /** Keys deleted, over the nodes that were done now. */
  readonly deleted: number;
  readonly nodes: NodeAdminOutcome[];
}

const DEFAULT_SCAN_COUNT = 1000;
const MAX_SCAN_COUNT = 100_000;
const MAX_PATTERN_LENGTH = 1024;

/**
 * Deletes the keys that match `pattern` (Redis glob syntax) on every node.
 * @throws {UnsupportedOperationError} on memcached; nothing is sent.
 * @throws {WriteFailedError} naming the nodes that failed; the others are done.
 */
export function invalidateMatching(membership: NodeMembership, pattern: string, options: InvalidateOptions | undefined, adminMs: number): Promise<AdminResult> {
  // A lone surrogate reaches the server as U+FFFD (keys cannot hold one), so such a pattern would delete keys the caller never named.
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH || !pattern.isWellFormed()) {
    throw new InvalidArgumentError(`invalidate takes a non-empty glob pattern of well-formed Unicode, at most ${MAX_PATTERN_LENGTH} characters, such as 'user:*'; got ${describe(pattern)}`);
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError(`invalidate options must be an object such as { count: 1000 }, got ${describe(options)}`);
  }
  const count = options?.count ?? DEFAULT_SCAN_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SCAN_COUNT) {
    throw new InvalidArgumentError(`invalidate count must be a whole number from 1 to ${MAX_SCAN_COUNT}, got ${describe(count)}`);
  }
  if (membership.nodes.some((node) => node.backend.scanDelete === undefined)) {
    throw new UnsupportedOperationError(
      'memcached cannot list its keys, so it cannot invalidate by pattern: keep such keys in a namespace (cache.namespace(name)) and call cache.invalidateNamespace(name)',
    );
  }
  return onEveryNode(membership, 'invalidate', async (node) => {
    let cursor = '0';
    let deleted = 0;
    // SCAN guarantees the cursor comes back to 0 after one full pass.
    do {
      const page = await node.call('scanDelete', adminMs, (backend) => backend.scanDelete!(cursor, pattern, count));
      cursor = page.cursor;
      deleted += page.deleted;
    } while (cursor !== '0');
    return deleted;
  });
}

/**
 * Drops every entry on every node.
 * @throws {WriteFailedError} naming the nodes that failed; the others are cleared.
 */
export function clearAll(membership: NodeMembership, adminMs: number): Promise<AdminResult> {
  return onEveryNode(membership, 'clear', async (node) => {
    await node.call('flush', adminMs, (backend) => backend.flush());
    return undefined;
  });
}

async function onEveryNode(membership: NodeMembership, what: string, work: (node: CacheNode) => Promise<number | undefined>): Promise<AdminResult> {
  const outcomes = await Promise.all(
    membership.nodes.map(async (node): Promise<NodeAdminOutcome | { node: string; error: unknown }> => {
      if (membership.flushOnReturn(node)) return { node: node.address, status: 'flush-on-return' };
      try {
        const deleted = await work(node);
        return deleted === undefined ? { node: node.address, status: 'done' } : { node: node.address, status: 'done', deleted };
      } catch (error) {
        // Ejected while we were at it: its return will flush it.
        if (membership.flushOnReturn(node)) return { node: node.address, status: 'flush-on-return' };
        return { node: node.address, error };
      }
    }),
  );
  const failures = outcomes.filter((outcome) => 'error' in outcome);
  if (failures.length > 0) {
    throw new WriteFailedError(`${what} failed on ${failures.map((f) => f.node).join(', ')}; the other nodes are done`, {
      cause: new AggregateError(failures.map((f) => f.error)),
    });
  }
  const done = outcomes as NodeAdminOutcome[];
  return { deleted: done.reduce((total, outcome) => total + (outcome.deleted ?? 0), 0), nodes: done };
}
