/** Types of node-reload.mjs, for TypeScript callers and tests. */
export interface NodeReloading {
  /** Runs one reload now; resolves with what changed, or undefined when the pool was left as it was. */
  reload(): Promise<{ added: string[]; removed: string[]; reweighted: string[] } | undefined>;
  /** Removes the signal handler. */
  stop(): void;
}

export function reloadNodesOnSignal(
  cache: { setNodes(nodes: string[]): Promise<{ added: string[]; removed: string[]; reweighted: string[] }> },
  configPath: string,
  options?: { signal?: NodeJS.Signals; log?: (line: string) => void },
): NodeReloading;
