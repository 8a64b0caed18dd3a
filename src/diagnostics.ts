/**
 * Per-operation diagnostics on `node:diagnostics_channel`. Publishing costs a
 * property read when nobody subscribes, so the hot path pays nothing for
 * observability it does not use. Messages carry the node and the operation,
 * never keys or values.
 */
import diagnostics from 'node:diagnostics_channel';

export type OperationOutcome = 'ok' | 'timeout' | 'error' | 'short-circuited';

export interface OperationMessage {
  /** Which cache in the process sent the request (the channel is process-wide). */
  readonly cache: number;
  readonly node: string;
  /** `get`, `getMany`, `set`, `setMany`, `del`, `delMany`; administration: `scanDelete`, `flush`, `counter`. */
  readonly operation: string;
  readonly outcome: OperationOutcome;
  readonly durationMs: number;
}

/** `shardcache:operation`: one message per request sent to (or refused for) a node. */
export const operationChannel = diagnostics.channel('shardcache:operation');
