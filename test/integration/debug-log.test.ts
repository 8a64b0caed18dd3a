/**
 * NODE_DEBUG=shardcache (Node's util.debuglog convention) prints one line
 * per event that is otherwise only counted, and never a key, a value or an
 * error message that could quote them. It is read once when the process
 * starts, so this runs the built package in a child process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNodeScript } from '../harness/node-script.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const SCRIPT = `
import { createCache } from './dist/index.js';
import { pauseMemoryNode } from './dist/testing.js';
const nodes = ['mem-a:1', 'mem-b:2', 'mem-c:3'];
const leaky = { encode: (v) => Buffer.from(String(v)), decode: (b) => { throw new SyntaxError('cannot read ' + b.toString()); } };
const cache = await createCache({ backend: 'memory', nodes, codec: leaky, timeouts: { getMs: 20, setMs: 20 }, health: { failureLimit: 1, retryTimeoutMs: 60000 } }, { env: {} });
await cache.set('secret-key-1', 'secret-value-1');
await cache.get('secret-key-1');
const quiet = await createCache({ backend: 'memory', nodes, timeouts: { getMs: 20, setMs: 20 }, health: { failureLimit: 5, maxEjectedFraction: 0 } }, { env: {} });
pauseMemoryNode(quiet, quiet.nodeFor('secret-key-2'));
await quiet.getOrLoad('secret-key-2', () => 'secret-value-2');
await new Promise((resolve) => setTimeout(resolve, 100));
console.log(JSON.stringify({ undecodable: cache.stats().reads.undecodable, writeBackFailures: quiet.stats().loads.writeBackFailures }));
await cache.close();
await quiet.close();
`;

function run(env: Record<string, string>): ReturnType<typeof runNodeScript> {
  return runNodeScript(SCRIPT, { cwd: root, env, timeoutMs: 10_000 });
}

describe('NODE_DEBUG=shardcache', () => {
  it('prints one line per undecodable value and failed write-back, with nodes and codes but no keys or values', async () => {
    expect(existsSync(`${root}dist/index.js`), 'dist/ is missing: run npm run build (scripts/test-all.sh does)').toBe(true);
    const { stdout, stderr, code } = await run({ NODE_DEBUG: 'shardcache' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ undecodable: 1, writeBackFailures: 1 });
    const lines = stderr.trim().split('\n').filter((line) => line.startsWith('SHARDCACHE '));
    expect(lines.some((line) => /could not be decoded \(SyntaxError\)/.test(line))).toBe(true);
    expect(lines.some((line) => /write-back of 1 loaded value\(s\) failed \(SHARDCACHE_DEADLINE on mem-.:\d\)/.test(line))).toBe(true);
    expect(stderr).not.toMatch(/secret-(key|value)/);
  });

  it('prints nothing without it', async () => {
    const { stdout, stderr, code } = await run({});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ undecodable: 1, writeBackFailures: 1 });
    expect(stderr).toBe('');
  });
});
