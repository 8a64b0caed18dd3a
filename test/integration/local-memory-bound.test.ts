/**
 * The local tier's byte bound: 1,000,000 distinct keys read through a tier
 * of `maxBytes` 8 MiB (in a child process with --expose-gc, see
 * local-bound-worker.mjs). What it holds (encoded value sizes plus key
 * lengths) never goes over the bound, it evicts instead, and the largest
 * retained heap seen is reported (recorded in BENCHMARKS.md).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('../harness/local-bound-worker.mjs', import.meta.url));

describe('local tier memory bound', () => {
  it('holds at most maxBytes through 1,000,000 distinct keys', { timeout: 240_000 }, async () => {
    expect(existsSync(`${root}dist/index.js`), 'dist/ is missing: run npm run build (scripts/test-all.sh does)').toBe(true);
    const child = spawn(process.execPath, ['--expose-gc', WORKER], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 230_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(killer);
    expect(code).toBe(0);
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, number>;
    expect(result.overBound).toBe(0);
    expect(result.wrongValues).toBe(0);
    expect(result.largestBytes).toBeLessThanOrEqual(result.maxBytes!);
    expect(result.misses).toBe(result.keys);
    expect(result.evictions).toBe(result.keys! - result.entries!);
    const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
    console.log(
      `local tier, 1,000,000 keys through maxBytes 8 MiB: largest held ${result.largestBytes} bytes, ${result.entries} entries at the end, ${result.evictions} evicted; ` +
        `largest retained heap ${mib(result.largestHeap!)} MiB (${mib(result.heapBefore!)} MiB before the keys)`,
    );
  });
});
