/**
 * Bookkeeping for the fuzz run: how many generated cases each property ran
 * (shrinking runs included), how its calls ended, and every error code seen,
 * written to `.tmp/fuzz-summary.json` for the closing report.
 *
 * Test files run in separate workers, so each file writes its own part
 * (`.tmp/fuzz/<file>.json`) and then, under a lock directory (mkdir is
 * atomic), rebuilds the summary from every part. A part whose test file no
 * longer exists is left out.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardcacheError } from '../../../src/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PARTS = join(ROOT, '.tmp', 'fuzz');
export const SUMMARY_PATH = join(ROOT, '.tmp', 'fuzz-summary.json');
const LOCK = join(ROOT, '.tmp', 'fuzz-summary.lock');
const LOCK_TRIES = 100;
const LOCK_WAIT_MS = 20;

/**
 * The seed every property uses: fixed, so a failure reproduces on the next
 * run; `FUZZ_SEED=<n>` replays another seed, `FUZZ_SEED=random` explores.
 * fast-check prints the seed and path of any failure either way.
 */
export const SEED: number | undefined = seedFromEnv(process.env['FUZZ_SEED']);
/** `FUZZ_RUNS=<factor>` multiplies every property's numRuns for a longer local hunt. */
const RUNS_FACTOR = Math.max(0.1, Number(process.env['FUZZ_RUNS'] ?? 1) || 1);

function seedFromEnv(raw: string | undefined): number | undefined {
  if (raw === 'random') return undefined;
  if (raw !== undefined && raw !== '' && Number.isInteger(Number(raw))) return Number(raw);
  return 20_260_510;
}

interface PropertyTally {
  cases: number;
  resolved: number;
  rejected: number;
  /** ShardcacheError code -> rejections. */
  codes: Record<string, number>;
  /**
   * Rejections that were not ShardcacheErrors, by error name: only a
   * loader's own error, which getOrLoad/mgetOrLoad pass through unchanged
   * (the properties check it is the very object the loader threw).
   */
  passedThrough: Record<string, number>;
}

export class FuzzLog {
  readonly #file: string;
  readonly #properties = new Map<string, PropertyTally>();

  /** `file`: the test file's name, e.g. `operations.test.ts`. */
  constructor(file: string) {
    this.#file = file;
  }

  /** fast-check parameters for one property: the shared seed and `numRuns` (scaled by FUZZ_RUNS). */
  params(numRuns: number): { numRuns: number; seed?: number } {
    const runs = Math.max(1, Math.round(numRuns * RUNS_FACTOR));
    return SEED === undefined ? { numRuns: runs } : { numRuns: runs, seed: SEED };
  }

  /** Counts one generated case of `property`. */
  case(property: string): void {
    this.#tally(property).cases++;
  }

  /** Records a call that resolved. */
  resolved(property: string): void {
    this.#tally(property).resolved++;
  }

  /** Records a call that rejected (or threw), by code. */
  rejected(property: string, error: unknown): void {
    const tally = this.#tally(property);
    tally.rejected++;
    if (error instanceof ShardcacheError) tally.codes[error.code] = (tally.codes[error.code] ?? 0) + 1;
    else {
      const name = error instanceof Error ? error.name : typeof error;
      tally.passedThrough[name] = (tally.passedThrough[name] ?? 0) + 1;
    }
  }

  /** Settles `call` (a promise or a function that may throw synchronously), records it, and reports the result. */
  async settle<T>(property: string, call: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    try {
      const value = await call();
      this.resolved(property);
      return { ok: true, value };
    } catch (error) {
      this.rejected(property, error);
      return { ok: false, error };
    }
  }

  /** Writes this file's part and rebuilds the summary. */
  write(): void {
    mkdirSync(PARTS, { recursive: true });
    const part = { file: this.#file, finishedAt: new Date().toISOString(), seed: SEED ?? 'random', properties: Object.fromEntries(this.#properties) };
    writeAtomically(join(PARTS, `${this.#file}.json`), JSON.stringify(part, null, 2));
    withLock(() => writeAtomically(SUMMARY_PATH, JSON.stringify(summarize(), null, 2)));
  }

  #tally(property: string): PropertyTally {
    let tally = this.#properties.get(property);
    if (tally === undefined) {
      tally = { cases: 0, resolved: 0, rejected: 0, codes: {}, passedThrough: {} };
      this.#properties.set(property, tally);
    }
    return tally;
  }
}

interface Part {
  file: string;
  finishedAt: string;
  seed: number | 'random';
  properties: Record<string, PropertyTally>;
}

function summarize(): unknown {
  const here = dirname(fileURLToPath(import.meta.url));
  const parts = readdirSync(PARTS)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(PARTS, name), 'utf8')) as Part)
    .filter((part) => existsSync(join(here, '..', part.file)))
    .sort((a, b) => a.file.localeCompare(b.file));
  const casesPerProperty: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const passedThrough: Record<string, number> = {};
  let totalCases = 0;
  let totalCalls = 0;
  for (const part of parts) {
    for (const [name, tally] of Object.entries(part.properties)) {
      casesPerProperty[`${part.file} > ${name}`] = tally.cases;
      totalCases += tally.cases;
      totalCalls += tally.resolved + tally.rejected;
      for (const [code, count] of Object.entries(tally.codes)) codes[code] = (codes[code] ?? 0) + count;
      for (const [name, count] of Object.entries(tally.passedThrough ?? {})) passedThrough[name] = (passedThrough[name] ?? 0) + count;
    }
  }
  return {
    generatedAt: new Date().toISOString(),
    files: parts.map((part) => ({ file: part.file, finishedAt: part.finishedAt, seed: part.seed })),
    note: 'cases: generated inputs each property ran (shrinking runs included); calls: cache calls made with them',
    totalCases,
    totalCalls,
    distinctCodes: Object.keys(codes).sort(),
    rejectionsByCode: codes,
    loaderErrorsPassedThrough: passedThrough,
    casesPerProperty,
    properties: Object.fromEntries(parts.flatMap((part) => Object.entries(part.properties).map(([name, tally]) => [`${part.file} > ${name}`, tally]))),
  };
}

function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Runs `work` holding the lock directory; bounded: after ~2 s it proceeds anyway (a crashed writer left the lock). */
function withLock(work: () => void): void {
  let held = false;
  for (let attempt = 0; attempt < LOCK_TRIES && !held; attempt++) {
    try {
      mkdirSync(LOCK);
      held = true;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOCK_WAIT_MS);
    }
  }
  try {
    work();
  } finally {
    if (held) rmdirSync(LOCK);
  }
}
