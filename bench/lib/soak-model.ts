/**
 * The soak's model of what a read may return: pure, no I/O, no timers.
 *
 * Every write carries a value unique to it (`key|seq|tag|...`), so a value
 * read names the one write that stored it. Time is a logical tick, bumped at
 * every event the soak observes (a write issued, a write's outcome known, a
 * read started); in one JavaScript thread ticks order events exactly as they
 * happened here.
 *
 * Per key the model keeps its recent writes (sets, deletes, getOrLoad
 * write-backs) with the tick each was issued, the tick its outcome became
 * known, and that outcome: acknowledged, in doubt (a rejected or timed-out
 * write may or may not have landed), or unknown (a getOrLoad write-back,
 * which the cache does not report).
 *
 * Superseded: write W is superseded at tick T when a write W2 that was
 * issued after W's outcome was known is acknowledged at T. From then on the
 * server that acknowledged W2 has applied W2 after W (or W never landed), so
 * W's value must never be read again: it is not the last acknowledged value,
 * nor an in-doubt write issued after it. A write still in flight is never
 * superseded (the server may apply it after a later one), and neither is one
 * whose outcome became known only after W2 was issued.
 *
 * A read that started at tick S may return:
 * - nothing (a miss is never wrong: restarted nodes lose data, failures are
 *   misses by contract, TTLs expire);
 * - the value of a write issued after S (it raced with the read);
 * - the value of a write issued before S and not superseded before S.
 * Anything else is WRONG: a superseded write, a value of another key, a
 * write the model never issued, or bytes that are not a soak value.
 *
 * getOrLoad's loader stands for the database: each call returns a new
 * unique value, recorded as a write issued when the loader runs (the cache
 * writes it back) whose outcome is unknown; it counts as complete once
 * getOrLoad has answered (the write-back is sent before that answer, on the
 * connection later writes to that node use). So the classic cache-aside
 * race (a slow write-back of an older database value landing after a newer
 * write) does not show as a wrong value: the soak checks the client, not
 * the cache-aside pattern.
 *
 * Memory: the soak measures the client's heap and RSS, so the model's own
 * size must not move. Records live in typed arrays allocated once (a pool
 * of `capacity` records, linked per key, and a ring of the last
 * `graveyardSize` forgotten ones that only reports read); no object is
 * allocated per write. Superseded writes are forgotten `pruneAfterMs` after
 * being superseded (by the key's next acknowledged write, and by `sweep()`
 * for keys nobody writes). A read slower than that whose value is no longer
 * live is "unverifiable", not wrong.
 */

export type WriteKind = 'seed' | 'set' | 'del' | 'load';
export type Outcome = 'pending' | 'acked' | 'in-doubt' | 'unknown';
/** A write, as the model's pool index. */
export type WriteHandle = number;

const KINDS: readonly WriteKind[] = ['seed', 'set', 'del', 'load'];
const OUTCOMES: readonly Outcome[] = ['pending', 'acked', 'in-doubt', 'unknown'];
const PENDING = 0;
const ACKED = 1;
const IN_DOUBT = 2;
const UNKNOWN = 3;
const DEL = 2;
const NONE = -1;

/** A write, materialized for a verdict or a report. */
export interface WriteInfo {
  readonly seq: number;
  readonly kind: WriteKind;
  /** The node the write was routed to (the owner on the ring when it was issued). */
  readonly node: string;
  readonly issued: number;
  readonly issuedMs: number;
  /** Tick its outcome became known; 0 while in flight. */
  readonly completed: number;
  readonly completedMs: number;
  readonly outcome: Outcome;
  /** Tick a later acknowledged write superseded it; 0 if none has. */
  readonly superseded: number;
  readonly supersededMs: number;
  readonly supersededBy: { readonly seq: number; readonly kind: WriteKind; readonly node: string; readonly issuedMs: number; readonly completedMs: number } | undefined;
}

export type Verdict =
  | { readonly kind: 'miss' }
  | { readonly kind: 'ok' }
  | { readonly kind: 'unverifiable' }
  | { readonly kind: 'wrong'; readonly reason: string; readonly write: WriteInfo | undefined };

const MISS: Verdict = { kind: 'miss' };
const OK: Verdict = { kind: 'ok' };
const UNVERIFIABLE: Verdict = { kind: 'unverifiable' };

export const VALUE_BYTES = 100;
const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3);

/** A value unique to one write: `key|seq|tag|` and filler up to 100 bytes. */
export function soakValue(key: string, seq: number, tag: string): string {
  const head = `${key}|${seq}|${tag}|`;
  return head.length >= VALUE_BYTES ? head : head + FILLER.slice(0, VALUE_BYTES - head.length);
}

/** The `key|seq|tag` head of a value, for reports. */
export function headOf(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value}) ${String(value).slice(0, 40)}`;
  const parts = value.split('|');
  return parts.length >= 3 ? parts.slice(0, 3).join('|') : value.slice(0, 60);
}

/** Columns of write records; `Pool` and the graveyard both use them. */
class Columns {
  readonly seq: Uint32Array;
  readonly key: Int32Array;
  readonly kind: Uint8Array;
  readonly node: Uint8Array;
  readonly outcome: Uint8Array;
  readonly issued: Uint32Array;
  readonly completed: Uint32Array;
  readonly superseded: Uint32Array;
  readonly issuedMs: Float32Array;
  readonly completedMs: Float32Array;
  readonly supersededMs: Float32Array;
  /** The superseding write, copied (its own record may be reused by then). */
  readonly bySeq: Uint32Array;
  readonly byKind: Uint8Array;
  readonly byNode: Uint8Array;
  readonly byIssuedMs: Float32Array;
  readonly byCompletedMs: Float32Array;

  constructor(size: number) {
    this.seq = new Uint32Array(size);
    this.key = new Int32Array(size).fill(NONE);
    this.kind = new Uint8Array(size);
    this.node = new Uint8Array(size);
    this.outcome = new Uint8Array(size);
    this.issued = new Uint32Array(size);
    this.completed = new Uint32Array(size);
    this.superseded = new Uint32Array(size);
    this.issuedMs = new Float32Array(size);
    this.completedMs = new Float32Array(size);
    this.supersededMs = new Float32Array(size);
    this.bySeq = new Uint32Array(size);
    this.byKind = new Uint8Array(size);
    this.byNode = new Uint8Array(size);
    this.byIssuedMs = new Float32Array(size);
    this.byCompletedMs = new Float32Array(size);
  }

  copy(from: number, to: Columns, at: number): void {
    to.seq[at] = this.seq[from]!;
    to.key[at] = this.key[from]!;
    to.kind[at] = this.kind[from]!;
    to.node[at] = this.node[from]!;
    to.outcome[at] = this.outcome[from]!;
    to.issued[at] = this.issued[from]!;
    to.completed[at] = this.completed[from]!;
    to.superseded[at] = this.superseded[from]!;
    to.issuedMs[at] = this.issuedMs[from]!;
    to.completedMs[at] = this.completedMs[from]!;
    to.supersededMs[at] = this.supersededMs[from]!;
    to.bySeq[at] = this.bySeq[from]!;
    to.byKind[at] = this.byKind[from]!;
    to.byNode[at] = this.byNode[from]!;
    to.byIssuedMs[at] = this.byIssuedMs[from]!;
    to.byCompletedMs[at] = this.byCompletedMs[from]!;
  }
}

export interface SoakModelOptions {
  /** Keys are `<prefix><index>` with index from 0 to keyCount - 1. */
  readonly keyPrefix: string;
  readonly keyCount: number;
  /** Live records at most (the soak fails loudly past it). @default 131072 */
  readonly capacity?: number;
  /** Forgotten records kept for reports. @default 16384 */
  readonly graveyardSize?: number;
  readonly pruneAfterMs: number;
  /** Milliseconds for the records (the soak passes time since its start). */
  readonly now: () => number;
}

export class SoakModel {
  readonly #prefix: string;
  readonly #pruneAfterMs: number;
  readonly #now: () => number;
  readonly #pool: Columns;
  /** Per record: the next record of the same key (older to newer), or NONE. */
  readonly #next: Int32Array;
  /** Per key: its oldest and newest live records, or NONE. */
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  /** Free records, as a stack. */
  readonly #free: Int32Array;
  #freeCount: number;
  readonly #graveyard: Columns;
  #graveyardNext = 0;
  readonly #nodes: string[] = [];
  readonly #nodeIndex = new Map<string, number>();
  #tick = 0;
  #seq = 0;

  constructor(options: SoakModelOptions) {
    const capacity = options.capacity ?? 131_072;
    this.#prefix = options.keyPrefix;
    this.#pruneAfterMs = options.pruneAfterMs;
    this.#now = options.now;
    this.#pool = new Columns(capacity);
    this.#next = new Int32Array(capacity).fill(NONE);
    this.#head = new Int32Array(options.keyCount).fill(NONE);
    this.#tail = new Int32Array(options.keyCount).fill(NONE);
    this.#free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeCount = capacity;
    this.#graveyard = new Columns(options.graveyardSize ?? 16_384);
  }

  /** A new logical tick: take one when a read starts. */
  tick(): number {
    return ++this.#tick;
  }

  /** Records a write about to be sent; its value is `soakValue(key, this.seq(handle), tag)`. */
  issue(key: string, kind: WriteKind, node: string): WriteHandle {
    if (this.#freeCount === 0) throw new Error(`the soak model holds ${this.#pool.seq.length} live writes, its capacity`);
    const r = this.#free[--this.#freeCount]!;
    const k = this.#keyIndex(key);
    const pool = this.#pool;
    pool.seq[r] = ++this.#seq;
    pool.key[r] = k;
    pool.kind[r] = KINDS.indexOf(kind);
    pool.node[r] = this.#nodeOf(node);
    pool.outcome[r] = PENDING;
    pool.issued[r] = ++this.#tick;
    pool.issuedMs[r] = this.#now();
    pool.completed[r] = 0;
    pool.superseded[r] = 0;
    this.#next[r] = NONE;
    if (this.#tail[k] === NONE) this.#head[k] = r;
    else this.#next[this.#tail[k]!] = r;
    this.#tail[k] = r;
    return r;
  }

  seq(write: WriteHandle): number {
    return this.#pool.seq[write]!;
  }

  /** The write was acknowledged: it supersedes every write of its key whose outcome was known before it was issued. */
  acked(write: WriteHandle): void {
    this.#complete(write, ACKED);
    const pool = this.#pool;
    const now = this.#now();
    const issued = pool.issued[write]!;
    for (let r = this.#head[pool.key[write]!]!; r !== NONE; r = this.#next[r]!) {
      if (r !== write && pool.superseded[r] === 0 && pool.completed[r] !== 0 && pool.completed[r]! < issued) {
        pool.superseded[r] = pool.completed[write]!;
        pool.supersededMs[r] = now;
        pool.bySeq[r] = pool.seq[write]!;
        pool.byKind[r] = pool.kind[write]!;
        pool.byNode[r] = pool.node[write]!;
        pool.byIssuedMs[r] = pool.issuedMs[write]!;
        pool.byCompletedMs[r] = pool.completedMs[write]!;
      }
    }
    this.#prune(pool.key[write]!, now);
  }

  /** The write rejected or timed out: it may or may not have landed. */
  inDoubt(write: WriteHandle): void {
    this.#complete(write, IN_DOUBT);
  }

  /** A getOrLoad write-back: sent, outcome not reported. */
  unknown(write: WriteHandle): void {
    this.#complete(write, UNKNOWN);
  }

  /** Judges `value`, read for `key` by a read that started at tick `started`; `late`: the read took longer than records are kept. */
  judge(key: string, value: unknown, started: number, late: boolean): Verdict {
    if (value === undefined) return MISS;
    if (typeof value !== 'string') return { kind: 'wrong', reason: `not a soak value (${typeof value})`, write: undefined };
    const first = value.indexOf('|');
    const second = first === -1 ? -1 : value.indexOf('|', first + 1);
    const third = second === -1 ? -1 : value.indexOf('|', second + 1);
    if (third === -1) return { kind: 'wrong', reason: 'not a soak value', write: undefined };
    if (value.slice(0, first) !== key) return { kind: 'wrong', reason: `value of another key (${value.slice(0, first)})`, write: undefined };
    const seq = Number(value.slice(first + 1, second));
    const pool = this.#pool;
    let r = this.#head[this.#keyIndex(key)]!;
    while (r !== NONE && pool.seq[r] !== seq) r = this.#next[r]!;
    if (r === NONE) {
      if (late) return UNVERIFIABLE;
      const gone = this.#findForgotten(key, seq);
      return { kind: 'wrong', reason: gone ? `superseded more than ${this.#pruneAfterMs / 1000} s before the read` : 'a write the soak never issued (or forgotten long ago)', write: gone };
    }
    if (pool.kind[r] === DEL) return { kind: 'wrong', reason: 'a delete has no value', write: this.#info(pool, r) };
    if (value !== soakValue(key, seq, value.slice(second + 1, third))) return { kind: 'wrong', reason: 'corrupted value', write: this.#info(pool, r) };
    if (pool.issued[r]! > started) return OK;
    if (pool.superseded[r] !== 0 && pool.superseded[r]! < started) return { kind: 'wrong', reason: 'superseded before the read started', write: this.#info(pool, r) };
    return OK;
  }

  /** The writes a read that started at `started` could legitimately return (issued before it and not superseded by then), for reports. */
  acceptableAt(key: string, started: number): WriteInfo[] {
    const pool = this.#pool;
    const out: WriteInfo[] = [];
    for (let r = this.#head[this.#keyIndex(key)]!; r !== NONE; r = this.#next[r]!) {
      if (pool.kind[r] !== DEL && pool.issued[r]! < started && (pool.superseded[r] === 0 || pool.superseded[r]! > started)) out.push(this.#info(pool, r));
    }
    return out;
  }

  /** The writes issued for `key` from tick `from` on, for reports. */
  issuedSince(key: string, from: number): WriteInfo[] {
    const pool = this.#pool;
    const out: WriteInfo[] = [];
    for (let r = this.#head[this.#keyIndex(key)]!; r !== NONE; r = this.#next[r]!) if (pool.issued[r]! >= from) out.push(this.#info(pool, r));
    return out;
  }

  /**
   * Forgets, for every key, the writes superseded more than `pruneAfterMs`
   * ago. A key's own writes prune its list too, but a cold key may not be
   * written again for minutes.
   */
  sweep(): void {
    const now = this.#now();
    for (let k = 0; k < this.#head.length; k++) if (this.#head[k] !== NONE) this.#prune(k, now);
  }

  /** Live records (for the report). */
  get size(): number {
    return this.#pool.seq.length - this.#freeCount;
  }

  #complete(write: WriteHandle, outcome: number): void {
    this.#pool.completed[write] = ++this.#tick;
    this.#pool.completedMs[write] = this.#now();
    this.#pool.outcome[write] = outcome;
  }

  /** Unlinks the key's writes superseded more than pruneAfterMs ago, into the graveyard. */
  #prune(k: number, now: number): void {
    const pool = this.#pool;
    let previous = NONE;
    let r = this.#head[k]!;
    while (r !== NONE) {
      const next = this.#next[r]!;
      if (pool.superseded[r] !== 0 && now - pool.supersededMs[r]! > this.#pruneAfterMs) {
        if (previous === NONE) this.#head[k] = next;
        else this.#next[previous] = next;
        if (this.#tail[k] === r) this.#tail[k] = previous;
        pool.copy(r, this.#graveyard, this.#graveyardNext);
        this.#graveyardNext = (this.#graveyardNext + 1) % this.#graveyard.seq.length;
        pool.key[r] = NONE;
        this.#next[r] = NONE;
        this.#free[this.#freeCount++] = r;
      } else {
        previous = r;
      }
      r = next;
    }
  }

  #findForgotten(key: string, seq: number): WriteInfo | undefined {
    const graveyard = this.#graveyard;
    const k = this.#keyIndex(key);
    for (let i = 0; i < graveyard.seq.length; i++) if (graveyard.seq[i] === seq && graveyard.key[i] === k) return this.#info(graveyard, i);
    return undefined;
  }

  #info(columns: Columns, r: number): WriteInfo {
    return {
      seq: columns.seq[r]!,
      kind: KINDS[columns.kind[r]!]!,
      node: this.#nodes[columns.node[r]!]!,
      issued: columns.issued[r]!,
      issuedMs: columns.issuedMs[r]!,
      completed: columns.completed[r]!,
      completedMs: columns.completedMs[r]!,
      outcome: OUTCOMES[columns.outcome[r]!]!,
      superseded: columns.superseded[r]!,
      supersededMs: columns.supersededMs[r]!,
      supersededBy:
        columns.superseded[r] === 0
          ? undefined
          : { seq: columns.bySeq[r]!, kind: KINDS[columns.byKind[r]!]!, node: this.#nodes[columns.byNode[r]!]!, issuedMs: columns.byIssuedMs[r]!, completedMs: columns.byCompletedMs[r]! },
    };
  }

  #keyIndex(key: string): number {
    const index = Number(key.slice(this.#prefix.length));
    if (!key.startsWith(this.#prefix) || !Number.isInteger(index) || index < 0 || index >= this.#head.length) throw new Error(`not a key of this model: ${key}`);
    return index;
  }

  #nodeOf(node: string): number {
    let index = this.#nodeIndex.get(node);
    if (index === undefined) {
      if (this.#nodes.length === 255) throw new Error('the soak model names at most 255 nodes');
      this.#nodeIndex.set(node, (index = this.#nodes.length));
      this.#nodes.push(node);
    }
    return index;
  }
}
