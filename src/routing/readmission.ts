/**
 * The clean-up before an ejected node returns to the ring. While it was out,
 * writes and deletes of its keys landed on stand-ins and were journaled
 * (return-journal.ts). Before it returns:
 *
 * - the journaled keys are deleted from it (it may hold values overwritten
 *   or deleted meanwhile); a journal past its limit flushes it instead;
 * - the stand-ins' copies of those keys are deleted too (they would be
 *   served, stale, the next time the node is out), or, with warm-up, handed
 *   over with the return (`keepStandIns`): they are the values a miss on the
 *   returning node warms from, and warm-up deletes them when its window ends
 *   (stand-in-release.ts). A stand-in that is out itself gets the keys in
 *   its own journal, deleted before it returns.
 *
 * What must stay true: the node returns only once all of that succeeded; a
 * failed clean-up keeps it out with its journal whole (the stand-ins kept so
 * far included), for the next probe. `commit` runs in the same tick as the
 * last check that nothing new was journaled, so no write slips between the
 * clean-up and the return.
 */
import { debug, describeError } from '../debug.js';
import { withDeadline } from '../node/deadline.js';
import type { CacheNode } from '../node/node.js';
import type { JournalEntries, ReturnJournal } from './return-journal.js';

/** Journal rounds before giving up on a readmission under heavy writes (the next probe tries again). */
const MAX_CLEANUP_ROUNDS = 5;

/** Key -> the stand-ins on the ring holding the copy written while its owner was out. */
export type StandInCopies = Map<string, CacheNode[]>;

export interface ReadmissionContext {
  readonly journal: ReturnJournal;
  readonly probeTimeoutMs: number;
  /** Hand stand-in copies over with the return (warm-up) instead of deleting them. */
  readonly keepStandIns: boolean;
  isEjected(address: string): boolean;
  /** The pool's node at `address` now; undefined once it left (setNodes). */
  member(address: string): CacheNode | undefined;
}

export interface Readmitted {
  readonly invalidatedKeys: number;
  readonly flushed: boolean;
}

/**
 * Cleans up after `node`'s absence, then calls `commit` in the same tick as the final check.
 * @throws when a clean-up request fails, writes keep arriving, or the node left the pool; the journal is kept whole.
 */
export async function cleanUpForReturn(node: CacheNode, context: ReadmissionContext, commit: (standIns: StandInCopies) => void): Promise<Readmitted> {
  const { journal } = context;
  const kept: StandInCopies = new Map();
  let invalidatedKeys = 0;
  let flushed = false;
  for (let round = 0; round < MAX_CLEANUP_ROUNDS && !journal.isEmpty(node.address); round++) {
    const entries = journal.take(node.address);
    try {
      if (entries.overflowed) {
        await withDeadline(node.backend.flush(), context.probeTimeoutMs, node.address, 'flush');
      } else {
        await withDeadline(node.backend.delMany([...entries.keys.keys()]), context.probeTimeoutMs, node.address, 'delMany');
      }
      await cleanStandIns(node.address, entries, context, kept);
    } catch (error) {
      // The node (or a stand-in) may still hold the old values of these
      // keys: they stay journaled, and the next probe cleans them before
      // the node returns.
      journal.restore(node.address, entries);
      restoreKept(journal, node.address, kept);
      node.stats.cleanupFailures++;
      debug('clean-up before %s returns failed (%s); it stays out with its journal', node.address, describeError(error));
      throw error;
    }
    flushed ||= entries.overflowed;
    invalidatedKeys += entries.keys.size;
  }
  // No await from here on: the check and the return happen in one tick.
  if (!journal.isEmpty(node.address) || context.member(node.address) !== node) {
    restoreKept(journal, node.address, kept);
    throw new Error(context.member(node.address) === node ? `writes kept arriving for ${node.address} during its clean-up` : `${node.address} left the pool`);
  }
  commit(kept);
  return { invalidatedKeys, flushed };
}

/**
 * Deletes (or, keeping, collects into `kept`) the copies that stand-ins took
 * while `owner` was out. A stand-in that is out itself has them journaled
 * instead. Rejects when a stand-in on the ring fails.
 */
async function cleanStandIns(owner: string, entries: JournalEntries, context: ReadmissionContext, kept: StandInCopies): Promise<void> {
  const byStandIn = new Map<CacheNode, string[]>();
  for (const [key, standIns] of entries.keys) {
    const keep = context.keepStandIns && !entries.unwarmable.has(key);
    for (const standIn of standIns) {
      if (context.isEjected(standIn)) {
        context.journal.record(standIn, key);
        continue;
      }
      const node = context.member(standIn);
      // A stand-in that left the pool is closed: nothing of it can be read again.
      if (node === undefined) continue;
      if (keep) {
        const holders = kept.get(key);
        if (holders === undefined) kept.set(key, [node]);
        else if (!holders.includes(node)) holders.push(node);
        continue;
      }
      const list = byStandIn.get(node);
      if (list === undefined) byStandIn.set(node, [key]);
      else list.push(key);
    }
  }
  await Promise.all(
    [...byStandIn].map(([node, list]) =>
      node.call('delMany', context.probeTimeoutMs, (backend) => backend.delMany(list)).catch((error: unknown) => {
        debug('clean-up of stand-in %s before %s returns failed (%s)', node.address, owner, describeError(error));
        throw error;
      }),
    ),
  );
}

/** The node stays out: the stand-ins' copies kept so far are journaled again, for the next return. */
function restoreKept(journal: ReturnJournal, owner: string, kept: StandInCopies): void {
  for (const [key, holders] of kept) for (const holder of holders) journal.record(owner, key, holder.address);
  kept.clear();
}
