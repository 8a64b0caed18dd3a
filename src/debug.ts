/**
 * `NODE_DEBUG=shardcache`: one line on stderr per event that is otherwise
 * only counted (a failed write-back, an undecodable value, a failed
 * clean-up) or only emitted (ejections, re-admissions). Node's own
 * convention (`util.debuglog`): silent and nearly free unless switched on.
 *
 * Lines name nodes and error codes, never keys, values or credentials: a
 * codec's or a wire client's message can quote the bytes it choked on, so
 * only the error's code and class are printed.
 */
import { debuglog } from 'node:util';
import { ShardcacheError } from './errors.js';

export const debug = debuglog('shardcache');

/** What went wrong, without the message: `SHARDCACHE_NODE unavailable on 10.0.0.1:6379`, `SyntaxError`. */
export function describeError(error: unknown): string {
  if (!(error instanceof ShardcacheError)) return error instanceof Error ? error.name : typeof error;
  const { reason, node } = error as { reason?: unknown; node?: unknown };
  let text = error.code;
  if (typeof reason === 'string') text += ` ${reason}`;
  if (typeof node === 'string') text += ` on ${node}`;
  return text;
}
