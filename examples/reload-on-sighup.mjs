// A cache whose nodes follow its config file: edit the file's "nodes", then
// `kill -HUP <pid>`; the pool changes live (cache.setNodes), only the keys
// the change moves change owner, and with "warmup" in the file they are
// warmed from their previous nodes.
//
//   npm run build
//   echo '{ "backend": "memory", "nodes": ["a:1", "b:1", "c:1"], "warmup": { "durationMs": 300000 } }' > /tmp/cache.json
//   node examples/reload-on-sighup.mjs /tmp/cache.json
import { createCache } from 'shardcache';
import { reloadNodesOnSignal } from './node-reload.mjs';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node examples/reload-on-sighup.mjs <config.json>');
  process.exit(1);
}
const cache = await createCache(configPath);
const reloading = reloadNodesOnSignal(cache, configPath);
console.log(`pid ${process.pid}: kill -HUP ${process.pid} reloads the nodes of ${configPath}; Ctrl-C stops`);
process.once('SIGINT', async () => {
  reloading.stop();
  await cache.close();
});
