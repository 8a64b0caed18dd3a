/**
 * Real redis-server and memcached processes for integration and fault tests:
 * each on a free loopback port, stopped by PID. Faults are real signals:
 * pause() is SIGSTOP (a hung server whose sockets stay open), kill() is
 * SIGKILL, restart() starts a new process on the same port.
 *
 * Server counters are read over a raw socket, never through the code under
 * test, so tests can check what the servers themselves saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServerKind = 'redis' | 'memcached';

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** True from start/restart until the process exits. */
  readonly running: boolean;
  /** True while SIGSTOPped. */
  readonly paused: boolean;
  /** SIGSTOP: the server hangs, its sockets stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, resolved once the process has exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after kill() or stop()). */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 3 s); idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5000;
const EXIT_WITHIN_MS = 3000;
const running = new Set<ChildProcess>();

// A crashed test run must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function startRedis(): Promise<ServerProcess> {
  return startOnFreePort('redis');
}

export function startMemcached(): Promise<ServerProcess> {
  return startOnFreePort('memcached');
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => terminate(child)));
}

async function startOnFreePort(kind: ServerKind): Promise<ServerProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await launch(kind, port);
    } catch (error) {
      lastError = error; // Another process may have taken the port in between.
    }
  }
  throw lastError;
}

async function launch(kind: ServerKind, port: number): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `shardcache-${kind}-`));
  let child = await spawnReady(kind, port, dir);
  let paused = false;

  const server: ServerProcess = {
    kind,
    host: HOST,
    port,
    address: `${HOST}:${port}`,
    get pid() {
      return child.pid!;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    get paused() {
      return paused;
    },
    pause() {
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child.kill('SIGCONT');
      paused = false;
    },
    async kill() {
      if (paused) server.resume();
      await terminate(child, 'SIGKILL');
    },
    async restart() {
      await server.kill();
      child = await spawnReady(kind, port, dir);
    },
    async stop() {
      if (paused) server.resume();
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function spawnReady(kind: ServerKind, port: number, dir: string): Promise<ChildProcess> {
  const [command, args] =
    kind === 'redis'
      ? ['redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes', '--dir', dir]]
      : ['memcached', ['-l', HOST, '-p', String(port), '-U', '0', '-m', '64', '-t', '2', ...(process.getuid?.() === 0 ? ['-u', 'root'] : [])]];
  const child = spawn(command, args as string[], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', () => running.delete(child));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  try {
    await Promise.race([waitUntilAnswering(kind, port, child), spawnError]);
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw new Error(`${command} on port ${port} did not start: ${(error as Error).message}; stderr: ${stderr.trim()}`);
  }
  return child;
}

async function waitUntilAnswering(kind: ServerKind, port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + READY_WITHIN_MS;
  let lastError: unknown = new Error('not answering');
  for (let attempt = 0; attempt < 200 && Date.now() < until; attempt++) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const reply = await exchange(port, kind === 'redis' ? respCommand('PING') : 'version\r\n', (text) => text.includes('\r\n'), 500);
      if (reply.startsWith(kind === 'redis' ? '+PONG' : 'VERSION')) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(25);
  }
  throw lastError;
}

function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGCONT'); // A stopped process cannot act on SIGTERM.
    child.kill(signal);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Sends `request` on a new loopback connection and collects the reply until
 * `complete(text)` holds; rejects after `timeoutMs`.
 */
export function exchange(port: number, request: string, complete: (text: string) => boolean, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const timer = setTimeout(() => finish(new Error(`no complete reply within ${timeoutMs} ms`)), timeoutMs);
    function finish(error?: Error) {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    }
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (complete(reply)) finish();
    });
    socket.on('connect', () => socket.write(request));
  });
}

function respCommand(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** A RESP2 reply read whole: a bulk string's announced length is honoured. */
function respComplete(text: string): boolean {
  if (text.startsWith('$')) {
    const header = text.indexOf('\r\n');
    if (header === -1) return false;
    const length = Number(text.slice(1, header));
    return length < 0 || text.length >= header + 2 + length + 2;
  }
  return text.includes('\r\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends one command over a raw RESP2 socket; returns the reply text (bulk strings unwrapped). */
export async function redisCommand(server: ServerProcess, ...parts: string[]): Promise<string> {
  const reply = await exchange(server.port, respCommand(...parts), respComplete);
  if (reply.startsWith('-')) throw new Error(`redis replied ${reply.trim()}`);
  if (reply.startsWith('$')) {
    const header = reply.indexOf('\r\n');
    return reply.slice(header + 2, header + 2 + Number(reply.slice(1, header)));
  }
  return reply.trim();
}

/** `INFO <section>` as key/value pairs. */
export async function redisInfo(server: ServerProcess, section: string): Promise<Record<string, string>> {
  const text = await redisCommand(server, 'INFO', section);
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * Per-command counters from `INFO commandstats`, keyed by command name
 * (`get`, `mget`, `set`, ...). Each call of a command is one request the
 * server parsed: an MGET of 250 keys is one call.
 */
export async function redisCommandStats(server: ServerProcess): Promise<Record<string, { calls: number; usec: number }>> {
  const stats: Record<string, { calls: number; usec: number }> = {};
  for (const [field, value] of Object.entries(await redisInfo(server, 'commandstats'))) {
    const calls = /calls=(\d+)/.exec(value);
    const usec = /usec=(\d+)/.exec(value);
    if (field.startsWith('cmdstat_') && calls && usec) stats[field.slice('cmdstat_'.length)] = { calls: Number(calls[1]), usec: Number(usec[1]) };
  }
  return stats;
}

/** `CONFIG RESETSTAT`: zeroes commandstats (its own call is not counted afterwards). */
export async function redisResetStats(server: ServerProcess): Promise<void> {
  await redisCommand(server, 'CONFIG', 'RESETSTAT');
}

export async function redisFlushAll(server: ServerProcess): Promise<void> {
  await redisCommand(server, 'FLUSHALL');
}

/**
 * memcached's general `stats` (text protocol). Counters that matter here:
 * `cmd_get` counts keys looked up (a GETKQ batch of N keys adds N),
 * `get_hits`/`get_misses`, `cmd_set`, `curr_connections` and
 * `total_connections` (each stats call opens one connection).
 */
export async function memcachedStats(server: ServerProcess): Promise<Record<string, string>> {
  const reply = await exchange(server.port, 'stats\r\n', (text) => text.endsWith('END\r\n'));
  const stats: Record<string, string> = {};
  for (const line of reply.split('\r\n')) {
    const [tag, name, value] = line.split(' ');
    if (tag === 'STAT' && name !== undefined && value !== undefined) stats[name] = value;
  }
  return stats;
}

export async function memcachedFlushAll(server: ServerProcess): Promise<void> {
  await exchange(server.port, 'flush_all\r\n', (text) => text.includes('\r\n'));
}

export interface SocketCounters {
  /** Client end of the connection, `host:port`. */
  readonly peer: string;
  /** TCP segments carrying data that the server received on this connection. */
  readonly dataSegmentsIn: number;
  readonly bytesReceived: number;
}

/**
 * The kernel's counters for each established connection on the server's
 * port (`ss -tin`), as the server's side of the socket saw them. One pipelined
 * request written at once arrives as one data segment on loopback, so the
 * delta of `dataSegmentsIn` counts the requests a client sent.
 */
export async function serverSocketCounters(server: ServerProcess): Promise<SocketCounters[]> {
  const { execFile } = await import('node:child_process');
  const output = await new Promise<string>((resolve, reject) =>
    execFile('ss', ['-tinH', 'state', 'established', `( sport = :${server.port} )`], { timeout: 2000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
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
