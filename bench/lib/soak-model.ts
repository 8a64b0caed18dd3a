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
 * known, and that outcome: acknowledged, failed (in doubt: a rejected or
 * timed-out write may or may not have landed), or unknown (a getOrLoad
 * write-back, which the cache does not report).
 *
 * Superseded: write W is superseded at tick T when a write W2 that was
 * issued after W's outcome was known is acknowledged at T. From then on the
 * server that acknowledged W2 has applied W2 after W (or W never landed), so
 * W's value must never be read again: it is not the last acknowledged value,
 * nor an in-doubt write issued after it. A write still in flight is never
 * superseded (the server may apply it after a later one), and neither is one
 * whose outcome is known only after W2 was issued.
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
 * Superseded writes leave the live records `pruneAfterMs` after being
 * superseded, into a fixed ring of the last `graveyardSize` such records
 * (allocated full at the start, so memory stays flat) that only reports
 * use: a value superseded long ago is still wrong, and the ring can say
 * which write it was. A read slower than `pruneAfterMs` whose value is no
 * longer live is "unverifiable", not wrong.
 */

export type WriteKind = 'seed' | 'set' | 'del' | 'load';
export type Outcome = 'pending' | 'acked' | 'in-doubt' | 'unknown';

export interface WriteRecord {
  readonly key: string;
  readonly seq: number;
  readonly kind: WriteKind;
  /** The node the write was routed to (the owner on the ring when it was issued). */
  readonly node: string;
  readonly issued: number;
  readonly issuedMs: number;
  completed: number;
  completedMs: number;
  outcome: Outcome;
  /** Tick at which a later acknowledged write superseded this one; 0 while it has not. */
  superseded: number;
  supersededMs: number;
  supersededBy: WriteRecord | undefined;
}

export type Verdict =
  | { readonly kind: 'miss' }
  | { readonly kind: 'ok'; readonly write: WriteRecord }
  | { readonly kind: 'unverifiable' }
  | { readonly kind: 'wrong'; readonly reason: string; readonly write: WriteRecord | undefined };

function placeholder(seq: number): WriteRecord {
  return { key: '', seq, kind: 'set', node: '', issued: 0, issuedMs: 0, completed: 0, completedMs: 0, outcome: 'acked', superseded: 0, supersededMs: 0, supersededBy: undefined };
}

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

export class SoakModel {
  readonly #writes = new Map<string, WriteRecord[]>();
  readonly #pruneAfterMs: number;
  readonly #now: () => number;
  readonly #graveyard: WriteRecord[];
  #graveyardNext = 0;
  #tick = 0;
  #seq = 0;

  /** @param now milliseconds for the records (the soak passes time since its start). */
  constructor(pruneAfterMs: number, now: () => number, graveyardSize = 16_384) {
    this.#pruneAfterMs = pruneAfterMs;
    this.#now = now;
    this.#graveyard = Array.from({ length: graveyardSize }, (_, i) => placeholder(-1 - i));
  }

  /** A new logical tick: take one when a read starts. */
  tick(): number {
    return ++this.#tick;
  }

  /** Records a write about to be sent; its value is `soakValue(key, record.seq, tag)`. */
  issue(key: string, kind: WriteKind, node: string): WriteRecord {
    const record: WriteRecord = {
      key,
      seq: ++this.#seq,
      kind,
      node,
      issued: ++this.#tick,
      issuedMs: this.#now(),
      completed: 0,
      completedMs: 0,
      outcome: 'pending',
      superseded: 0,
      supersededMs: 0,
      supersededBy: undefined,
    };
    let list = this.#writes.get(key);
    if (!list) this.#writes.set(key, (list = []));
    list.push(record);
    return record;
  }

  /** The write was acknowledged: it supersedes every write whose outcome was known before it was issued. */
  acked(key: string, record: WriteRecord): void {
    this.#complete(record, 'acked');
    const now = this.#now();
    const list = this.#writes.get(key)!;
    for (const other of list) {
      if (other !== record && other.superseded === 0 && other.completed !== 0 && other.completed < record.issued) {
        other.superseded = record.completed;
        other.supersededMs = now;
        other.supersededBy = record;
      }
    }
    this.#prune(key, list, now);
  }

  /** The write rejected or timed out: it may or may not have landed. */
  inDoubt(record: WriteRecord): void {
    this.#complete(record, 'in-doubt');
  }

  /** A getOrLoad write-back: sent, outcome not reported. */
  unknown(record: WriteRecord): void {
    this.#complete(record, 'unknown');
  }

  /** Judges `value`, read for `key` by a read that started at tick `started`; `late`: the read took longer than records are kept. */
  judge(key: string, value: unknown, started: number, late: boolean): Verdict {
    if (value === undefined) return { kind: 'miss' };
    if (typeof value !== 'string') return { kind: 'wrong', reason: `not a soak value (${typeof value})`, write: undefined };
    const parts = value.split('|');
    if (parts.length < 4) return { kind: 'wrong', reason: 'not a soak value', write: undefined };
    if (parts[0] !== key) return { kind: 'wrong', reason: `value of another key (${parts[0]})`, write: undefined };
    const seq = Number(parts[1]);
    const write = this.#writes.get(key)?.find((w) => w.seq === seq);
    if (!write) {
      if (late) return { kind: 'unverifiable' };
      const gone = this.#graveyard.find((w) => w.seq === seq && w.key === key);
      return { kind: 'wrong', reason: gone ? `superseded more than ${this.#pruneAfterMs / 1000} s before the read` : 'a write the soak never issued (or forgotten long ago)', write: gone };
    }
    if (write.kind === 'del') return { kind: 'wrong', reason: 'a delete has no value', write };
    if (value !== soakValue(key, seq, parts[2]!)) return { kind: 'wrong', reason: 'corrupted value', write };
    if (write.issued > started) return { kind: 'ok', write };
    if (write.superseded !== 0 && write.superseded < started) return { kind: 'wrong', reason: 'superseded before the read started', write };
    return { kind: 'ok', write };
  }

  /** The writes a read that started at `started` could legitimately return (issued before it and not superseded by then), for reports. */
  acceptableAt(key: string, started: number): WriteRecord[] {
    return (this.#writes.get(key) ?? []).filter((w) => w.kind !== 'del' && w.issued < started && (w.superseded === 0 || w.superseded > started));
  }

  /** The writes issued for `key` from tick `from` on, for reports. */
  issuedSince(key: string, from: number): WriteRecord[] {
    return (this.#writes.get(key) ?? []).filter((w) => w.issued >= from);
  }

  /**
   * Forgets, for every key, the writes superseded more than `pruneAfterMs`
   * ago. Writes to a key prune its list too, but a cold key may not be
   * written again for minutes: without this sweep the model would grow
   * through the run, and its growth would read as the client's.
   */
  sweep(): void {
    const now = this.#now();
    for (const [key, list] of this.#writes) this.#prune(key, list, now, 2);
  }

  /** Records kept (for the report: the model's own memory must stay flat). */
  get size(): number {
    let total = 0;
    for (const list of this.#writes.values()) total += list.length;
    return total;
  }

  #complete(record: WriteRecord, outcome: Outcome): void {
    record.completed = ++this.#tick;
    record.completedMs = this.#now();
    record.outcome = outcome;
  }

  #prune(key: string, list: WriteRecord[], now: number, from = 4): void {
    if (list.length < from) return;
    const keep: WriteRecord[] = [];
    for (const w of list) {
      if (w.superseded === 0 || now - w.supersededMs <= this.#pruneAfterMs) {
        keep.push(w);
      } else {
        this.#graveyard[this.#graveyardNext] = w;
        this.#graveyardNext = (this.#graveyardNext + 1) % this.#graveyard.length;
      }
    }
    if (keep.length !== list.length) this.#writes.set(key, keep);
  }
}
