// Reload a cache's node list from its JSON config file on a signal (SIGHUP
// by default): the file's "nodes" go to cache.setNodes(), so nodes are added,
// removed and re-weighted live. A file that cannot be read or holds a bad
// list leaves the pool as it was (and says so). Reloads run one at a time.
// shardcache itself installs no signal handler: this is the application's
// choice, shown here (see reload-on-sighup.mjs).
import { readFile } from 'node:fs/promises';

/**
 * @param {{ setNodes(nodes: unknown[]): Promise<{ added: string[]; removed: string[]; reweighted: string[] }> }} cache
 * @param {string} configPath a JSON file with a "nodes" array, as createCache reads it
 * @param {{ signal?: NodeJS.Signals; log?: (line: string) => void }} [options]
 * @returns {{ reload(): Promise<object | undefined>; stop(): void }} reload() runs one reload now; stop() removes the handler
 */
export function reloadNodesOnSignal(cache, configPath, { signal = 'SIGHUP', log = console.log } = {}) {
  let last = Promise.resolve(undefined);
  const reload = () => {
    last = last.then(async () => {
      try {
        const { nodes } = JSON.parse(await readFile(configPath, 'utf8'));
        const changes = await cache.setNodes(nodes);
        log(`nodes reloaded from ${configPath}: ${changes.added.length} added, ${changes.removed.length} removed, ${changes.reweighted.length} re-weighted`);
        return changes;
      } catch (error) {
        log(`nodes not reloaded from ${configPath} (the pool is unchanged): ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    });
    return last;
  };
  const onSignal = () => void reload();
  process.on(signal, onSignal);
  return { reload, stop: () => process.off(signal, onSignal) };
}
