/**
 * The ecosystem examples run as users run them (`node examples/...`, against
 * the built package): cache-manager over Keyv over shardcache, and an
 * OpenTelemetry span per getOrLoad with the database call as its child.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (example: string) =>
  promisify(execFile)(process.execPath, [`examples/${example}`], { cwd: root, env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 }).then(({ stdout }) => stdout);

describe('ecosystem examples', () => {
  it('is run against a built package', () => {
    expect(existsSync(`${root}dist/keyv.js`), 'dist/ is missing or stale: run npm run build (scripts/test-all.sh does)').toBe(true);
  });

  it('cache-manager: get, mget, wrap with one database call, del, clear, and exits after disconnect', async () => {
    const output = await run('cache-manager.mjs');
    expect(output).toContain('get greeting       -> hello');
    expect(output).toContain('mget a, b, missing -> [ 1, 2, undefined ]');
    expect(output).toContain('(database calls: 1)');
    expect(output).toContain('after del          -> undefined');
    expect(output).toContain('after clear        -> [ undefined, undefined ]');
  });

  it('OpenTelemetry: the getOrLoad span is the parent of the database span on a miss, and has none on a hit', async () => {
    const output = await run('opentelemetry.mjs');
    expect(output.trim().split('\n')).toEqual(['GET /users/1', '  shardcache getOrLoad key=user:1', '    SELECT users', '  shardcache getOrLoad key=user:1']);
  });
});
