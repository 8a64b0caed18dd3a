/**
 * twemproxy (`nutcracker`, Debian package, 0.5.0) in front of servers the
 * test harness started: a YAML config in a fresh temp dir, a free loopback
 * port for the proxy and another for its stats listener (the default 22222
 * would collide between two proxies), spawned in the foreground so its PID
 * is ours, ready once the port accepts connections, stopped by PID.
 *
 * The pool uses `hash: md5` and `distribution: ketama`: twemproxy's ketama
 * names a server `host:port` (or `host` on port 11211), as libmemcached
 * does, so it places every key on the same node as shardcache's default ring
 * (the benchmarks check that by reading seeded keys through it).
 *
 * Nothing is left behind: stop() is idempotent and bounded; a process 'exit'
 * handler SIGKILLs any proxy still running and removes its temp dir, and
 * SIGINT/SIGTERM end the process through process.exit so that handler (and
 * the server harness's) runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, within } from '../../test/harness/servers.js';

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5_000;
const EXIT_WITHIN_MS = 2_000;

export const NUTCRACKER = process.env['NUTCRACKER'] ?? (existsSync('/usr/sbin/nutcracker') ? '/usr/sbin/nutcracker' : 'nutcracker');

export interface TwemproxyOptions {
  /** `redis: true` pools speak RESP; otherwise memcached's ASCII protocol (twemproxy has no binary protocol). */
  readonly redis: boolean;
  /** Backend servers, `host:port`, in ring order. */
  readonly servers: readonly string[];
  /** Server-side timeout in ms (twemproxy's default is to wait forever). */
  readonly timeoutMs?: number;
}

export interface Twemproxy {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly pid: number;
  readonly config: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const child of running) kill(child, 'SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));
  }
}

export function twemproxyConfig(port: number, options: TwemproxyOptions): string {
  return [
    'shardcache_bench:',
    `  listen: ${HOST}:${port}`,
    '  hash: md5',
    '  distribution: ketama',
    `  redis: ${options.redis}`,
    '  preconnect: true',
    '  auto_eject_hosts: false',
    '  server_connections: 1',
    `  timeout: ${options.timeoutMs ?? 2000}`,
    '  servers:',
    ...options.servers.map((server) => `   - ${server}:1`),
    '',
  ].join('\n');
}

export async function startTwemproxy(options: TwemproxyOptions): Promise<Twemproxy> {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-twemproxy-'));
  dirs.add(dir);
  const [port, statsPort] = await twoFreePorts();
  const config = twemproxyConfig(port, options);
  const configPath = join(dir, 'nutcracker.yml');
  writeFileSync(configPath, config);
  const log = join(dir, 'nutcracker.log');
  const child = spawn(
    NUTCRACKER,
    ['-c', configPath, '-o', log, '-p', join(dir, 'nutcracker.pid'), '-s', String(statsPort), '-a', HOST, '-v', '4'],
    { stdio: 'ignore', shell: false },
  );
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError ??= error));
  if (child.pid !== undefined) {
    running.add(child);
    child.once('exit', () => running.delete(child));
  }
  const stop = async () => {
    await terminate(child);
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  try {
    await waitForPort(port, child, () => spawnError);
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no log)';
    await stop();
    throw new Error(`${NUTCRACKER} did not start on ${HOST}:${port}: ${(error as Error).message}\n--- nutcracker log ---\n${tail}`);
  }
  return { host: HOST, port, address: `${HOST}:${port}`, pid: child.pid!, config, stop };
}

/** Signals only a child Node has not reaped, so the PID cannot have been reused. */
function kill(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!isRunning(child)) return;
  try {
    process.kill(child.pid!, sig);
  } catch {
    // already gone
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  kill(child, 'SIGTERM');
  if (await within(exited, EXIT_WITHIN_MS)) return;
  kill(child, 'SIGKILL');
  if (!(await within(exited, EXIT_WITHIN_MS))) throw new Error(`nutcracker pid ${child.pid} did not exit after SIGKILL`);
}

async function waitForPort(port: number, child: ChildProcess, spawnError: () => Error | undefined): Promise<void> {
  const until = Date.now() + READY_WITHIN_MS;
  let last = 'no answer yet';
  while (Date.now() < until) {
    const error = spawnError();
    if (error) throw error;
    if (!isRunning(child)) throw new Error(`exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    try {
      await connectOnce(port, 250);
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`port not accepting within ${READY_WITHIN_MS} ms (last: ${last})`);
}

function connectOnce(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    const timer = setTimeout(() => finish(new Error('connect timed out')), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.once('connect', () => finish());
    socket.once('error', (error) => finish(error));
  });
}

/** Two distinct free loopback ports (both probes held open until both are known). */
async function twoFreePorts(): Promise<[number, number]> {
  const probes = [createServer(), createServer()];
  try {
    const ports = await Promise.all(
      probes.map(
        (probe) =>
          new Promise<number>((resolve, reject) => {
            probe.unref();
            probe.once('error', reject);
            probe.listen(0, HOST, () => resolve((probe.address() as { port: number }).port));
          }),
      ),
    );
    return [ports[0]!, ports[1]!];
  } finally {
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}
