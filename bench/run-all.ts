/**
 * Builds shardcache with tsc (lib/sut.ts says why), then runs every
 * benchmark in sequence, each in its own Node process (clean JIT and heap),
 * and prints a summary. Flags are passed through:
 *
 *   npm run bench                       # from the repo root: install bench deps, full run
 *   npm run bench -- --quick            # smoke run, well under a minute
 *   npm run bench -- soak --minutes 1   # only the named benchmarks (same as --only=soak)
 *   npx tsx run-all.ts [--quick] [--json] [--only=ring-lookup,mget] [name...]
 *   npm run bench -- --compare          # rerun, flag ratios whose 95% interval is now below bench/baseline.json's
 *   npm run bench -- --record           # rerun and write bench/baseline.json (the run BENCHMARKS.md reports)
 *
 * The soak (10 minutes by default, `--minutes N`) and the end-to-end run
 * (about 5 minutes: PostgreSQL, three cache nodes, the product service and
 * seven phases of load) run only when named: in the default run they would
 * more than double the time `npm run bench` takes.
 *
 *   npm run bench -- end-to-end --quick   # about 2 minutes
 *
 * Each child is bounded in time and killed by PID if it overruns.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareToBaseline, describeVerdict, parseBaseline, ratiosOf, type RecordedRatio } from './lib/baseline.js';

const BENCHMARKS = ['ring-lookup', 'single-get', 'concurrent-gets', 'mget', 'hung-node', 'local-tier', 'replication', 'tls-gets'] as const;
/** Run only when named (`--only=soak` or `soak`). */
const ON_REQUEST = ['soak', 'end-to-end'] as const;
const KNOWN: readonly string[] = [...BENCHMARKS, ...ON_REQUEST];
/** Node flags a benchmark needs (the soak forces a full GC before each memory sample). */
const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = { soak: ['--expose-gc'] };
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const COMPARE = args.includes('--compare');
const RECORD = args.includes('--record');
const OWN_FLAGS: readonly string[] = ['--compare', '--record'];
const named = args.filter((a) => KNOWN.includes(a));
const onlyFlag = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const only = onlyFlag || named.length > 0 ? [...(onlyFlag ?? []), ...named] : undefined;
const passThrough = args.filter((a) => !a.startsWith('--only=') && !KNOWN.includes(a) && !OWN_FLAGS.includes(a));
const LIMIT_MS = QUICK ? 120_000 : 900_000;
/** The value of `--name N` or `--name=N` among the arguments, if given. */
function flagValue(name: string): string | undefined {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  return at === -1 ? undefined : args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1];
}
/** The soak's own length plus 3 minutes for servers, the final pass and the report; the end-to-end run's phases plus 4 minutes. */
function limitMs(name: string): number {
  if (name === 'end-to-end') {
    const seconds = Number(flagValue('--phase-seconds') ?? (QUICK ? 8 : 30));
    return 240_000 + 7 * ((Number.isFinite(seconds) && seconds > 0 ? seconds : 30) + 10) * 1000;
  }
  if (name !== 'soak') return LIMIT_MS;
  const minutes = Number(flagValue('--minutes') ?? (QUICK ? 1 : 10));
  return (Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : 600_000) + 180_000;
}
const here = fileURLToPath(new URL('.', import.meta.url));
const BASELINE = join(here, 'baseline.json');
/** Where each benchmark writes its JSON when ratios are compared or recorded. */
const ratiosDir = COMPARE || RECORD ? mkdtempSync(join(tmpdir(), 'shardcache-bench-')) : undefined;

function version(command: string, flag: string): string {
  // Some print their version on stderr (nutcracker), some on stdout.
  const result = spawnSync(command, [flag], { encoding: 'utf8', timeout: 5_000 });
  if (result.error) return `${command}: not found`;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0]!;
}

function runOne(name: string): Promise<{ name: string; code: number | null; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const json = ratiosDir === undefined ? [] : [`--json=${join(ratiosDir, `${name}.json`)}`];
    const child = spawn(process.execPath, [...(NODE_FLAGS[name] ?? []), '--import', 'tsx', `${name}.ts`, ...passThrough, ...json], { cwd: here, stdio: 'inherit' });
    const limit = limitMs(name);
    const timer = setTimeout(() => {
      console.error(`run-all: ${name} exceeded ${limit / 1000} s; killing pid ${child.pid}`);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }, limit);
    const forward = (sig: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', (error) => console.error(`run-all: ${name}: ${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ name, code: signal ? 1 : code, seconds: (performance.now() - started) / 1000 });
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpus();
  console.log(`# shardcache benchmarks${QUICK ? ' (quick)' : ''}, ${new Date().toISOString()}`);
  console.log(`${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${version('redis-server', '--version')}; ${version('memcached', '-V')}; ${version(process.env['NUTCRACKER'] ?? '/usr/sbin/nutcracker', '-V')}`);
  const [load1] = loadavg();
  if (load1! > 0.5) console.log(`note: load average ${load1!.toFixed(2)} before starting; other work on this machine skews absolute numbers (ratios are interleaved and suffer less)`);
  // shardcache as users run it: compiled by tsc (see lib/sut.ts).
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: here, stdio: 'inherit', timeout: 120_000 });
  if (build.status !== 0) {
    console.error(`run-all: building shardcache for the benchmarks failed (${build.error?.message ?? `exit ${build.status}`})`);
    process.exitCode = 1;
    return;
  }
  const results = [];
  if (only) {
    const unknown = only.filter((name) => !KNOWN.includes(name));
    if (unknown.length > 0) {
      console.error(`run-all: no benchmark named ${unknown.join(', ')} (known: ${KNOWN.join(', ')})`);
      process.exitCode = 1;
      return;
    }
  }
  for (const name of only ? KNOWN : BENCHMARKS) {
    if (only && !only.includes(name)) continue;
    console.log(`\n# ${name}`);
    results.push(await runOne(name));
  }
  console.log('\n# summary');
  for (const r of results) console.log(`${r.name.padEnd(16)} ${r.code === 0 ? 'ok    ' : `FAILED (${r.code})`} ${r.seconds.toFixed(1)} s`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (results.some((r) => r.code !== 0)) process.exitCode = 1;
  if (ratiosDir !== undefined) {
    try {
      if (!checkRatios(results.map((r) => r.name), ratiosDir)) process.exitCode = 1;
    } finally {
      rmSync(ratiosDir, { recursive: true, force: true });
    }
  }
}

/** --record writes the run's ratios to baseline.json; --compare checks them against it. False when a ratio regressed. */
function checkRatios(names: readonly string[], dir: string): boolean {
  const now: Record<string, RecordedRatio> = {};
  for (const name of names) {
    const path = join(dir, `${name}.json`);
    if (existsSync(path)) Object.assign(now, ratiosOf(name, JSON.parse(readFileSync(path, 'utf8'))));
  }
  console.log('\n# ratios against the baseline');
  if (RECORD) {
    const recorded = `run of ${new Date().toISOString()}, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`;
    writeFileSync(BASELINE, `${JSON.stringify({ recorded, quick: QUICK, ratios: now }, null, 2)}\n`);
    console.log(`${Object.keys(now).length} ratios recorded in ${BASELINE}`);
    return true;
  }
  if (!existsSync(BASELINE)) {
    console.error(`run-all: --compare needs ${BASELINE}; record one with --record`);
    return false;
  }
  const baseline = parseBaseline(readFileSync(BASELINE, 'utf8'));
  const verdict = compareToBaseline(baseline, now);
  for (const line of describeVerdict(verdict, baseline, QUICK)) console.log(line);
  return verdict.regressed.length === 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
