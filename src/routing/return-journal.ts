/**
 * While a node is ejected, the keys written or deleted on its behalf
 * elsewhere. Before the node returns, those keys are deleted from it (it may
 * hold their old values) and from the stand-ins (whose copies would go stale
 * the next time the node leaves). Past `limit` keys a node's journal stops
 * growing and the node is flushed instead.
 */
export interface JournalEntries {
  /** Key -> the stand-in nodes it was written to or deleted on. */
  readonly keys: Map<string, Set<string>>;
  /**
   * Keys written past the replica writes, which keep warm-up's stand-in
   * copies in step (namespace version counters): their stand-in copies are
   * deleted at the return even with warm-up.
   */
  readonly unwarmable: Set<string>;
  readonly overflowed: boolean;
}

export class ReturnJournal {
  readonly #limit: number;
  readonly #byNode = new Map<string, { keys: Map<string, Set<string>>; unwarmable: Set<string>; overflowed: boolean }>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Starts recording for a node that has just been ejected. */
  open(node: string): void {
    if (!this.#byNode.has(node)) this.#byNode.set(node, empty());
  }

  /**
   * Notes that `key` must be deleted from the out `node` before it returns:
   * it was written or deleted on `standIn` on the node's behalf, or (no
   * `standIn`) the node itself holds a stand-in copy of it that went stale
   * while it was out.
   * @param warmable false for a write that warm-up's stand-in copies would not follow (see `unwarmable`).
   */
  record(node: string, key: string, standIn?: string, warmable = true): void {
    const journal = this.#byNode.get(node);
    if (!journal) return;
    const standIns = journal.keys.get(key);
    if (standIns) {
      if (standIn !== undefined) standIns.add(standIn);
    } else if (journal.keys.size < this.#limit) {
      journal.keys.set(key, new Set(standIn === undefined ? [] : [standIn]));
    } else {
      journal.overflowed = true;
      return;
    }
    if (!warmable) journal.unwarmable.add(key);
  }

  /**
   * Makes the node's return flush it, as an overflowing journal does: for a
   * clear or an invalidation it missed while out. False when `node` is not out.
   */
  overflow(node: string): boolean {
    const journal = this.#byNode.get(node);
    if (!journal) return false;
    journal.overflowed = true;
    return true;
  }

  /**
   * Puts back what `take` handed out when the clean-up that used it failed:
   * the node may still hold those keys' old values, so they must be cleaned
   * before it returns. Merged with whatever was recorded meanwhile.
   */
  restore(node: string, entries: JournalEntries): void {
    const journal = this.#byNode.get(node);
    if (!journal) return;
    journal.overflowed ||= entries.overflowed;
    for (const [key, standIns] of entries.keys) {
      const warmable = !entries.unwarmable.has(key);
      this.record(node, key, undefined, warmable);
      for (const standIn of standIns) this.record(node, key, standIn, warmable);
    }
  }

  /** Everything recorded for `node` so far, leaving its journal open and empty. */
  take(node: string): JournalEntries {
    const journal = this.#byNode.get(node) ?? empty();
    this.#byNode.set(node, empty());
    return journal;
  }

  isEmpty(node: string): boolean {
    const journal = this.#byNode.get(node);
    return !journal || (journal.keys.size === 0 && !journal.overflowed);
  }

  /** Stops recording for a node that is back on the ring. */
  close(node: string): void {
    this.#byNode.delete(node);
  }
}

function empty(): { keys: Map<string, Set<string>>; unwarmable: Set<string>; overflowed: boolean } {
  return { keys: new Map(), unwarmable: new Set(), overflowed: false };
}
