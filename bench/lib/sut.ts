/**
 * The system under test: shardcache as users run it, compiled by tsc
 * (`npm run build` here writes bench/.build/shardcache from ../src with the
 * product's own tsconfig.build.json), not transpiled on the fly.
 *
 * Why: tsx transpiles with esbuild's keepNames, which wraps every function
 * expression in a `__name(fn, "name")` call that runs each time the closure
 * is created. The cache's hot paths create closures per request, and in a
 * profile of 1000 concurrent GETs `__name` alone took 3% of the CPU: a cost
 * users of the published package never pay, and the peers (plain JS in
 * node_modules) do not pay either.
 *
 * `SHARDCACHE_BENCH_FROM=src` loads ../src through tsx instead (no build).
 * Types always come from ../src.
 */
import { existsSync } from 'node:fs';
import type * as IndexModule from '../../src/index.js';
import type * as CreateCacheModule from '../../src/create-cache.js';
import type * as OptionsModule from '../../src/config/options.js';
import type * as RingModule from '../../src/ring/ring.js';
import type * as XxhashModule from '../../src/ring/xxhash.js';

const fromSource = process.env['SHARDCACHE_BENCH_FROM'] === 'src';
const built = new URL('../.build/shardcache/', import.meta.url);
if (!fromSource && !existsSync(new URL('index.js', built))) {
  throw new Error(`shardcache is not built for the benchmarks: run \`npm run build\` in bench/ (writes ${built.pathname}), or set SHARDCACHE_BENCH_FROM=src`);
}
const root = fromSource ? new URL('../../src/', import.meta.url) : built;

/** Where shardcache was loaded from, for the report. */
export const SUT_ORIGIN = fromSource ? 'src via tsx' : 'tsc build of src (bench/.build)';

export const { createCache } = (await import(new URL('index.js', root).href)) as typeof IndexModule;
/** Internal (not the public surface): a cache's nodes, for benchmarks that watch them (the soak's diagnostics). */
export const { nodesOf } = (await import(new URL('create-cache.js', root).href)) as typeof CreateCacheModule;
export const { DEFAULTS } = (await import(new URL('config/options.js', root).href)) as typeof OptionsModule;
export const { Ring } = (await import(new URL('ring/ring.js', root).href)) as typeof RingModule;
export const { loadXxhash32 } = (await import(new URL('ring/xxhash.js', root).href)) as typeof XxhashModule;
export type { ShardcacheOptions } from '../../src/index.js';
export type { RingMember } from '../../src/ring/ring.js';
export type Ring<M extends RingModule.RingMember> = RingModule.Ring<M>;
