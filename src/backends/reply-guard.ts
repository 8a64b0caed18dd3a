/**
 * Reply guards: what a server may send before the wire client buffers it.
 * A broken server, a proxy bug or another service on the node's port must
 * cost the client failed requests and a dropped connection, never an
 * unbounded buffer or a reply handed to the wrong request.
 *
 * The bound: no reply element longer than `maxValueBytes + REPLY_FRAMING_BYTES`
 * (64 KiB for headers, keys and extras) is buffered. The wire clients buffer
 * only the element they are reading, so that plus one socket read (64 KiB)
 * is the most either holds for an element in progress, whatever length a
 * server claims; a claim over the bound is refused at its header, before any
 * of the body is read.
 * - memcached binary protocol (memjs's `Server.responseBuffer` holds one
 *   incomplete frame): each frame is a 24-byte response header (magic 0x81,
 *   a body no shorter than its key and extras, at most the bound) whose
 *   opaque names a request still waiting for an answer.
 * - Redis RESP2 (ioredis's decoder holds the chunks of one incomplete bulk
 *   string or line): only `+ - : $ *` replies; lines end in CRLF and hold at
 *   most MAX_LINE_BYTES; bulk strings hold at most the bound, then CRLF;
 *   arrays hold at most MAX_ARRAY_ELEMENTS elements (ioredis preallocates
 *   the claimed length: `*5000000` alone costs 40 MB), nested at most
 *   MAX_ARRAY_DEPTH deep. An array's finished elements are its result, so
 *   one reply in progress holds at most MAX_ARRAY_ELEMENTS of them. And a
 *   read never completes more replies than there are commands waiting:
 *   RESP2 has no request ids, so an extra reply is caught when it arrives
 *   alone or with the replies it outnumbers, not when it comes first in a
 *   read of its own and is taken for a waiting command's reply.
 * Anything else is a protocol error: every request waiting on the connection
 * fails with `NodeError` reason `protocol` (which counts against the node)
 * and the connection is destroyed; the next request or probe opens a fresh
 * one.
 *
 * A value larger than `maxValueBytes` written by another client reads as
 * such a failure: pools shared with writers of larger values must raise
 * `maxValueBytes` to match. So would an MGET of more than MAX_ARRAY_ELEMENTS (resp-scanner.ts)
 * keys to one node.
 *
 * The scanners (resp-scanner.ts, memcached-scanner.ts) are pure (bytes in,
 * completed replies or a `ReplyViolation` out) and skip bulk bodies without
 * reading them; the guards here attach them to
 * the clients' sockets, relying on internals of memjs 1.3.2 (pinned exactly)
 * and on ioredis's public `stream`, `commandQueue` and
 * `recoverFromFatalError`.
 */
import type { Redis } from 'ioredis';
import type { Server as MemjsServer } from 'memjs';
import { NodeError } from '../errors.js';
import { MemcachedFrameScanner } from './memcached-scanner.js';
import { ReplyViolation } from './reply-violation.js';
import { RespReplyScanner } from './resp-scanner.js';

/** Room, beyond the value itself, for a reply's headers, key and extras. */
export const REPLY_FRAMING_BYTES = 64 * 1024;

/**
 * Checks every byte a Redis connection receives before ioredis decodes it.
 * Each connection gets a fresh scanner on ioredis's `connect` event, which
 * is emitted on the tick after ioredis's own data listener is in place, so
 * this listener, prepended later, runs first.
 */
export function guardRedisReplies(client: Redis, address: string, maxValueBytes: number): void {
  client.on('connect', () => {
    const stream = client.stream;
    const scanner = new RespReplyScanner(maxValueBytes + REPLY_FRAMING_BYTES);
    const onData = (chunk: Buffer) => {
      let problem: string | undefined;
      try {
        // Read before ioredis decodes the chunk: the commands it answers are still queued.
        if (scanner.scan(chunk) > client.commandQueue.length) problem = 'redis sent more replies than there were commands waiting for one';
      } catch (error) {
        if (!(error instanceof ReplyViolation)) throw error;
        problem = error.message;
      }
      if (problem === undefined) return;
      stream.removeListener('data', onData);
      const failure = new NodeError(address, 'protocol', problem);
      // Fails every command waiting on this connection with `failure` and
      // reconnects per the retry strategy, as ioredis does when its own
      // decoder throws. ioredis's listener still gets this one chunk (an
      // emit calls the listeners it had when it started), but the commands
      // are gone and the socket is destroyed now rather than on a later
      // tick, so no further bytes are read from this server.
      client.recoverFromFatalError(failure, failure, {});
      stream.destroy();
    };
    stream.prependListener('data', onData);
  });
}

/** The memjs 1.3.2 internals the guard reads and replaces (its types mark them readonly or omit them). */
interface MemjsInternals {
  responseBuffer: Buffer;
  readonly responseCallbacks: Record<number, unknown>;
  readonly _socket?: object;
  responseHandler(chunk: Buffer): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Checks every byte a memjs `Server` receives before memjs buffers it: its
 * socket's data listener calls `server.responseHandler`, which is replaced
 * on this instance by a check that hands on only what passes. On a
 * violation the Server's waiting requests fail, its socket is destroyed, and
 * `dropped` is called (the owner should stop using this Server).
 *
 * memjs keeps `responseBuffer` across connections: bytes of a frame cut off
 * by a dropped connection would prefix the next connection's replies and
 * misalign them for good. So the buffer is emptied whenever data arrives on
 * a socket other than the last one seen, and when the guard drops one.
 */
export function guardMemjsReplies(server: MemjsServer, address: string, maxValueBytes: number, dropped: () => void): void {
  const internals = server as unknown as MemjsInternals;
  const handle = internals.responseHandler;
  const scanner = new MemcachedFrameScanner(maxValueBytes + REPLY_FRAMING_BYTES);
  const awaited = (opaque: number) => internals.responseCallbacks[opaque] !== undefined;
  let socket: object | undefined;
  internals.responseHandler = (chunk: Buffer) => {
    if (internals._socket !== socket) {
      socket = internals._socket;
      scanner.reset();
      internals.responseBuffer = EMPTY;
    }
    try {
      // Scanned whole before memjs answers any frame in it: every request it answers is still registered.
      scanner.scan(chunk, awaited);
    } catch (error) {
      if (!(error instanceof ReplyViolation)) throw error;
      internals.responseBuffer = EMPTY;
      // Destroys the socket and fails every request waiting on it with this error.
      server.error(new NodeError(address, 'protocol', error.message));
      dropped();
      return;
    }
    handle.call(server, chunk);
  };
}
