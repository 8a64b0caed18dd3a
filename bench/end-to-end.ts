/**
 * End to end (issue 18): the product service of examples/product-service
 * over a real PostgreSQL and three real Redis (or Memcached) nodes, driven
 * by autocannon at a fixed rate (lib/e2e-load.ts), through a timeline of
 * phases and faults:
 *
 *   no cache        the same service with PRODUCT_CACHE=off: every read is a query
 *   cold            shardcache in front, cache empty
 *   (warm-up pass)  every product read once in batches of 100, as a deploy's warm-up would
 *   warm            the steady state
 *   one node hung   SIGSTOP on one cache node for the whole phase
 *   node back       SIGCONT
 *   node killed     SIGKILL on another node, restarted empty a few seconds later
 *
 * Per phase: requests/s, HTTP p50/p99/max, HTTP errors, database queries/s
 * (PostgreSQL's own statement count, pg_stat_statements), cache hit rate,
 * stale products. Every response is checked against the versions updates
 * acknowledged before its request was sent, and a final pass reads every
 * updated product once more. A timeline SVG (src/tools/timeline-chart.ts)
 * shows latency, database load and hit rate per second, faults marked.
 *
 * Targets: warm database load <= 10% of the no-cache phase's at the same
 * rate; while a node hangs, HTTP p99 <= warm p99 + 2 x the GET deadline, no
 * HTTP error, no stale product; after the kill, no HTTP error (the database
 * spike is reported: its peak, its extra queries and how long it lasts).
 * Exits 1 when a target is missed.
 *
 *   npm run bench -- end-to-end [--quick]          from the repo root, through run-all
 *   cd bench && npx tsx end-to-end.ts [--quick] [--backend=memcached] [--rate=N] [--phase-seconds=N] [--get-ms=N] [--json[=path]] [--svg=path]
 *
 * The service runs the built package (dist/, rebuilt here first), as its
 * README says. PostgreSQL runs with synchronous_commit=off (commits are
 * logged, flushed in the background). Cache options: shardcache's defaults
 * (GET deadline 10 ms) except faster probes (SHARDCACHE_HEALTH_RETRY_TIMEOUT_MS
 * 3000, _MAX_RETRY_TIMEOUT_MS 6000, breaker reset 5000), so the phases see
 * nodes leave and return, as the soak does.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, statementCalls, type PostgresServer } from '../test/harness/postgres.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../test/harness/servers.js';
import type { TimelineEvent, TimelinePhase } from '../src/tools/timeline-chart.js';
import { drive, Recorder, VersionLedger } from './lib/e2e-load.js';
import type { CounterSample, PhaseWindow } from './lib/e2e-report.js';
import { ServiceProcess } from './lib/e2e-service.js';
import { judge } from './lib/e2e-verdict.js';
import { seededRandom, zipfSampler } from './lib/zipf.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = argv.includes('--quick');
const BACKEND = (flag('backend') ?? 'redis') as 'redis' | 'memcached';
/** Low enough that the no-cache phase keeps up on a shared 2-core machine. */
const RATE = Number(flag('rate') ?? 200);
const PHASE_SECONDS = Number(flag('phase-seconds') ?? (QUICK ? 8 : 30));
const PRODUCTS = 100_000;
/** The cache's GET deadline: shardcache's default unless `--get-ms` says otherwise. */
const GET_DEADLINE_MS = Number(flag('get-ms') ?? 10);
const RESTART_AFTER_MS = QUICK ? 2_000 : 3_000;
const TOKEN = 'end-to-end-bench-admin-token';
const root = fileURLToPath(new URL('..', import.meta.url));
const SVG = flag('svg') ?? (QUICK ? join(tmpdir(), 'shardcache-end-to-end-quick.svg') : join(root, 'docs', 'end-to-end-timeline.svg'));
const JSON_PATH = argv.includes('--json') ? join(root, 'bench', 'results', 'end-to-end.json') : flag('json');
/** The whole run, bounded: startup, seven steps, the final pass. */
const LIMIT_MS = 180_000 + 7 * (PHASE_SECONDS + 5) * 1000;

if (!['redis', 'memcached'].includes(BACKEND) || !(RATE > 0) || !(PHASE_SECONDS >= 3) || !(GET_DEADLINE_MS >= 1)) {
  throw new Error(`--backend is redis or memcached, --rate > 0, --phase-seconds >= 3, --get-ms >= 1 (got ${BACKEND}, ${RATE}, ${PHASE_SECONDS}, ${GET_DEADLINE_MS})`);
}

const started = performance.now();
const clock = () => performance.now() - started;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const abort = new AbortController();

async function main(): Promise<boolean> {
  console.log(`end to end: ${BACKEND}, ${RATE} requests/s, ${PHASE_SECONDS} s per phase, GET deadline ${GET_DEADLINE_MS} ms; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)} at the start (a shared machine: absolute figures move with the neighbours)`);
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', timeout: 180_000 });
  if (build.status !== 0) throw new Error('building shardcache (npm run build) failed');

  const startNode = BACKEND === 'redis' ? startRedis : startMemcached;
  let postgres: PostgresServer | undefined;
  let nodes: ServerProcess[] = [];
  const services: ServiceProcess[] = [];
  let db: pg.Client | undefined;
  try {
    [postgres, ...nodes] = await Promise.all([startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', max_connections: '40' } }), startNode(), startNode(), startNode()]);
    const common = { DATABASE_URL: postgres.url, SEED_PRODUCTS: String(PRODUCTS), PG_POOL_MAX: '10' };
    const plain = await ServiceProcess.start('the service without a cache', { ...common, PRODUCT_CACHE: 'off' }, clock);
    services.push(plain);
    const cached = await ServiceProcess.start(
      'the service with shardcache',
      {
        ...common,
        SHARDCACHE_BACKEND: BACKEND,
        SHARDCACHE_NODES: nodes.map((node) => node.address).join(','),
        SHARDCACHE_ADMIN_TOKEN: TOKEN,
        SHARDCACHE_TIMEOUT_GET_MS: String(GET_DEADLINE_MS),
        SHARDCACHE_HEALTH_RETRY_TIMEOUT_MS: '3000',
        SHARDCACHE_HEALTH_MAX_RETRY_TIMEOUT_MS: '6000',
        SHARDCACHE_BREAKER_RESET_TIMEOUT_MS: '5000',
      },
      clock,
    );
    services.push(cached);
    db = new pg.Client({ connectionString: postgres.url });
    db.on('error', () => {});
    await db.connect();

    const ledger = new VersionLedger();
    const recorder = new Recorder(clock);
    const random = seededRandom(12345);
    const rank = zipfSampler(PRODUCTS, 0.99, random);
    const productId = () => rank() + 1;
    const sample = async (): Promise<CounterSample> => {
      const ms = clock();
      const dbCalls = await statementCalls(db!, 'products');
      const stats = await fetch(`${cached.url}/cache/stats`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(2_000) })
        .then(async (r) => ((await r.json()) as { reads: NonNullable<CounterSample['reads']> }).reads)
        .catch(() => undefined);
      return { ms, dbCalls, ...(stats ? { reads: stats } : {}), stale: ledger.stale };
    };
    const samples: CounterSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && !abort.signal.aborted) {
        samples.push(await sample());
        await sleep(1000);
      }
    })();

    const phases: PhaseWindow[] = [];
    const bands: TimelinePhase[] = [];
    const events: TimelineEvent[] = [];
    const mark = (label: string) => events.push({ t: clock() / 1000, label, kind: 'fault' });
    const runPhase = async (name: string, service: ServiceProcess, fault?: () => Promise<void> | void, later?: { afterMs: number; act: () => Promise<void> }) => {
      if (abort.signal.aborted) return;
      await fault?.();
      const start = await sample();
      const load = drive({ url: service.url, rate: RATE, seconds: PHASE_SECONDS, random, productId, ledger, recorder, signal: abort.signal });
      if (later) await sleep(later.afterMs).then(later.act);
      await load;
      const end = await sample();
      phases.push({ name, usesCache: service === cached, start, end });
      bands.push({ name, from: start.ms / 1000, to: end.ms / 1000 });
      console.log(`  ${name}: done at ${(end.ms / 1000).toFixed(0)} s`);
    };

    const [hung, killed] = [nodes[0]!, nodes[1]!];
    await runPhase('no cache', plain);
    await runPhase('cold', cached);
    // Warm: every product read once; once every node serves again (the pass is heavy, a starved
    // machine can eject a node during it), once more to refill what such an ejection lost.
    const warmFrom = clock() / 1000;
    await warmUp(cached.url);
    await allNodesServing(cached.url);
    await warmUp(cached.url);
    bands.push({ name: 'warm-up', from: warmFrom, to: clock() / 1000 });
    await runPhase('warm', cached);
    await runPhase('one node hung', cached, () => {
      hung.pause();
      mark(`SIGSTOP ${hung.address}`);
    });
    await runPhase('node back', cached, () => {
      hung.resume();
      mark(`SIGCONT ${hung.address}`);
    });
    await runPhase('node killed, restarted empty', cached, async () => {
      await killed.kill();
      mark(`SIGKILL ${killed.address}`);
    }, {
      afterMs: RESTART_AFTER_MS,
      act: async () => {
        await killed.restart();
        mark(`${killed.address} restarted empty`);
      },
    });
    sampling = false;
    await sampler;

    // Every product updated in the run, read once more now that every update has been answered.
    const updated = ledger.updated();
    for (let i = 0; i < updated.length && !abort.signal.aborted; i += 100) {
      const slice = updated.slice(i, i + 100);
      const body = (await (await fetch(`${cached.url}/products?ids=${slice.map(([id]) => id).join(',')}`)).json()) as { products: { id: number; version: number }[] };
      body.products.forEach((product, j) => ledger.check(product.id, product.version, slice[j]![1], 'the final read'));
    }
    for (const line of cached.lines) {
      const seen = /cache node (\S+) (ejected|back on the ring)/.exec(line.text);
      if (seen) events.push({ t: line.ms / 1000, label: `${seen[1]} ${seen[2]} (the service saw)`, kind: 'observed' });
    }
    const loads = ((await (await fetch(`${cached.url}/cache/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { loads: { writeBackFailures: number } }).loads;
    const metrics = await (await fetch(`${cached.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    return judge({ phases, recorder, samples, bands, events, ledger, metrics, writeBackFailures: loads.writeBackFailures }, { backend: BACKEND, rate: RATE, products: PRODUCTS, phaseSeconds: PHASE_SECONDS, getDeadlineMs: GET_DEADLINE_MS, svg: SVG, json: JSON_PATH });
  } finally {
    await db?.end().catch(() => {});
    await Promise.allSettled(services.map((service) => service.stop()));
    await postgres?.stop().catch((error: unknown) => console.error(`stopping PostgreSQL: ${(error as Error).message}`));
    await stopAll();
  }
}

/** Waits (at most 20 s) until the cached service's health says every node serves. */
async function allNodesServing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 40 && !abort.signal.aborted; attempt++) {
    const health = (await (await fetch(`${url}/cache/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { status: string };
    if (health.status === 'up') return;
    await sleep(500);
  }
}

/** Every product read once through the cached service, 100 per request, 4 requests at a time. */
async function warmUp(url: string): Promise<void> {
  let next = 1;
  const worker = async () => {
    while (next <= PRODUCTS && !abort.signal.aborted) {
      const from = next;
      next += 100;
      const ids = Array.from({ length: Math.min(100, PRODUCTS - from + 1) }, (_, i) => from + i);
      const response = await fetch(`${url}/products?ids=${ids.join(',')}`, { signal: AbortSignal.timeout(30_000) });
      if (response.status !== 200) throw new Error(`warm-up read of ${from}.. answered HTTP ${response.status}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

const limit = setTimeout(() => {
  console.error(`end-to-end: over ${LIMIT_MS / 1000} s; stopping the load`);
  abort.abort();
}, LIMIT_MS);
main()
  .then((ok) => {
    if (!ok || abort.signal.aborted) process.exitCode = 1;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(limit));
