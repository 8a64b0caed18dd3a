/**
 * Real redis-server and memcached processes for integration and fault tests
 * (never mocks): each on a free loopback port with its own temp dir, stopped
 * by PID. Faults are real signals: pause() is SIGSTOP (a hung server whose
 * sockets stay open), kill() is SIGKILL, restart() starts a new process on
 * the same port.
 *
 * Server counters are read over raw sockets (RESP2 / memcached text and
 * binary frames), never through the code under test or a client library, so
 * tests can check what the servers themselves saw. See `memcachedActivitySince`
 * and `redisActivitySince` for what those numbers can and cannot prove about
 * round trips.
 *
 * Everything is bounded in time, and nothing here keeps the event loop alive:
 * children and their pipes are unref'd, every timer is cleared, every socket
 * destroyed.
 *
 * No orphans: a process 'exit' handler SIGKILLs any child still running. That
 * alone is not enough under vitest, which ends its fork workers with SIGTERM
 * (then SIGKILL after 500 ms), and a signal death runs no 'exit' handler. So
 * the first start also spawns a small watchdog (`node -e`) holding a pipe
 * from this process: when the pipe closes, however this process died, it
 * SIGKILLs the servers still registered (checking /proc that the PID is still
 * a redis-server or memcached) and removes their temp dirs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServerKind = 'redis' | 'memcached';

export interface StartOptions {
  /** Extra command-line arguments, appended to the defaults (e.g. `['--maxmemory', '1mb']`, `['-c', '8']`). */
  readonly args?: readonly string[];
  /** Bound on the wait until the server answers PING / version. Default 5000 ms. */
  readonly readyTimeoutMs?: number;
  /** Free ports to try when the server loses the race for its port. Default 5. */
  readonly attempts?: number;
  /**
   * Start on this port instead of a free one (e.g. to take over the port of
   * a server a test just closed). While the port is still taken the start is
   * retried on it, `attempts` times 100 ms apart, then fails.
   */
  readonly port?: number;
  /** More arguments that depend on the port chosen (e.g. redis `['--port', '0', '--tls-port', String(port)]`), appended after `args`. */
  readonly portArgs?: (port: number) => readonly string[];
  /** Extra environment variables for the server process (e.g. memcached's `SASL_CONF_PATH`). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Readiness check in place of the plain PING / `version` probe (a TLS-only
   * or login-only server answers neither): resolves true once the server
   * answers on `port`, false if not yet; bounded by `withinMs`.
   */
  readonly ready?: (port: number, withinMs: number) => Promise<boolean>;
}

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** The server's own temp dir (redis `--dir`); removed by stop(). */
  readonly dir: string;
  /** True from start/restart until the process exits. */
  readonly running: boolean;
  /** True while SIGSTOPped. */
  readonly paused: boolean;
  /** SIGSTOP: the server hangs, its sockets (and listen backlog) stay open. Throws if not running. */
  pause(): void;
  /** SIGCONT. Throws if not running. */
  resume(): void;
  /** SIGKILL, resolved once the process has exited (bounded). */
  kill(): Promise<void>;
  /** Kills the process if still running, then starts it again on the same port and waits until it answers. */
  restart(): Promise<void>;
  /**
   * SIGCONT + SIGTERM, SIGKILL after 3 s, bounded; removes the temp dir.
   * Idempotent. (redis exits in ~0.1 s; memcached 1.6 takes ~1 s to join its
   * background threads on SIGTERM: stop servers in parallel.)
   */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5000;
const EXIT_WITHIN_MS = 3000;
const KILLED_WITHIN_MS = 2000;
const OUTPUT_TAIL_CHARS = 8192;
const DEFAULT_IO_TIMEOUT_MS = 2000;
/** What redis-server and memcached print when the port is taken. */
const PORT_TAKEN = /address already in use|could not create server tcp listening socket|failed to listen/i;

// ---------------------------------------------------------------------------
// Registry: one per process (shared across module instances), so that
// stopAll() and the exit handler see every server this process started.

interface Registry {
  readonly servers: Set<Instance>;
  readonly children: Set<ChildProcess>;
  readonly dirs: Set<string>;
  /** Servers started detached by another tool (pg_ctl's postmaster): PID -> temp dir. */
  detached?: Map<number, string>;
  watchdog?: ChildProcess | null;
}

const REGISTRY_KEY = Symbol.for('shardcache.test.harness.servers');
const registry: Registry = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Registry | undefined) ?? createRegistry();

function createRegistry(): Registry {
  const created: Registry = { servers: new Set(), children: new Set(), dirs: new Set() };
  (globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = created;
  // Synchronous last resort (a crashed or forgetful test file): SIGKILL works
  // on stopped processes too, so paused servers die as well.
  process.once('exit', () => {
    for (const child of created.children) signal(child, 'SIGKILL');
    for (const [pid, dir] of created.detached ?? []) {
      killIfServer(pid);
      rmSync(dir, { recursive: true, force: true });
    }
    for (const dir of created.dirs) rmSync(dir, { recursive: true, force: true });
  });
  return created;
}

/**
 * Reads `+ <pid> <dir>` / `- <pid>` lines (tab-separated) on stdin; at EOF (its parent died or
 * exited) kills what is left and removes the dirs. CommonJS, no dependencies.
 */
const WATCHDOG_SCRIPT = `
const fs = require('node:fs');
const live = new Map();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) !== -1) {
    const [op, pid, dir] = pending.slice(0, newline).split('\\t');
    pending = pending.slice(newline + 1);
    if (op === '+') live.set(Number(pid), dir);
    else if (op === '-') live.delete(Number(pid));
  }
});
let reaped = false;
function reap() {
  if (reaped) return;
  reaped = true;
  const proc = fs.existsSync('/proc/self');
  for (const [pid, dir] of live) {
    try {
      const command = proc ? fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8') : 'unknown';
      if (!proc || /redis-server|memcached|postgres/.test(command)) process.kill(pid, 'SIGKILL');
    } catch {}
    try { if (dir) fs.rmSync(dir, { recursive: true, force: true }); } catch {}
  }
  process.exit(0);
}
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

/** Tells the watchdog (started on first use; best effort) about a server process. */
function watch(line: string): void {
  if (registry.watchdog === undefined) {
    try {
      const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], env: { PATH: process.env['PATH'] ?? '' } });
      watchdog.on('error', () => (registry.watchdog = null));
      watchdog.once('exit', () => (registry.watchdog = null));
      watchdog.stdin.on('error', () => {});
      watchdog.unref();
      (watchdog.stdin as unknown as Socket).unref?.();
      registry.watchdog = watchdog;
    } catch {
      registry.watchdog = null;
    }
  }
  registry.watchdog?.stdin?.write(`${line}\n`);
}

/**
 * Puts a server this module did not spawn under the same orphan protection:
 * PostgreSQL's postmaster, which pg_ctl detaches, so it is no child of this
 * process. If this process dies first, the watchdog (or the exit handler)
 * SIGKILLs it by PID and removes `dir`. Returns the call that takes it off
 * again once it has been stopped.
 */
export function watchDetached(pid: number, dir: string): () => void {
  (registry.detached ??= new Map()).set(pid, dir);
  watch(`+\t${pid}\t${dir}`);
  return () => {
    registry.detached?.delete(pid);
    watch(`-\t${pid}`);
  };
}

/** SIGKILL, only if `pid` is still one of the servers this module knows how to start (PIDs get reused). */
function killIfServer(pid: number): void {
  try {
    if (/redis-server|memcached|postgres/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already, or no /proc
  }
}

export function startRedis(opts: StartOptions = {}): Promise<ServerProcess> {
  return startOnPort('redis', opts);
}

export function startMemcached(opts: StartOptions = {}): Promise<ServerProcess> {
  return startOnPort('memcached', opts);
}

/** Stops every server this process started (for `afterAll(stopAll)`); throws if any failed to stop. */
export async function stopAll(): Promise<void> {
  const results = await Promise.allSettled([...registry.servers].map((server) => server.stop()));
  // Children without a handle (a start that failed half-way) are killed too.
  await Promise.allSettled([...registry.children].map((child) => terminate(child, 'SIGKILL')));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) throw new AggregateError(failures, `stopAll: ${failures.length} server(s) did not stop`);
}

/** Every server serving again after a test's faults: a paused one resumed (SIGCONT), a killed one restarted on its port. */
export async function healAll(servers: readonly ServerProcess[]): Promise<void> {
  for (const server of servers) {
    if (server.paused) server.resume();
    if (!server.running) await server.restart();
  }
}

// ---------------------------------------------------------------------------
// Processes

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last OUTPUT_TAIL_CHARS of stdout+stderr (redis logs to stdout). */
  output(): string;
}

async function startOnPort(kind: ServerKind, opts: StartOptions): Promise<ServerProcess> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const errors: string[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (opts.port !== undefined && attempt > 0) await sleep(100);
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), `shardcache-${kind}-${port}-`));
    registry.dirs.add(dir);
    try {
      const child = await spawnReady(kind, port, dir, opts);
      const server = new Instance(kind, port, dir, opts, child);
      registry.servers.add(server);
      return server;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      registry.dirs.delete(dir);
      errors.push((error as Error).message);
      // Only a lost race for the port is worth another try; a bad flag or a
      // missing binary fails the same way everywhere.
      if (!PORT_TAKEN.test((error as Error).message)) break;
    }
  }
  throw new Error(`could not start ${kind} after ${errors.length} attempt(s):\n${errors.join('\n')}`);
}

class Instance implements ServerProcess {
  readonly host = HOST;
  readonly address: string;
  readonly #opts: StartOptions;
  #child: Child;
  #paused = false;

  constructor(
    readonly kind: ServerKind,
    readonly port: number,
    readonly dir: string,
    opts: StartOptions,
    child: Child,
  ) {
    this.address = `${HOST}:${port}`;
    this.#opts = opts;
    this.#child = child;
  }

  get pid(): number {
    return this.#child.pid;
  }

  get running(): boolean {
    return isRunning(this.#child.process);
  }

  get paused(): boolean {
    return this.#paused && this.running;
  }

  pause(): void {
    this.#signalRunning('SIGSTOP');
    this.#paused = true;
    // A stop takes effect when each thread is next scheduled: a request
    // written right after kill() could still be answered. Wait (bounded)
    // until the kernel reports every thread stopped.
    const until = Date.now() + STOP_SETTLE_MS;
    while (!allThreadsStopped(this.pid) && Date.now() < until);
  }

  resume(): void {
    this.#signalRunning('SIGCONT');
    this.#paused = false;
  }

  async kill(): Promise<void> {
    await terminate(this.#child.process, 'SIGKILL');
    this.#paused = false;
  }

  async restart(): Promise<void> {
    await this.kill();
    mkdirSync(this.dir, { recursive: true }); // stop() removed it
    registry.dirs.add(this.dir);
    // SO_REUSEADDR lets both servers rebind at once; retry briefly anyway in
    // case the kernel or another process still holds the port.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        this.#child = await spawnReady(this.kind, this.port, this.dir, this.#opts);
        registry.servers.add(this);
        return;
      } catch (error) {
        lastError = error;
        if (!PORT_TAKEN.test((error as Error).message)) break;
        await sleep(100);
      }
    }
    throw new Error(`restart of ${this.kind} on ${this.address} failed: ${(lastError as Error).message}`);
  }

  async stop(): Promise<void> {
    try {
      await terminate(this.#child.process, 'SIGTERM');
    } finally {
      this.#paused = false;
      rmSync(this.dir, { recursive: true, force: true });
      registry.dirs.delete(this.dir);
      if (!this.running) registry.servers.delete(this);
    }
  }

  #signalRunning(sig: NodeJS.Signals): void {
    if (!signal(this.#child.process, sig)) throw new Error(`${this.kind} on ${this.address} (pid ${this.pid}) is not running`);
  }
}

const STOP_SETTLE_MS = 500;

/** Every thread of `pid` in state T (stopped), per /proc; false if it cannot be read. */
function allThreadsStopped(pid: number): boolean {
  try {
    const threads = readdirSync(`/proc/${pid}/task`);
    return threads.every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the command name, which is in parentheses and may contain spaces.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    });
  } catch {
    return false;
  }
}

function commandLine(kind: ServerKind, port: number, dir: string, extra: readonly string[]): [string, string[]] {
  if (kind === 'redis') {
    return [
      'redis-server',
      ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes', '--dir', dir, ...extra],
    ];
  }
  // memcached refuses to run as root unless told which user to be.
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return ['memcached', ['-l', HOST, '-p', String(port), '-U', '0', '-m', '64', '-t', '2', ...user, ...extra]];
}

async function spawnReady(kind: ServerKind, port: number, dir: string, opts: StartOptions): Promise<Child> {
  const [command, args] = commandLine(kind, port, dir, [...(opts.args ?? []), ...(opts.portArgs?.(port) ?? [])]);
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false, env: opts.env === undefined ? process.env : { ...process.env, ...opts.env } });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Read both pipes (a full pipe would block the server) without holding the event loop.
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.on('data', collect);
    (stream as Socket).unref?.();
  }
  let spawnError: Error | undefined;
  proc.on('error', (error) => {
    spawnError ??= error; // kept, never thrown asynchronously
  });
  if (proc.pid !== undefined) {
    const pid = proc.pid;
    registry.children.add(proc);
    watch(`+\t${pid}\t${dir}`);
    proc.once('exit', () => {
      registry.children.delete(proc);
      watch(`-\t${pid}`);
    });
    proc.unref();
  }
  const child: Child = { process: proc, pid: proc.pid ?? -1, output: () => output.trim() };

  try {
    await waitUntilAnswering(kind, port, child, () => spawnError, opts.readyTimeoutMs ?? READY_WITHIN_MS, opts.ready);
    return child;
  } catch (error) {
    await terminate(proc, 'SIGKILL').catch(() => {});
    const failure = new Error(
      `${command} ${args.map((arg) => (arg === '' ? "''" : arg)).join(' ')} (pid ${child.pid}) did not start on port ${port}: ${(error as Error).message}` +
        `\n--- server output ---\n${child.output() || '(none)'}`,
    );
    (failure as NodeJS.ErrnoException).code = (spawnError as NodeJS.ErrnoException | undefined)?.code;
    throw failure;
  }
}

async function waitUntilAnswering(
  kind: ServerKind,
  port: number,
  child: Child,
  spawnError: () => Error | undefined,
  withinMs: number,
  ready?: (port: number, withinMs: number) => Promise<boolean>,
): Promise<void> {
  const until = Date.now() + withinMs;
  const proc = child.process;
  // An early exit (bad flag, port taken) ends the wait at once, even while a
  // probe is waiting on whatever else answers on that port.
  const exited = new Promise<'exited'>((resolve) => {
    if (!isRunning(proc)) resolve('exited');
    else proc.once('exit', () => resolve('exited'));
  });
  let last = 'no answer yet';
  while (Date.now() < until) {
    const error = spawnError();
    if (error) throw error;
    if (!isRunning(proc)) throw new Error(`exited early (code ${proc.exitCode}, signal ${proc.signalCode})`);
    try {
      if (ready !== undefined) {
        const answered = ready(port, Math.min(500, Math.max(50, until - Date.now())));
        answered.catch(() => {});
        const outcome = await Promise.race([answered, exited]);
        if (outcome === true) return;
        if (outcome === 'exited') continue;
        last = 'the readiness check found no answer';
        await sleep(20);
        continue;
      }
      const probe = exchange(port, kind === 'redis' ? respCommand('PING') : 'version\r\n', (text) => text.includes('\r\n'), Math.min(500, Math.max(50, until - Date.now())));
      probe.catch(() => {}); // may lose the race below
      const reply = await Promise.race([probe, exited]);
      if (reply === 'exited') continue;
      if (reply.startsWith(kind === 'redis' ? '+PONG' : 'VERSION ')) return;
      last = `unexpected reply ${JSON.stringify(reply.trim())}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(20);
  }
  throw new Error(`not answering within ${withinMs} ms (last: ${last})`);
}

export function isRunning(proc: ChildProcess): boolean {
  return proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;
}

/**
 * kill(2) on the child's PID, only while Node has not reaped it (so the PID
 * cannot have been reused). Returns whether the signal was sent.
 */
function signal(proc: ChildProcess, sig: NodeJS.Signals): boolean {
  if (!isRunning(proc)) return false;
  try {
    process.kill(proc.pid!, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** `first` (after SIGCONT, as a stopped process cannot act on SIGTERM), then SIGKILL; bounded. */
async function terminate(proc: ChildProcess, first: NodeJS.Signals): Promise<void> {
  if (!isRunning(proc)) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  if (first !== 'SIGKILL') signal(proc, 'SIGCONT');
  signal(proc, first);
  if (first !== 'SIGKILL' && (await within(exited, EXIT_WITHIN_MS))) return;
  if (first !== 'SIGKILL') signal(proc, 'SIGKILL');
  if (await within(exited, KILLED_WITHIN_MS)) return;
  if (isRunning(proc)) throw new Error(`pid ${proc.pid} did not exit after SIGKILL within ${KILLED_WITHIN_MS} ms`);
}

/** Whether `promise` settled within `ms`; the timer is always cleared. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port free on the loopback address now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Raw sockets

/**
 * Sends `request` on a new loopback connection and collects the reply until
 * `complete(reply)` holds; rejects after `timeoutMs` (covering connect, write
 * and read). The socket is always destroyed and the timer cleared.
 */
export function exchangeBytes(port: number, request: Buffer | string, complete: (reply: Buffer) => boolean, timeoutMs = DEFAULT_IO_TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    const chunks: Buffer[] = [];
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no complete reply from ${HOST}:${port} within ${timeoutMs} ms`)), timeoutMs);
    function finish(error?: Error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    }
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${HOST}:${port} closed the connection before a complete reply`)));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (complete(chunks.length === 1 ? chunk : Buffer.concat(chunks))) finish();
    });
    socket.on('connect', () => socket.write(request));
  });
}

/** `exchangeBytes` for text protocols (the reply is decoded as latin1, byte for byte). */
export async function exchange(port: number, request: string, complete: (text: string) => boolean, timeoutMs = DEFAULT_IO_TIMEOUT_MS): Promise<string> {
  const reply = await exchangeBytes(port, request, (bytes) => complete(bytes.toString('latin1')), timeoutMs);
  return reply.toString('latin1');
}

// ---------------------------------------------------------------------------
// Redis (RESP2 over a raw socket)

/** A RESP2 array of bulk strings: how clients send commands. */
export function respCommand(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** A single RESP2 reply (simple, error, integer or bulk string) read whole. */
function respComplete(text: string): boolean {
  const header = text.indexOf('\r\n');
  if (header === -1) return false;
  if (text.startsWith('$')) {
    const length = Number(text.slice(1, header));
    return length < 0 || text.length >= header + 2 + length + 2; // latin1: one char per byte
  }
  return true;
}

/** Sends one command over a raw RESP2 socket; returns the reply text (bulk strings unwrapped, nil as ''). Rejects on `-ERR`. */
export async function redisCommand(server: ServerProcess, ...parts: string[]): Promise<string> {
  const reply = await exchange(server.port, respCommand(...parts), respComplete);
  if (reply.startsWith('-')) throw new Error(`redis ${server.address} replied ${reply.trim()} to ${parts[0]}`);
  if (reply.startsWith('$')) {
    const header = reply.indexOf('\r\n');
    const length = Number(reply.slice(1, header));
    return length < 0 ? '' : Buffer.from(reply.slice(header + 2, header + 2 + length), 'latin1').toString('utf8');
  }
  return reply.trim();
}

function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** `INFO <section> [section...]` as key/value pairs (redis 7 takes several sections at once). */
export async function redisInfo(server: ServerProcess, section: string, ...more: string[]): Promise<Record<string, string>> {
  return parseInfo(await redisCommand(server, 'INFO', section, ...more));
}

export type RedisCommandStats = Record<string, { calls: number; usec: number }>;

function parseCommandStats(info: Record<string, string>): RedisCommandStats {
  const stats: RedisCommandStats = {};
  for (const [field, value] of Object.entries(info)) {
    const calls = /calls=(\d+)/.exec(value);
    const usec = /(?:^|,)usec=(\d+)/.exec(value);
    if (field.startsWith('cmdstat_') && calls && usec) stats[field.slice('cmdstat_'.length)] = { calls: Number(calls[1]), usec: Number(usec[1]) };
  }
  return stats;
}

/**
 * Per-command counters from `INFO commandstats`, keyed by command name
 * (`get`, `mget`, `set`, `ping`; subcommands as `config|resetstat`). Each call
 * is one command the server parsed and ran: an MGET of 250 keys is one call,
 * with one reply, so `mget.calls === 1` per node (and no `get`) is one round
 * trip per node. The INFO that reads these is counted only after it ran: it
 * shows up in the next read, not in its own.
 */
export async function redisCommandStats(server: ServerProcess): Promise<RedisCommandStats> {
  return parseCommandStats(await redisInfo(server, 'commandstats'));
}

/**
 * `CONFIG RESETSTAT`: zeroes commandstats and the INFO stats counters. The
 * reset itself is then counted (`config|resetstat: 1`); tests should look at
 * the commands they care about rather than expect an empty table.
 */
export async function redisResetStats(server: ServerProcess): Promise<void> {
  await redisCommand(server, 'CONFIG', 'RESETSTAT');
}

export async function redisFlushAll(server: ServerProcess): Promise<void> {
  await redisCommand(server, 'FLUSHALL');
}

const REDIS_SNAPSHOT_REQUEST = respCommand('INFO', 'stats', 'commandstats');

/** One `INFO stats commandstats` read, for `redisActivitySince`. */
export interface RedisSnapshot {
  readonly commands: RedisCommandStats;
  readonly stats: Record<string, string>;
}

export async function redisSnapshot(server: ServerProcess): Promise<RedisSnapshot> {
  const stats = await redisInfo(server, 'stats', 'commandstats');
  return { commands: parseCommandStats(stats), stats };
}

/** What a redis server counted between a snapshot and now, minus the harness's own reads. */
export interface RedisActivity {
  /** Calls per command (only commands that ran; the harness's INFO excluded). */
  readonly commands: Record<string, number>;
  /** `total_commands_processed` delta (harness excluded). */
  readonly commandsProcessed: number;
  /**
   * `total_reads_processed` delta (harness excluded): read events the server
   * handled on client sockets. A pipelined request that reaches the server at
   * once is one read event as long as it fits redis's 16 KiB read buffer; a
   * larger request takes several read events for one round trip (an MGET of
   * 5000 keys, 69 KB, took 4). So `1` proves a single round trip; more than 1
   * does not by itself disprove it.
   */
  readonly readEvents: number;
  /** `total_connections_received` delta (harness excluded): connections opened by others. */
  readonly newConnections: number;
  /** `total_net_input_bytes` delta (harness excluded): request bytes read. */
  readonly bytesIn: number;
}

/**
 * The server-side difference since `before`. Corrections for the harness's
 * own traffic (measured against redis 7.0): each snapshot is one new
 * connection and one INFO. The `before` INFO is counted only after it ran and
 * its connection's EOF is one more read event; the `after` connection, its
 * request bytes and its read are counted in the `after` numbers.
 */
export async function redisActivitySince(server: ServerProcess, before: RedisSnapshot): Promise<RedisActivity> {
  const after = await redisSnapshot(server);
  const stat = (name: string) => Number(after.stats[name] ?? 0) - Number(before.stats[name] ?? 0);
  const commands: Record<string, number> = {};
  for (const [name, { calls }] of Object.entries(after.commands)) {
    const delta = calls - (before.commands[name]?.calls ?? 0) - (name === 'info' ? 1 : 0);
    if (delta !== 0) commands[name] = delta;
  }
  return {
    commands,
    commandsProcessed: stat('total_commands_processed') - 1,
    readEvents: stat('total_reads_processed') - 2,
    newConnections: stat('total_connections_received') - 1,
    bytesIn: stat('total_net_input_bytes') - Buffer.byteLength(REDIS_SNAPSHOT_REQUEST),
  };
}

// ---------------------------------------------------------------------------
// Memcached (text protocol for stats, binary frames for reference traffic)

function parseStats(text: string): Record<string, string> {
  const stats: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const [tag, name, ...value] = line.split(' ');
    if (tag === 'STAT' && name !== undefined && value.length > 0) stats[name] = value.join(' ');
  }
  return stats;
}

const statsComplete = (text: string) => text.endsWith('END\r\n') || /^(ERROR|CLIENT_ERROR|SERVER_ERROR)/m.test(text);

/**
 * memcached `stats` (text protocol) on a new connection. Counters that
 * matter here (checked against memcached 1.6.18):
 * - `cmd_get`: keys looked up, not requests (a GETKQ batch of N adds N; a
 *   text `get a b c` adds 3); `get_hits` + `get_misses` add up to it, and a
 *   key invalidated by flush_all also counts in `get_flushed`.
 * - `cmd_set`: stores (a SETQ batch of N adds N).
 * - `total_connections`: connections accepted ever (starts at 2: the listener
 *   counts); each call of this function adds 1. `curr_connections` includes it.
 * - `bytes_read` / `bytes_written`: exact protocol bytes in and out.
 * - `conn_yields`: times a connection gave up its turn after `-R` (20)
 *   requests in one read; per batch, roughly keys/20. Not a round-trip count.
 * There is no request or round-trip counter: see `memcachedActivitySince`.
 */
export async function memcachedStats(server: ServerProcess): Promise<Record<string, string>> {
  return parseStats(await memcachedStatsText(server, ''));
}

/** `stats <group>` (`settings`, `conns`, `slabs`, `items`, ...) as key/value pairs. */
export async function memcachedStatsGroup(server: ServerProcess, group: string): Promise<Record<string, string>> {
  return parseStats(await memcachedStatsText(server, group));
}

async function memcachedStatsText(server: ServerProcess, group: string): Promise<string> {
  const reply = await exchange(server.port, `stats${group ? ` ${group}` : ''}\r\n`, statsComplete);
  if (!reply.endsWith('END\r\n')) throw new Error(`memcached ${server.address} replied ${reply.trim()} to stats ${group}`);
  return reply;
}

export interface MemcachedCounters {
  readonly cmd_get: number;
  readonly get_hits: number;
  readonly get_misses: number;
  readonly get_flushed: number;
  readonly cmd_set: number;
  readonly total_connections: number;
  readonly curr_connections: number;
  readonly bytes_read: number;
  readonly bytes_written: number;
  readonly conn_yields: number;
}

const COUNTER_NAMES = ['cmd_get', 'get_hits', 'get_misses', 'get_flushed', 'cmd_set', 'total_connections', 'curr_connections', 'bytes_read', 'bytes_written', 'conn_yields'] as const;

function pickCounters(stats: Record<string, string>): MemcachedCounters {
  return Object.fromEntries(COUNTER_NAMES.map((name) => [name, Number(stats[name] ?? NaN)])) as unknown as MemcachedCounters;
}

/** The counters above as numbers. */
export async function memcachedCounters(server: ServerProcess): Promise<MemcachedCounters> {
  return pickCounters(await memcachedStats(server));
}

/** `stats reset`: zeroes the resettable counters (cmd_*, hits/misses, bytes, total_connections). */
export async function memcachedResetStats(server: ServerProcess): Promise<void> {
  const reply = await exchange(server.port, 'stats reset\r\n', (text) => text.includes('\r\n'));
  if (!reply.startsWith('RESET')) throw new Error(`memcached ${server.address} replied ${reply.trim()} to stats reset`);
}

export async function memcachedFlushAll(server: ServerProcess): Promise<void> {
  const reply = await exchange(server.port, 'flush_all\r\n', (text) => text.includes('\r\n'));
  if (!reply.startsWith('OK')) throw new Error(`memcached ${server.address} replied ${reply.trim()} to flush_all`);
}

export interface SocketCounters {
  /** Client end of the connection, `host:port`. */
  readonly peer: string;
  /** TCP segments carrying data that the server received on this connection (TCP_INFO data_segs_in). */
  readonly dataSegmentsIn: number;
  readonly bytesReceived: number;
}

/**
 * The kernel's counters for each established connection on the server's
 * port (`ss -tin`), as the server's side of the socket saw them. A pipelined
 * request written at once arrives on loopback as one data segment if it fits
 * one segment (loopback MSS is about 64 KiB; a 95 KB batch arrived as 3), so
 * a delta of 1 proves the whole request arrived at once: one round trip.
 */
export async function serverSocketCounters(server: ServerProcess): Promise<SocketCounters[]> {
  const output = await new Promise<string>((resolve, reject) =>
    execFile('ss', ['-tinH', 'state', 'established', `( sport = :${server.port} )`], { timeout: DEFAULT_IO_TIMEOUT_MS }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  const counters: SocketCounters[] = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const columns = lines[i]!.trim().split(/\s+/);
    if (columns.length < 4 || !columns[2]!.endsWith(`:${server.port}`)) continue;
    const details = lines[i + 1] ?? '';
    counters.push({
      peer: columns[3]!,
      dataSegmentsIn: Number(/data_segs_in:(\d+)/.exec(details)?.[1] ?? 0),
      bytesReceived: Number(/bytes_received:(\d+)/.exec(details)?.[1] ?? 0),
    });
  }
  return counters;
}

/** One `stats` read plus the kernel's socket counters, for `memcachedActivitySince`. */
export interface MemcachedSnapshot {
  readonly counters: MemcachedCounters;
  /** Bytes of the `stats` reply itself: memcached counts them in the next read. */
  readonly replyBytes: number;
  /** `null` when `ss` is not available. */
  readonly sockets: readonly SocketCounters[] | null;
}

export async function memcachedSnapshot(server: ServerProcess): Promise<MemcachedSnapshot> {
  const text = await memcachedStatsText(server, '');
  const sockets = await serverSocketCounters(server).catch(() => null);
  return { counters: pickCounters(parseStats(text)), replyBytes: Buffer.byteLength(text, 'latin1'), sockets };
}

/** What a memcached server counted between a snapshot and now, minus the harness's own traffic. */
export interface MemcachedActivity {
  /** `cmd_get` delta: keys looked up (a GETKQ x N batch adds N). */
  readonly gets: number;
  readonly hits: number;
  readonly misses: number;
  readonly sets: number;
  /** `total_connections` delta minus the harness's stats connection: connections others opened. */
  readonly newConnections: number;
  /** `bytes_read` delta minus the harness's `stats\r\n`: exact request bytes the server read. */
  readonly bytesRead: number;
  /** `bytes_written` delta minus the harness's `before` stats reply: exact reply bytes. */
  readonly bytesWritten: number;
  /**
   * Kernel data segments received on connections that were open at both
   * snapshots (so not the harness's), summed; `null` when `ss` is missing.
   */
  readonly dataSegmentsIn: number | null;
  /** Per connection open at both snapshots: `peer` -> data segments received in between. */
  readonly segmentsByPeer: Readonly<Record<string, number>> | null;
}

/**
 * The most honest server-side evidence memcached gives for "one round trip
 * per node". memcached 1.6 has NO request or round-trip counter: for a binary
 * batch of GETKQ x N then NOOP on one connection it adds N to `cmd_get` (and
 * to hits + misses), nothing for the NOOP, `conn_yields` about N/20, and the
 * exact bytes to `bytes_read`/`bytes_written`; `stats conns` only shows each
 * connection's state and idle seconds. Together these prove it:
 * - `gets === N`: every key was asked exactly once (no retry, no duplicate);
 * - `newConnections === 0`: it went over a connection that already existed;
 * - `bytesRead === getkqBatchBytes(keys)`: exactly N GETKQ frames and ONE
 *   NOOP reached the server. Quiet gets are not answered on a miss, so the
 *   NOOP is the only reply a client can wait for: one NOOP is one round trip.
 *   (N plain GETs, one per round trip, would be N x (24 + key) bytes with no
 *   NOOP; N batches of one would carry N NOOPs.)
 * - `dataSegmentsIn === 1` (kernel TCP_INFO on the server's socket, batches
 *   under about 64 KiB): the whole batch arrived at once, so the client did
 *   not wait for anything in between.
 *
 * Corrections for the harness's own reads (each snapshot is one new
 * connection sending `stats\r\n`): the `after` connection and its 7 request
 * bytes are in the `after` counters; the `before` reply was written after the
 * `before` counters were taken, so it is in `bytes_written`'s delta.
 */
export async function memcachedActivitySince(server: ServerProcess, before: MemcachedSnapshot): Promise<MemcachedActivity> {
  // Kernel counters first, while the harness's stats connection is not open.
  const sockets = before.sockets === null ? null : await serverSocketCounters(server).catch(() => null);
  const after = await memcachedSnapshot(server);
  const delta = (name: keyof MemcachedCounters) => after.counters[name] - before.counters[name];
  let segmentsByPeer: Record<string, number> | null = null;
  if (before.sockets !== null && sockets !== null) {
    segmentsByPeer = {};
    for (const now of sockets) {
      const then = before.sockets.find((s) => s.peer === now.peer);
      if (then) segmentsByPeer[now.peer] = now.dataSegmentsIn - then.dataSegmentsIn;
    }
  }
  return {
    gets: delta('cmd_get'),
    hits: delta('get_hits'),
    misses: delta('get_misses'),
    sets: delta('cmd_set'),
    newConnections: delta('total_connections') - 1,
    bytesRead: delta('bytes_read') - Buffer.byteLength('stats\r\n'),
    bytesWritten: delta('bytes_written') - before.replyBytes,
    dataSegmentsIn: segmentsByPeer === null ? null : Object.values(segmentsByPeer).reduce((sum, n) => sum + n, 0),
    segmentsByPeer,
  };
}

/** Binary protocol opcodes used by the SDK's batches. */
export const MEMCACHED_OPCODE = { get: 0x00, set: 0x01, noop: 0x0a, getkq: 0x0d, setq: 0x11 } as const;

/** One binary-protocol request frame (24-byte header, extras, key, value). */
export function memcachedFrame(opcode: number, key = '', extras: Buffer = Buffer.alloc(0), value: Buffer = Buffer.alloc(0), opaque = 0): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const header = Buffer.alloc(24);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(keyBytes.length, 2);
  header[4] = extras.length;
  header.writeUInt32BE(extras.length + keyBytes.length + value.length, 8);
  header.writeUInt32BE(opaque, 12);
  return Buffer.concat([header, extras, keyBytes, value]);
}

/** GETKQ x N then NOOP: the SDK's batch get, as one buffer. */
export function memcachedGetkqBatch(keys: readonly string[], opaque = 0): Buffer {
  return Buffer.concat([
    ...keys.map((key) => memcachedFrame(MEMCACHED_OPCODE.getkq, key, undefined, undefined, opaque)),
    memcachedFrame(MEMCACHED_OPCODE.noop, '', undefined, undefined, opaque),
  ]);
}

/** Bytes of `memcachedGetkqBatch(keys)`: what `bytes_read` grows by for one such batch. */
export function getkqBatchBytes(keys: readonly string[]): number {
  return keys.reduce((sum, key) => sum + 24 + Buffer.byteLength(key, 'utf8'), 0) + 24;
}

export interface MemcachedResponse {
  readonly opcode: number;
  readonly status: number;
  readonly opaque: number;
  readonly key: string;
  readonly value: Buffer;
}

/** Parses whole binary response frames; `complete` is true once a NOOP response was read. */
export function parseMemcachedResponses(bytes: Buffer): { responses: MemcachedResponse[]; complete: boolean } {
  const responses: MemcachedResponse[] = [];
  let offset = 0;
  while (offset + 24 <= bytes.length) {
    if (bytes[offset] !== 0x81) throw new Error(`not a memcached binary response (magic 0x${bytes[offset]!.toString(16)})`);
    const keyLength = bytes.readUInt16BE(offset + 2);
    const extrasLength = bytes[offset + 4]!;
    const bodyLength = bytes.readUInt32BE(offset + 8);
    if (offset + 24 + bodyLength > bytes.length) break;
    const keyStart = offset + 24 + extrasLength;
    const response: MemcachedResponse = {
      opcode: bytes[offset + 1]!,
      status: bytes.readUInt16BE(offset + 6),
      opaque: bytes.readUInt32BE(offset + 12),
      key: bytes.toString('utf8', keyStart, keyStart + keyLength),
      value: bytes.subarray(keyStart + keyLength, offset + 24 + bodyLength),
    };
    responses.push(response);
    offset += 24 + bodyLength;
    if (response.opcode === MEMCACHED_OPCODE.noop) return { responses, complete: true };
  }
  return { responses, complete: false };
}
