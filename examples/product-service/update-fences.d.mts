// Types for update-fences.mjs.
export class UpdateFences {
  constructor(options: { holdMs: number; maxEntries?: number; now?: () => number });
  evicted: number;
  readonly size: number;
  record(id: number, version: number): void;
  isStale(id: number, version: number): boolean;
}
