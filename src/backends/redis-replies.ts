/**
 * What a Redis error reply says about the node. RESP error replies start
 * with an upper-case code word (`-WRONGTYPE ...`, `-LOADING ...`), the
 * protocol's error kind, and that word decides:
 *
 * - about the request itself (wrong type, bad arguments, not allowed for this
 *   user, unknown script): `rejected`, the node is healthy;
 * - the server cannot serve now (loading its dataset, replica without its
 *   master, busy running a script, failing over, cluster down, read-only
 *   replica, out of memory, cannot persist, a redirect to another node):
 *   `server`, which counts against the node. So does any code not known
 *   here: an unrecognised answer from the server is its problem, not the
 *   request's.
 * - A proxy in front of the node (twemproxy) reports an unreachable upstream
 *   as the generic `-ERR <strerror>`, so for ERR alone the text decides:
 *   those replies mean `unavailable`, any other ERR is about the request.
 */
import type { NodeError } from '../errors.js';

const REQUEST_CODES = new Set(['WRONGTYPE', 'ERR', 'NOPERM', 'NOSCRIPT', 'BUSYKEY', 'EXECABORT']);

/** Listed for the record (and its test); any code outside REQUEST_CODES counts against the node. */
export const SERVER_UNAVAILABLE_CODES: readonly string[] = ['LOADING', 'MASTERDOWN', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY', 'OOM', 'MISCONF', 'NOREPLICAS', 'MOVED', 'ASK'];

/** strerror() texts twemproxy (and proxies like it) put after `ERR` when the server behind it is unreachable. */
const PROXY_UPSTREAM_DOWN =
  /^ERR (connection refused|connection timed out|operation timed out|connection reset by peer|broken pipe|host is down|host is unreachable|no route to host|network is down|network is unreachable|server unavailable|no upstream host|upstream failure)\b/i;

export function redisReplyReason(message: string): NodeError['reason'] {
  const code = codeOf(message);
  if (code === 'ERR' && PROXY_UPSTREAM_DOWN.test(message)) return 'unavailable';
  return REQUEST_CODES.has(code) ? 'rejected' : 'server';
}

/** The reply's code word (`WRONGTYPE` of `WRONGTYPE Operation against a key...`). */
export function codeOf(message: string): string {
  const end = message.indexOf(' ');
  return end === -1 ? message : message.slice(0, end);
}
