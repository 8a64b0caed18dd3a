/**
 * The real-server harness checked against the servers themselves: ports,
 * readiness, SIGSTOP/SIGCONT/SIGKILL/restart, server-side counters read over
 * raw sockets, and stopAll() leaving no process, temp dir or open handle.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import {
  exchange,
  exchangeBytes,
  getkqBatchBytes,
  MEMCACHED_OPCODE,
  memcachedActivitySince,
  memcachedCounters,
  memcachedFlushAll,
  memcachedFrame,
  memcachedGetkqBatch,
  memcachedSnapshot,
  memcachedStats,
  memcachedStatsGroup,
  parseMemcachedResponses,
  redisActivitySince,
  redisCommand,
  redisCommandStats,
  redisFlushAll,
  redisInfo,
  redisResetStats,
  redisSnapshot,
  respCommand,
  serverSocketCounters,
  startMemcached,
  startRedis,
  stopAll,
  type ServerProcess,
} from '../harness/servers.js';

afterAll(stopAll);

const LIVE_HANDLES = ['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap', 'Timeout'];
const liveHandles = () =>
  process
    .getActiveResourcesInfo()
    .filter((type) => LIVE_HANDLES.includes(type))
    .sort();
const baselineHandles = liveHandles();

const redisPing = (server: ServerProcess, timeoutMs = 1000) => exchange(server.port, respCommand('PING'), (t) => t.includes('\r\n'), timeoutMs);
const memcachedVersion = (server: ServerProcess, timeoutMs = 1000) => exchange(server.port, 'version\r\n', (t) => t.includes('\r\n'), timeoutMs);

/** A persistent raw connection, for traffic that must share one socket. */
async function openSocket(port: number): Promise<Socket> {
  const socket = createConnection({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Writes `request` in one write() and collects the reply until `complete`; bounded. */
function roundTrip(socket: Socket, request: Buffer | string, complete: (reply: Buffer) => boolean, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => done(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks))) done();
    };
    function done(error?: Error) {
      clearTimeout(timer);
      socket.off('data', onData);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    }
    socket.on('data', onData);
    socket.write(request);
  });
}

/** Alive and not a zombie (an orphan's zombie waits for init to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

const noopSeen = (reply: Buffer) => parseMemcachedResponses(reply).complete;
/** At least `n` CRLF-terminated lines are in (enough for short ASCII RESP replies). */
const respLines = (n: number) => (reply: Buffer) => reply.toString('latin1').split('\r\n').length - 1 >= n;

describe('server harness', () => {
  let redis: ServerProcess;
  let memcached: ServerProcess;

  it('starts redis and memcached on distinct free loopback ports, answering', async () => {
    [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
    for (const server of [redis, memcached]) {
      expect(server.host).toBe('127.0.0.1');
      expect(server.address).toBe(`127.0.0.1:${server.port}`);
      expect(server.port).toBeGreaterThan(0);
      expect(server.pid).toBeGreaterThan(0);
      expect(server.running).toBe(true);
      expect(server.paused).toBe(false);
      expect(existsSync(server.dir)).toBe(true);
      expect(() => process.kill(server.pid, 0)).not.toThrow();
    }
    expect(redis.kind).toBe('redis');
    expect(memcached.kind).toBe('memcached');
    expect(redis.port).not.toBe(memcached.port);
    expect(await redisPing(redis)).toBe('+PONG\r\n');
    expect(await memcachedVersion(memcached)).toMatch(/^VERSION 1\.6\.\d+\r\n$/);
    // Loopback only, no persistence, no UDP.
    expect(await redisCommand(redis, 'CONFIG', 'GET', 'bind')).toMatch(/^\*2/);
    expect(await redisInfo(redis, 'persistence')).toMatchObject({ aof_enabled: '0' });
    expect(await memcachedStatsGroup(memcached, 'settings')).toMatchObject({ udpport: '0', maxbytes: String(64 * 1024 * 1024), num_threads: '2' });
  });

  it('pause() hangs the server with its sockets open: requests time out (bounded) until resume()', async () => {
    for (const [server, ask] of [
      [redis, redisPing],
      [memcached, memcachedVersion],
    ] as const) {
      server.pause();
      expect(server.paused).toBe(true);
      const started = Date.now();
      // The kernel still accepts the connection (listen backlog); the reply never comes.
      await expect(ask(server, 300)).rejects.toThrow(/no complete reply .* within 300 ms/);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(() => process.kill(server.pid, 0)).not.toThrow();
      server.resume();
      expect(server.paused).toBe(false);
      expect(await ask(server, 1000)).toMatch(/^(\+PONG|VERSION )/);
    }
  });

  it('kill() + restart() comes back on the same port with a new pid', async () => {
    for (const [server, ask] of [
      [redis, redisPing],
      [memcached, memcachedVersion],
    ] as const) {
      const { port, pid } = server;
      await server.kill();
      expect(server.running).toBe(false);
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      await expect(ask(server, 500)).rejects.toThrow(/ECONNREFUSED/);
      expect(() => server.pause()).toThrow(/not running/);

      await server.restart();
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(pid);
      expect(server.running).toBe(true);
      expect(await ask(server, 1000)).toMatch(/^(\+PONG|VERSION )/);
    }
  });

  it('restart() also works while paused and after stop()', async () => {
    memcached.pause();
    await memcached.restart();
    expect(memcached.paused).toBe(false);
    expect(await memcachedVersion(memcached)).toMatch(/^VERSION /);

    const { port, dir } = redis;
    await redis.stop();
    await redis.stop(); // idempotent
    expect(existsSync(dir)).toBe(false);
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(existsSync(dir)).toBe(true);
    expect(await redisPing(redis)).toBe('+PONG\r\n');
  });

  it("restart() on a port someone else took fails fast with the server's own reason", async () => {
    await memcached.kill();
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(memcached.port, '127.0.0.1', resolve));
    try {
      await expect(memcached.restart()).rejects.toThrow(/Address already in use/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await memcached.restart();
    expect(await memcachedVersion(memcached)).toMatch(/^VERSION /);
  });

  it('a server that cannot start fails with its own output in the error', async () => {
    const error = await startRedis({ args: ['--no-such-directive', 'x'], attempts: 1, readyTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/did not start on port \d+: exited early/);
    expect((error as Error).message).toMatch(/Bad directive/);
  });

  it('redis: commandstats count commands sent over raw sockets', async () => {
    await redisFlushAll(redis);
    await redisResetStats(redis);
    expect(await redisCommand(redis, 'SET', 'k1', 'v1')).toBe('+OK');
    expect(await redisCommand(redis, 'GET', 'k1')).toBe('v1');
    expect(await redisCommand(redis, 'GET', 'missing')).toBe('');
    expect(await redisCommand(redis, 'MGET', 'k1', 'missing', 'k1')).toMatch(/^\*3/);
    const stats = await redisCommandStats(redis);
    expect(stats.set?.calls).toBe(1);
    expect(stats.get?.calls).toBe(2);
    expect(stats.mget?.calls).toBe(1); // one call for three keys
    expect(stats['config|resetstat']?.calls).toBe(1);
    expect(stats.info).toBeUndefined(); // an INFO is counted after it ran
    expect((await redisCommandStats(redis)).info?.calls).toBe(1);
    await expect(redisCommand(redis, 'NOSUCHCOMMAND')).rejects.toThrow(/ERR unknown command/);
  });

  it('redis: one pipelined write is one read event; sequential requests are one each', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `rk:${i}`);
    const socket = await openSocket(redis.port);
    try {
      await roundTrip(socket, keys.map((key) => respCommand('SET', key, 'v')).join(''), respLines(keys.length));

      let before = await redisSnapshot(redis);
      const mget = respCommand('MGET', ...keys);
      await roundTrip(socket, mget, respLines(1 + 2 * keys.length));
      expect(await redisActivitySince(redis, before)).toEqual({
        commands: { mget: 1 },
        commandsProcessed: 1,
        readEvents: 1,
        newConnections: 0,
        bytesIn: Buffer.byteLength(mget),
      });

      before = await redisSnapshot(redis);
      await roundTrip(socket, keys.map((key) => respCommand('GET', key)).join(''), respLines(2 * keys.length));
      expect(await redisActivitySince(redis, before)).toMatchObject({ commands: { get: 50 }, readEvents: 1, newConnections: 0 });

      before = await redisSnapshot(redis);
      for (const key of keys.slice(0, 3)) await roundTrip(socket, respCommand('GET', key), respLines(2));
      expect(await redisActivitySince(redis, before)).toMatchObject({ commands: { get: 3 }, readEvents: 3, newConnections: 0 });
    } finally {
      socket.destroy();
    }
  });

  it('memcached: stats count a raw GETKQ x N + NOOP batch, and tell it from N round trips', async () => {
    await memcachedFlushAll(memcached);
    const keys = Array.from({ length: 40 }, (_, i) => `mk:${i}`);
    const stored = keys.filter((_, i) => i % 2 === 0);
    const socket = await openSocket(memcached.port);
    try {
      const before0 = await memcachedCounters(memcached);
      const flagsAndExpiry = Buffer.alloc(8);
      const setBatch = Buffer.concat([
        ...stored.map((key) => memcachedFrame(MEMCACHED_OPCODE.setq, key, flagsAndExpiry, Buffer.from(`v:${key}`))),
        memcachedFrame(MEMCACHED_OPCODE.noop),
      ]);
      await roundTrip(socket, setBatch, noopSeen);
      expect((await memcachedCounters(memcached)).cmd_set - before0.cmd_set).toBe(stored.length);

      // One batch on one existing connection.
      let before = await memcachedSnapshot(memcached);
      const reply = await roundTrip(socket, memcachedGetkqBatch(keys), noopSeen);
      const { responses } = parseMemcachedResponses(reply);
      expect(responses.filter((r) => r.opcode === MEMCACHED_OPCODE.getkq).map((r) => r.key)).toEqual(stored);
      const batchActivity = await memcachedActivitySince(memcached, before);
      expect(batchActivity).toEqual({
        gets: keys.length,
        hits: stored.length,
        misses: keys.length - stored.length,
        sets: 0,
        newConnections: 0,
        bytesRead: getkqBatchBytes(keys),
        bytesWritten: expect.any(Number),
        dataSegmentsIn: 1,
        segmentsByPeer: { [`127.0.0.1:${socket.localPort}`]: 1 },
      });
      // memcached sometimes accounts the bytes of an earlier stats reply only
      // after the next snapshot was taken, so this count can include one.
      expect(batchActivity.bytesWritten).toBeGreaterThanOrEqual(reply.length);

      // The same keys as one round trip each: same cmd_get, different evidence.
      before = await memcachedSnapshot(memcached);
      for (const key of keys) await roundTrip(socket, memcachedGetkqBatch([key]), noopSeen);
      const oneByOne = await memcachedActivitySince(memcached, before);
      expect(oneByOne.gets).toBe(keys.length);
      expect(oneByOne.newConnections).toBe(0);
      expect(oneByOne.bytesRead).toBe(getkqBatchBytes(keys) + 24 * (keys.length - 1)); // one NOOP per round trip
      expect(oneByOne.dataSegmentsIn).toBe(keys.length);

      // A client opening its own connection shows up as one.
      before = await memcachedSnapshot(memcached);
      await exchangeBytes(memcached.port, memcachedGetkqBatch(keys.slice(0, 3)), noopSeen);
      expect(await memcachedActivitySince(memcached, before)).toMatchObject({ gets: 3, newConnections: 1, bytesRead: getkqBatchBytes(keys.slice(0, 3)) });

      const stats = await memcachedStats(memcached);
      for (const name of ['cmd_get', 'get_hits', 'get_misses', 'get_flushed', 'cmd_set', 'total_connections', 'bytes_read', 'conn_yields']) {
        expect(stats[name]).toMatch(/^\d+$/);
      }
      expect(await serverSocketCounters(memcached)).toEqual([expect.objectContaining({ peer: `127.0.0.1:${socket.localPort}` })]);
    } finally {
      socket.destroy();
    }
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('a test process killed by %s leaves no server and no temp dir behind', async (sig) => {
    // A plain node process running the harness (type-stripped by TypeScript)
    // plays a vitest fork worker, which vitest ends with SIGTERM, then SIGKILL.
    const work = mkdtempSync(join(tmpdir(), 'shardcache-harness-selftest-'));
    try {
      const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../harness/servers.ts'), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText;
      writeFileSync(join(work, 'servers.mjs'), js);
      writeFileSync(
        join(work, 'worker.mjs'),
        `import { startMemcached, startRedis } from './servers.mjs';
        const [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
        memcached.pause();
        console.log(JSON.stringify({ pids: [redis.pid, memcached.pid], dirs: [redis.dir, memcached.dir] }));
        setInterval(() => {}, 1000);`,
      );
      const worker = spawn(process.execPath, [join(work, 'worker.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => worker.once('exit', (_code, signal) => resolve(signal)));
      const started = await new Promise<{ pids: number[]; dirs: string[] }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('worker did not start its servers within 5 s')), 5000);
        let out = '';
        worker.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(JSON.parse(out) as { pids: number[]; dirs: string[] });
          }
        });
      });
      expect(started.pids.every(alive)).toBe(true);

      worker.kill(sig);
      expect(await exited).toBe(sig);
      expect(await eventually(() => !started.pids.some(alive), 3000)).toBe(true);
      expect(await eventually(() => !started.dirs.some((dir) => existsSync(dir)), 1000)).toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('stopAll() leaves no process, no temp dir and no open handle', async () => {
    const extra = await startMemcached();
    extra.pause(); // a stopped process must be stopped too
    const servers = [redis, memcached, extra];
    const pids = servers.map((s) => s.pid);
    await stopAll();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    for (const server of servers) {
      expect(server.running).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
    }
    await new Promise((resolve) => setImmediate(resolve)); // let destroyed sockets close
    expect(liveHandles()).toEqual(baselineHandles);
  });
});
