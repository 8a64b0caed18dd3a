/**
 * Warm-up, after mcrouter's WarmUpRoute: for `durationMs` after nodes join
 * (`setNodes`) or one returns from ejection, a miss on a warming node is
 * read where the key lived before (another of its copies then: the previous
 * owner, or the next copy; for a node back from ejection, also the stand-in
 * that took the key's writes while it was out), answered with that value,
 * and added to the warming node (Redis `SET NX`, memcached `add`) with
 * `ttlSeconds`, so a newer value written meanwhile is never overwritten.
 *
 * What must stay true: a fill never puts back a value older than a write or
 * delete this process made. So a fill adds nothing when a write of its key
 * was in flight, or started, since the fill began (writes are tracked from
 * start to end while warm-up is configured, and remembered while a window
 * is open); a source is used only while serving and not marked stale for
 * the key; and while nodes took keys over (`setNodes`), writes and deletes
 * of those keys also delete them from the nodes that held them before
 * (`retireFrom`), so a source holds the value of the change or none; the
 * same goes for a returning node's stand-ins, whose copies are otherwise
 * deleted when the window ends (stand-in-release.ts).
 */
import type { CacheNode } from '../node/node.js';
import type { Ring } from '../ring/ring.js';
import type { StandInCopies } from './readmission.js';

export interface WarmupOptions {
  readonly durationMs: number;
  readonly copies: number;
  readonly now: () => number;
  /** Whether `node` may answer for `key`: serving, and not marked stale for it. */
  readonly usable: (node: CacheNode, key: string) => boolean;
}

interface Window {
  readonly nodes: ReadonlySet<CacheNode>;
  /** The placement the keys had before the change. */
  readonly previous: Ring<CacheNode>;
  readonly until: number;
  /** Keys moved between nodes (`setNodes`), not a node returning to its own keys. */
  readonly moved: boolean;
  /** A returning node's: the stand-ins holding copies written while it was out (entries leave as writes retire them). */
  readonly standIns: StandInCopies | undefined;
}

/** Past this many remembered writes, fills begun before now add nothing (bounds memory under heavy writes). */
const MAX_RECENT_WRITES = 100_000;

export class Warmup {
  readonly #options: WarmupOptions;
  #windows: Window[] = [];
  /** Writes in flight, by key. */
  readonly #inFlight = new Map<string, number>();
  /** Sequence number of the last write of each key that ended while a window was open. */
  readonly #recent = new Map<string, number>();
  #sequence = 0;
  /** Fills begun before this sequence add nothing. */
  #floor = 0;
  readonly #previousCopies: CacheNode[] = [];
  readonly #currentCopies: CacheNode[] = [];

  constructor(options: WarmupOptions) {
    this.#options = options;
  }

  /** Starts warming `nodes`, whose keys lived as `previous` places them (and, for a returning node, on `standIns`). */
  open(nodes: Iterable<CacheNode>, previous: Ring<CacheNode>, moved: boolean, standIns?: StandInCopies): void {
    this.#windows.unshift({ nodes: new Set(nodes), previous, until: this.#options.now() + this.#options.durationMs, moved, standIns });
  }

  /** Whether any node is warming; forgets windows that ended. */
  get active(): boolean {
    if (this.#windows.length === 0) return false;
    const now = this.#options.now();
    if (this.#windows.some((window) => window.until <= now)) this.#windows = this.#windows.filter((window) => window.until > now);
    if (this.#windows.length === 0) this.#recent.clear();
    return this.#windows.length > 0;
  }

  /** Where a miss of `key` on the warming `node` is read instead; undefined when nowhere (or `node` is not warming). */
  sourceFor(node: CacheNode, key: string): CacheNode | undefined {
    for (const window of this.#windows) {
      if (!window.nodes.has(node)) continue;
      const copies = this.#previousCopies;
      const count = window.previous.copiesOf(key, this.#options.copies, copies);
      for (let i = 0; i < count; i++) {
        const source = copies[i]!;
        if (source !== node && this.#options.usable(source, key)) return source;
      }
      for (const source of window.standIns?.get(key) ?? []) if (source !== node && this.#options.usable(source, key)) return source;
    }
    return undefined;
  }

  /**
   * The nodes that held `key` before a change that moved it away from them,
   * and the stand-ins still holding it for a returning node: writes and
   * deletes delete it there too (a stand-in's entry is handed over, once).
   */
  retireFrom(key: string, placement: Ring<CacheNode>): CacheNode[] | undefined {
    let retired: CacheNode[] | undefined;
    for (const window of this.#windows) {
      const holders = window.standIns?.get(key);
      if (holders !== undefined) {
        window.standIns!.delete(key);
        for (const node of holders) if (!(retired ??= []).includes(node)) retired.push(node);
      }
      if (!window.moved) continue;
      const before = this.#previousCopies;
      const beforeCount = window.previous.copiesOf(key, this.#options.copies, before);
      const now = this.#currentCopies;
      const nowCount = placement.copiesOf(key, this.#options.copies, now);
      for (let i = 0; i < beforeCount; i++) {
        const node = before[i]!;
        if (now.indexOf(node) !== -1 && now.indexOf(node) < nowCount) continue;
        if (!(retired ??= []).includes(node)) retired.push(node);
      }
    }
    return retired;
  }

  /** A write or delete of `key` starts. */
  writeStarted(key: string): void {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
  }

  /** A write or delete of `key` ended (either way). */
  writeEnded(key: string): void {
    const count = this.#inFlight.get(key) ?? 1;
    if (count <= 1) this.#inFlight.delete(key);
    else this.#inFlight.set(key, count - 1);
    if (this.#windows.length === 0) return;
    if (this.#recent.size >= MAX_RECENT_WRITES) {
      this.#recent.clear();
      this.#floor = ++this.#sequence;
    }
    this.#recent.set(key, ++this.#sequence);
  }

  /** Taken when a fill begins; `mayAdd` compares writes against it. */
  fillStarted(): number {
    return this.#sequence;
  }

  /** Whether a fill of `key` begun at `started` may add its value: no write of the key in flight or ended since. */
  mayAdd(key: string, started: number): boolean {
    return started >= this.#floor && !this.#inFlight.has(key) && (this.#recent.get(key) ?? 0) <= started;
  }
}
