// A cache in a child process, driven over IPC by a test (see cache-process.ts).
// It imports the built package: `npm run build` first (scripts/test-all.sh does).
import { createCache } from '../../dist/index.js';

const options = JSON.parse(process.argv[2]);
const cache = await createCache(options, { env: {} });

const operations = {
  get: (key) => cache.get(key),
  set: (key, value, ttl) => cache.set(key, value, ttl === undefined ? undefined : { ttl }),
  del: (key) => cache.del(key),
  mget: (keys) => cache.mget(keys),
  invalidate: (pattern) => cache.invalidate(pattern),
  invalidateNamespace: (name) => cache.invalidateNamespace(name),
  clear: () => cache.clear(),
  namespaceGet: (name, key) => cache.namespace(name).get(key),
  namespaceSet: (name, key, value) => cache.namespace(name).set(key, value),
  stats: () => cache.stats(),
  nodeFor: (key) => cache.nodeFor(key),
  close: async () => {
    await cache.close();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    const result = await operations[op](...args);
    process.send({ id, result: result === undefined ? { undefined: true } : { value: result } });
  } catch (error) {
    process.send({ id, error: `${error?.name}: ${error?.message}` });
  }
});
process.send({ ready: true });
