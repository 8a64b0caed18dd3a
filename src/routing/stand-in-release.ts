/**
 * The stand-ins' copies a returning node's warm-up reads from, deleted when
 * its window ends. Without warm-up the return journal deletes them before
 * the node returns (readmission.ts); with it they are kept for `durationMs`
 * so a miss on the returning node is answered from them and added to it,
 * instead of falling to the loader.
 *
 * What must stay true: a stand-in's copy is never served stale. While the
 * window is open, a write or delete of such a key deletes the stand-in's
 * copy with it (`Warmup.retireFrom`). When it ends, what is left is deleted
 * here; a stand-in that is out or fails is marked stale for those keys
 * (StaleCopies: never read for them until a repair or a later write), so
 * the next time the node is out its keys cannot read an older value there.
 */
import { debug, describeError } from '../debug.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import type { StandInCopies } from './readmission.js';
import type { StaleCopies } from './stale-copies.js';

export interface StandInReleaseOptions {
  /** How long the copies are kept: the warm-up window. */
  readonly durationMs: number;
  /** Deadline of one delete request. */
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly stale: StaleCopies;
  /** Whether a node is on the serving ring and up (a delete can reach it). */
  readonly isServing: (node: CacheNode) => boolean;
  /** Whether a node is still in the pool (one that left is closed: nothing of it is read again). */
  readonly isMember: (node: CacheNode) => boolean;
}

export class StandInRelease {
  readonly #options: StandInReleaseOptions;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: StandInReleaseOptions) {
    this.#options = options;
  }

  /** Keeps `copies` (shared with the warm-up window, which drops the keys writes retire) until the window ends. */
  hold(copies: StandInCopies): void {
    if (copies.size === 0) return;
    const timer = this.#options.clock.setTimeout(() => {
      this.#timers.delete(timer);
      void this.release(copies);
    }, this.#options.durationMs);
    this.#timers.add(timer);
  }

  /** Deletes what is left of `copies` from their stand-ins now; empties it at once, so warm-up reads them no more. */
  async release(copies: StandInCopies): Promise<void> {
    const { stale, isServing, isMember, deadlineMs } = this.#options;
    const sequence = stale.nextSequence();
    const byNode = new Map<CacheNode, string[]>();
    for (const [key, holders] of copies) {
      for (const node of holders) {
        const list = byNode.get(node);
        if (list === undefined) byNode.set(node, [key]);
        else list.push(key);
      }
    }
    copies.clear();
    await Promise.all(
      [...byNode]
        .filter(([node]) => isMember(node))
        .map(async ([node, keys]) => {
          if (isServing(node)) {
            try {
              await node.call('delMany', deadlineMs, (backend) => backend.delMany(keys));
              return;
            } catch (error) {
              debug('deleting %d stand-in cop(ies) from %s after warm-up failed (%s); marked stale', keys.length, node.address, describeError(error));
            }
          }
          for (const key of keys) stale.mark(node, key, sequence);
        }),
    );
  }

  close(): void {
    for (const timer of this.#timers) this.#options.clock.clearTimeout(timer);
    this.#timers.clear();
  }
}
