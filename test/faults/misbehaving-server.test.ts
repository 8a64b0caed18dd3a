/**
 * A misbehaving server for each wire protocol (Redis RESP2, memcached binary),
 * on a loopback port, as the first of three nodes (the other two are real
 * servers): garbage, a truncated frame, a 2^31 length prefix, a reply to a
 * request never sent, a server that never answers, one that trickles a byte
 * per 100 ms. For each: reads never reject and answer misses, a write
 * rejects with a typed error, the node's failures are counted and it is
 * ejected, memory stays within the reply guard's bound, and once a real
 * server takes the port a probe brings the node back.
 *
 * Memory is sampled throughout (process.memoryUsage(), and memjs's own read
 * buffer, which the memcached guard bounds) and written to
 * .tmp/misbehaving-summary.json. Nothing here asserts how fast anything was.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import memjs from 'memjs';
import type { Server as MemjsServer } from 'memjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPLY_FRAMING_BYTES } from '../../src/backends/reply-guard.js';
import { createCache, DeadlineError, NodeError, ShardcacheError, type ShardcacheEvents, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { MISBEHAVIOURS, startMisbehavingServer, type Misbehaviour, type MisbehavingServer, type WireProtocol } from '../harness/misbehaving-server.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';
import { nextEvent } from '../harness/events.js';

const MAX_VALUE_BYTES = 64 * 1024;
/** The reply guard's bound for this cache: no reply element longer than this is buffered. */
const FRAME_LIMIT_BYTES = MAX_VALUE_BYTES + REPLY_FRAMING_BYTES;
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 },
  health: { failureLimit: 2, retryTimeoutMs: 100, maxRetryTimeoutMs: 400, probeTimeoutMs: 300, maxEjectedFraction: 0.5, failoverTtlSeconds: 60 },
  // Out of the way: ejection, not the breaker, is what these tests watch.
  breaker: { volumeThreshold: 1000 },
  maxValueBytes: MAX_VALUE_BYTES,
};
/**
 * `huge-length`: filler the server may get out before the client hangs up.
 * The client drops the connection on the header; what it can still be sent
 * is a few 64 KiB ticks. A client that believed the header would read on
 * until its deadlines replaced the connection: megabytes at 32 MiB/s.
 */
const STREAMED_BEFORE_HANGUP_BOUND = 1024 * 1024;
/**
 * Growth of the process's Buffer memory over a case. With the guard it stayed
 * under 1 MiB (the harness server and three clients share the process);
 * with the guard switched off, a `huge-length` server got 8.8 MiB (Redis) and
 * 10.7 MiB (memcached) into the client before its deadlines replaced the
 * connection.
 */
const ARRAY_BUFFER_GROWTH_BOUND = 4 * 1024 * 1024;
const SAMPLE_EVERY_MS = 5;

/** How the first write to the misbehaving node fails. */
type Failure = 'protocol' | 'unavailable' | 'deadline';
const WRITE_FAILURE: Record<WireProtocol, Record<Misbehaviour, Failure>> = {
  redis: {
    garbage: 'protocol',
    // The server closes the connection mid-reply: ioredis fails what was waiting on it.
    truncated: 'unavailable',
    'huge-length': 'protocol',
    unsolicited: 'protocol',
    silent: 'deadline',
    trickle: 'deadline',
  },
  memcached: {
    garbage: 'protocol',
    // memjs does not fail requests when the server closes cleanly (FIN): the deadline does.
    truncated: 'deadline',
    'huge-length': 'protocol',
    unsolicited: 'protocol',
    silent: 'deadline',
    trickle: 'deadline',
  },
};

/**
 * Where the bad reply itself must fail the write (not the deadline), the
 * write gets a deadline a loaded machine cannot beat the reply to.
 */
function timeoutsFor(expected: Failure): ShardcacheOptions['timeouts'] {
  return expected === 'deadline' ? OPTIONS.timeouts : { ...OPTIONS.timeouts, setMs: 5_000 };
}

function expectFailure(error: unknown, expected: Failure): void {
  expect(error).toBeInstanceOf(ShardcacheError);
  if (expected === 'deadline') {
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as DeadlineError).code).toBe('SHARDCACHE_DEADLINE');
  } else {
    expect(error).toBeInstanceOf(NodeError);
    expect((error as NodeError).code).toBe('SHARDCACHE_NODE');
    expect((error as NodeError).reason).toBe(expected);
  }
}


function keysOwnedBy(cache: ShardedCache, address: string, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 100_000; i++) {
    if (cache.nodeFor(`${prefix}:${i}`) === address) keys.push(`${prefix}:${i}`);
  }
  return keys;
}

interface MemoryPeaks {
  heapUsed: { baseline: number; peak: number };
  arrayBuffers: { baseline: number; peak: number };
  rss: { baseline: number; peak: number };
}

/** Samples process memory every SAMPLE_EVERY_MS until `stop()`, which returns the peaks. */
function sampleMemory(): { stop(): MemoryPeaks } {
  const first = process.memoryUsage();
  const peaks: MemoryPeaks = {
    heapUsed: { baseline: first.heapUsed, peak: first.heapUsed },
    arrayBuffers: { baseline: first.arrayBuffers, peak: first.arrayBuffers },
    rss: { baseline: first.rss, peak: first.rss },
  };
  const sample = () => {
    const now = process.memoryUsage();
    peaks.heapUsed.peak = Math.max(peaks.heapUsed.peak, now.heapUsed);
    peaks.arrayBuffers.peak = Math.max(peaks.arrayBuffers.peak, now.arrayBuffers);
    peaks.rss.peak = Math.max(peaks.rss.peak, now.rss);
  };
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/**
 * The largest `responseBuffer` any memjs `Server` held after a read: the
 * prototype's handler is wrapped (servers created meanwhile pick it up; the
 * guard hands it only what passed), and put back by `restore()`.
 */
function watchMemjsBuffers(): { peak: number; restore(): void } {
  const prototype = memjs.Server.prototype as MemjsServer;
  const original = prototype.responseHandler;
  const watch = {
    peak: 0,
    restore: () => {
      prototype.responseHandler = original;
    },
  };
  prototype.responseHandler = function (this: MemjsServer, chunk: Buffer) {
    original.call(this, chunk);
    watch.peak = Math.max(watch.peak, this.responseBuffer.length);
  };
  return watch;
}

interface CaseRecord {
  protocol: WireProtocol;
  mode: Misbehaviour;
  writeError: { name: string; code: string; reason?: string };
  node: { errors: number; timeouts: number; consecutiveFailuresAtEjection: number };
  memory: MemoryPeaks;
  /** memcached: the largest memjs read buffer during the case. */
  memjsResponseBufferPeak?: number;
  /** huge-length: the most filler one connection was sent before the client hung up. */
  streamedBeforeHangupMax?: number;
  serverConnections: number;
  serverBytesWritten: number;
  /** From the real server's start to the node's re-admission (recorded, not asserted). */
  recoveryMs: number;
}

const records: CaseRecord[] = [];

afterAll(() => {
  if (records.length === 0) return;
  const dir = join(process.cwd(), '.tmp');
  mkdirSync(dir, { recursive: true });
  const peakHeapUsed = Math.max(...records.map((r) => r.memory.heapUsed.peak));
  const peakArrayBuffers = Math.max(...records.map((r) => r.memory.arrayBuffers.peak));
  const summary = {
    writtenAt: new Date().toISOString(),
    node: process.version,
    maxValueBytes: MAX_VALUE_BYTES,
    frameLimitBytes: FRAME_LIMIT_BYTES,
    peakHeapUsedBytes: peakHeapUsed,
    peakArrayBuffersBytes: peakArrayBuffers,
    cases: records,
  };
  writeFileSync(join(dir, 'misbehaving-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
});

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s: a misbehaving server', (backend, start) => {
  let healthy: ServerProcess[];
  let memjsBuffers: { peak: number; restore(): void } | undefined;
  let handlesBefore: HandleCounts;
  let unexpected: unknown[];
  const recordUnexpected = (error: unknown) => unexpected.push(error);

  beforeAll(async () => {
    healthy = await Promise.all([start(), start()]);
    if (backend === 'memcached') memjsBuffers = watchMemjsBuffers();
  });
  afterAll(async () => {
    memjsBuffers?.restore();
    await stopAll();
  });

  beforeEach(() => {
    unexpected = [];
    process.on('unhandledRejection', recordUnexpected);
    handlesBefore = openHandles();
  });

  afterEach(async () => {
    await expectNothingLeftOpen(handlesBefore);
    process.off('unhandledRejection', recordUnexpected);
    expect(unexpected).toEqual([]);
  });

  it.each(MISBEHAVIOURS)('%s: reads miss, a write fails typed, the node is counted failed and ejected, memory stays bounded, a real server on its port brings it back', async (mode) => {
    const bad: MisbehavingServer = await startMisbehavingServer({ protocol: backend, mode });
    if (memjsBuffers) memjsBuffers.peak = 0;
    const memory = sampleMemory();
    let cache: ShardedCache | undefined;
    try {
      cache = await createCache({ backend, nodes: [bad.address, ...healthy.map((s) => s.address)], ...OPTIONS, timeouts: timeoutsFor(WRITE_FAILURE[backend][mode]) }, { env: {} });
      const badKeys = keysOwnedBy(cache, bad.address, 4, `${mode}:bad`);
      const [goodKey] = keysOwnedBy(cache, healthy[0]!.address, 1, `${mode}:good`);
      await cache.set(goodKey!, 'good');
      const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === bad.address);

      // A write to the node: the first failure, typed.
      const writeError: unknown = await cache.set(badKeys[0]!, 'value').then(
        () => undefined,
        (error: unknown) => error,
      );
      expectFailure(writeError, WRITE_FAILURE[backend][mode]);

      // A batch read: the second failure ejects the node, its keys are
      // retried on their new owners (misses), the healthy node's key is a hit.
      expect(await cache.mget([...badKeys, goodKey!])).toEqual([...badKeys.map(() => undefined), 'good']);
      // Single reads never reject either (bounded: the node is out after two failures).
      for (let attempt = 0; attempt < 10 && cache.nodeFor(badKeys[1]!) === bad.address; attempt++) {
        expect(await cache.get(badKeys[1]!)).toBeUndefined();
      }
      const ejection = await ejected;
      expect(ejection.consecutiveFailures).toBeGreaterThanOrEqual(OPTIONS.health!.failureLimit!);
      expect(badKeys.every((key) => cache!.nodeFor(key) !== bad.address)).toBe(true);
      expect(await cache.get(badKeys[2]!)).toBeUndefined();
      const node = cache.stats().nodes.find((n) => n.address === bad.address)!;
      expect(node.state).not.toBe('up');
      expect(node.requests.errors + node.requests.timeouts).toBeGreaterThanOrEqual(2);
      // Where the guard can tell, it tells at once: no request of those waited for its deadline.
      if (WRITE_FAILURE[backend][mode] === 'protocol') expect(node.requests.timeouts).toBe(0);

      // Memory: the guard's bound held, and nothing close to the flood offered got in.
      const streamedBeforeHangupMax = Math.max(0, ...bad.stats.streamed.map((s) => s.bytes));
      if (mode === 'huge-length') {
        expect(bad.stats.streamed.length).toBeGreaterThan(0);
        expect(bad.stats.streamed.some((s) => s.clientHungUp)).toBe(true);
        expect(streamedBeforeHangupMax).toBeLessThanOrEqual(STREAMED_BEFORE_HANGUP_BOUND);
      }
      if (memjsBuffers) expect(memjsBuffers.peak).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);

      // Recovery: a real server takes the port; a probe readmits the node.
      await bad.close();
      const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === bad.address);
      const realStarted = performance.now();
      await start({ port: bad.port });
      await readmitted;
      const recoveryMs = Math.round(performance.now() - realStarted);
      expect(cache.nodeFor(badKeys[0]!)).toBe(bad.address);
      await cache.set(badKeys[0]!, 'after recovery');
      expect(await cache.get(badKeys[0]!)).toBe('after recovery');
      expect(cache.stats().nodes.find((n) => n.address === bad.address)!.state).toBe('up');

      const peaks = memory.stop();
      expect(peaks.arrayBuffers.peak - peaks.arrayBuffers.baseline).toBeLessThanOrEqual(ARRAY_BUFFER_GROWTH_BOUND);
      records.push({
        protocol: backend,
        mode,
        writeError: {
          name: (writeError as Error).name,
          code: (writeError as ShardcacheError).code,
          ...(writeError instanceof NodeError ? { reason: writeError.reason } : {}),
        },
        node: { errors: node.requests.errors, timeouts: node.requests.timeouts, consecutiveFailuresAtEjection: ejection.consecutiveFailures },
        memory: peaks,
        ...(memjsBuffers ? { memjsResponseBufferPeak: memjsBuffers.peak } : {}),
        ...(mode === 'huge-length' ? { streamedBeforeHangupMax } : {}),
        serverConnections: bad.stats.connections,
        serverBytesWritten: bad.stats.bytesWritten,
        recoveryMs,
      });
    } finally {
      memory.stop();
      await cache?.close();
      await bad.close();
    }
  });
});
