/** A cache in a child process (cache-worker.mjs), for tests about what several processes see. Every wait is bounded. */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CacheStats, ShardcacheOptions } from '../../src/index.js';

const WORKER = fileURLToPath(new URL('./cache-worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const REPLY_WAIT_MS = 15_000;

export class CacheProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  #lastId = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: { id: number; result?: { value?: unknown; undefined?: true }; error?: string }) => {
      const waiter = this.#waiting.get(message.id);
      if (waiter === undefined) return;
      this.#waiting.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result?.undefined ? undefined : message.result?.value);
    });
  }

  /** Starts a child holding `createCache(options)`; resolves once it is ready. */
  static async start(options: ShardcacheOptions): Promise<CacheProcess> {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run npm run build (scripts/test-all.sh does)');
    const child = fork(WORKER, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('cache worker not ready within 15 s')), REPLY_WAIT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`cache worker exited (${code})`)));
    });
    return new CacheProcess(child);
  }

  call(op: string, ...args: unknown[]): Promise<unknown> {
    const id = ++this.#lastId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${op} got no reply within ${REPLY_WAIT_MS} ms`));
      }, REPLY_WAIT_MS);
      this.#waiting.set(id, { resolve, reject, timer });
      this.#child.send({ id, op, args });
    });
  }

  get(key: string): Promise<unknown> {
    return this.call('get', key);
  }

  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return this.call('set', key, value, ttl);
  }

  async stats(): Promise<CacheStats> {
    return (await this.call('stats')) as CacheStats;
  }

  /** Closes the cache and waits for the process to exit (killed if it does not within the bound). */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.#child.exitCode !== null ? resolve() : this.#child.once('exit', () => resolve())));
    await Promise.race([this.call('close').catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Calls `read` until `done(value)` holds, at most `attempts` times `pauseMs` apart; resolves with the last value read.
 * @throws when it never holds.
 */
export async function readUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, attempts = 400, pauseMs = 25): Promise<T> {
  let value: T | undefined;
  for (let i = 0; i < attempts; i++) {
    value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`${what}: not seen after ${attempts} reads (last: ${JSON.stringify(value)})`);
}
