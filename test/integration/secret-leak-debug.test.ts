/**
 * NODE_DEBUG lines (shardcache's own, and Node's tls and net sections) while
 * logins and TLS set-ups fail against real servers carry no secret.
 * NODE_DEBUG is read once when a process starts, so the built package runs
 * in a child process; the servers are this test's, started by the harness.
 * (test/faults/tls-auth-failures.test.ts covers every other place a user
 * could see a secret.)
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, startSecureMemcached, startTlsRedis, testSecret, type TestPki } from '../harness/secure-servers.js';
import { stopAll, type ServerProcess } from '../harness/servers.js';
import { runNodeScript } from '../harness/node-script.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = testSecret('pw');
const WRONG = testSecret('wrong');

/** Each backend: a wrong password on one node, then a wrong CA on all; every outcome printed to stdout. */
const SCRIPT = `
import { readFileSync } from 'node:fs';
import { createCache } from './dist/index.js';
const { REDIS, MEMCACHED, CA_FILE, OTHER_CA_FILE, PASSWORD, WRONG } = process.env;
const timeouts = { getMs: 3000, setMs: 3000, connectMs: 5000 };
const health = { failureLimit: 2, retryTimeoutMs: 60000 };
const out = [];
for (const [backend, address] of [['redis', REDIS], ['memcached', MEMCACHED]]) {
  const [host, port] = address.split(':');
  const cache = await createCache({ backend, nodes: ['app:' + PASSWORD + '@' + address, { host: 'localhost', port: Number(port), auth: { username: 'app', password: WRONG }, tls: { ca: readFileSync(CA_FILE), servername: host } }], tls: { ca: readFileSync(CA_FILE) }, timeouts, health }, { env: {} });
  for (let i = 0; i < 20; i++) {
    await cache.set('k' + i, i).catch((error) => out.push(String(error)));
    out.push(String(await cache.get('k' + i)));
  }
  out.push(JSON.stringify(cache.health()));
  await cache.close();
  await createCache({ backend, nodes: [address], tls: { ca: readFileSync(OTHER_CA_FILE) }, auth: { username: 'app', password: PASSWORD }, timeouts }, { env: {} }).catch((error) => out.push(String(error)));
}
console.log(JSON.stringify(out));
`;

let pki: TestPki;
let redis: ServerProcess;
let memcached: ServerProcess;

beforeAll(async () => {
  pki = makeTestPki();
  [redis, memcached] = await Promise.all([startTlsRedis(pki, [{ username: 'app', password: PASSWORD }]), startSecureMemcached(pki, { users: [{ username: 'app', password: PASSWORD }] })]);
});
afterAll(async () => {
  await stopAll();
  pki?.remove();
});

function run(env: Record<string, string>): ReturnType<typeof runNodeScript> {
  return runNodeScript(SCRIPT, { cwd: root, env, timeoutMs: 60_000 });
}

describe('NODE_DEBUG=shardcache,tls,net while logins and TLS fail', () => {
  it('prints the failures by node, code and reason, and no secret', async () => {
    expect(existsSync(`${root}dist/index.js`), 'dist/ is missing: run npm run build (scripts/test-all.sh does)').toBe(true);
    const { stdout, stderr, code } = await run({ NODE_DEBUG: 'shardcache,tls,net', REDIS: redis.address, MEMCACHED: memcached.address, CA_FILE: pki.caFile, OTHER_CA_FILE: pki.otherCaFile, PASSWORD, WRONG });
    expect(code, stderr.slice(-2000)).toBe(0);
    const outcomes = JSON.parse(stdout) as string[];
    expect(outcomes.filter((line) => line.startsWith('AuthError')).length, 'writes to the refusing node rejected').toBeGreaterThanOrEqual(2);
    expect(outcomes.filter((line) => /TlsError: .*not trusted/.test(line))).toHaveLength(2);
    const shardcacheLines = stderr.split('\n').filter((line) => line.startsWith('SHARDCACHE '));
    expect(shardcacheLines.some((line) => /localhost:\d+: SHARDCACHE_AUTH rejected/.test(line))).toBe(true);
    expect(stderr.split('\n').some((line) => line.startsWith('TLS ')), "Node's tls debug section printed").toBe(true);
    for (const secret of [PASSWORD, WRONG]) {
      expect(stderr.includes(secret), 'a secret in a NODE_DEBUG line').toBe(false);
      expect(stdout.includes(secret), 'a secret in an error or health()').toBe(false);
    }
  });
});
