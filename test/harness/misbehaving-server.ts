/**
 * A server that speaks just enough Redis RESP2 or memcached binary protocol
 * to misbehave on cue, on a loopback port, for fault tests of the clients'
 * reply handling. It reads each request (a RESP2 array of bulk strings; a
 * 24-byte binary header and its body), works out what an empty, healthy
 * server would answer (misses, OK, a NOOP closing a quiet batch), and then,
 * depending on `mode`:
 * - `garbage`: answers every request with bytes no reply starts with;
 * - `truncated`: answers the first request with the first half of the right
 *   reply, then closes the connection (FIN);
 * - `huge-length`: answers the first request with a header claiming a body
 *   of 2^31 bytes (`$2147483648`; a binary header with total body length
 *   0x80000000 and the request's own opaque), then streams filler at a
 *   bounded rate, so a client that believes the header keeps buffering;
 * - `unsolicited`: before each right answer, sends a reply to a request
 *   never sent (RESP2 `:1`; a binary NOOP response with an opaque the client
 *   never used), in the same write;
 * - `silent`: accepts, reads, never answers;
 * - `trickle`: answers right, one byte every 100 ms.
 *
 * Everything is bounded: request bytes buffered per connection
 * (MAX_PENDING_REQUEST_BYTES, beyond which the connection is destroyed),
 * filler streamed per connection (`streamCapBytes`, written from one reused
 * buffer and only while the socket drains), bytes queued for trickling
 * (MAX_TRICKLE_BYTES). `close()` destroys every socket, clears every timer
 * and closes the listener. Nothing here keeps the event loop alive.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type WireProtocol = 'redis' | 'memcached';
export type Misbehaviour = 'garbage' | 'truncated' | 'huge-length' | 'unsolicited' | 'silent' | 'trickle';

export const MISBEHAVIOURS: readonly Misbehaviour[] = ['garbage', 'truncated', 'huge-length', 'unsolicited', 'silent', 'trickle'];

export interface MisbehavingServerOptions {
  readonly protocol: WireProtocol;
  readonly mode: Misbehaviour;
  /** Listen on this port; default a free one. */
  readonly port?: number;
  /** `huge-length`: filler bytes streamed per connection, at most. Default 32 MiB. */
  readonly streamCapBytes?: number;
}

/** What the server did, for assertions and reports. */
export interface MisbehavingServerStats {
  connections: number;
  requests: number;
  /** Every byte written, filler included. */
  bytesWritten: number;
  /** `huge-length`: per connection, filler bytes written before the client hung up (or the cap was reached). */
  readonly streamed: { bytes: number; clientHungUp: boolean }[];
}

export interface MisbehavingServer {
  readonly protocol: WireProtocol;
  readonly mode: Misbehaviour;
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  readonly stats: MisbehavingServerStats;
  /** Destroys every connection, clears every timer, stops listening. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** The length `huge-length` claims: 2^31, one past the largest signed 32-bit integer. */
const HUGE_LENGTH = 2 ** 31;
const DEFAULT_STREAM_CAP_BYTES = 32 * 1024 * 1024;
const FILLER = Buffer.alloc(64 * 1024, 0x78);
/** One filler chunk per tick: 64 KiB every 2 ms is at most 32 MiB/s. */
const STREAM_TICK_MS = 2;
const TRICKLE_TICK_MS = 100;
const MAX_TRICKLE_BYTES = 64 * 1024;
const MAX_PENDING_REQUEST_BYTES = 1024 * 1024;
/** An opaque shardcache never uses in a test: its counter starts at 1 and counts up. */
const FOREIGN_OPAQUE = 0xdeadbeef;

export async function startMisbehavingServer(options: MisbehavingServerOptions): Promise<MisbehavingServer> {
  const server = new Misbehaving(options);
  await server.listen(options.port ?? 0);
  return server;
}

class Misbehaving implements MisbehavingServer {
  readonly protocol: WireProtocol;
  readonly mode: Misbehaviour;
  readonly host = HOST;
  readonly stats: MisbehavingServerStats = { connections: 0, requests: 0, bytesWritten: 0, streamed: [] };
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #streamCapBytes: number;
  #port = 0;
  #closed: Promise<void> | undefined;

  constructor(options: MisbehavingServerOptions) {
    this.protocol = options.protocol;
    this.mode = options.mode;
    this.#streamCapBytes = options.streamCapBytes ?? DEFAULT_STREAM_CAP_BYTES;
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.unref();
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `${HOST}:${this.#port}`;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, HOST, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearInterval(timer);
      this.#timers.clear();
      for (const socket of this.#sockets) socket.destroy();
      this.#sockets.clear();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.stats.connections++;
    this.#sockets.add(socket);
    socket.unref();
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a client that hangs up mid-write is what these tests provoke
    socket.on('close', () => this.#sockets.delete(socket));
    const connection = new Connection(this, socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (pending.length > MAX_PENDING_REQUEST_BYTES) {
        socket.destroy();
        return;
      }
      const parse = this.protocol === 'redis' ? parseRespRequest : parseBinaryRequest;
      let request: ParsedRequest | undefined | null;
      while ((request = parse(pending)) !== undefined) {
        if (request === null) {
          socket.destroy(); // not a request of this protocol: nothing sensible to answer
          return;
        }
        pending = pending.subarray(request.length);
        this.stats.requests++;
        connection.answer(request);
      }
    });
  }

  /** Timers are tracked so that close() can clear them. */
  every(ms: number, tick: () => void): NodeJS.Timeout {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }

  stopTimer(timer: NodeJS.Timeout | undefined): void {
    clearInterval(timer);
    if (timer !== undefined) this.#timers.delete(timer);
  }

  write(socket: Socket, bytes: Buffer): void {
    if (socket.destroyed) return;
    this.stats.bytesWritten += bytes.length;
    socket.write(bytes);
  }

  /** Filler after a huge length claim: one chunk per tick while the socket drains, up to the cap. */
  stream(socket: Socket): void {
    const record = { bytes: 0, clientHungUp: false };
    this.stats.streamed.push(record);
    const timer = this.every(STREAM_TICK_MS, () => {
      if (socket.destroyed || record.bytes >= this.#streamCapBytes) {
        this.stopTimer(timer);
        return;
      }
      if (socket.writableNeedDrain) return;
      record.bytes += FILLER.length;
      this.write(socket, FILLER);
    });
    socket.once('close', () => {
      record.clientHungUp = this.#closed === undefined && record.bytes < this.#streamCapBytes;
      this.stopTimer(timer);
    });
  }
}

/** One client connection: what to answer, in this server's mode. */
class Connection {
  readonly #owner: Misbehaving;
  readonly #socket: Socket;
  #answered = 0;
  /** `trickle`: answers still to send, and the timer sending them. */
  readonly #trickling: Buffer[] = [];
  #trickledBytes = 0;
  #trickleTimer: NodeJS.Timeout | undefined;

  constructor(owner: Misbehaving, socket: Socket) {
    this.#owner = owner;
    this.#socket = socket;
  }

  answer(request: ParsedRequest): void {
    const redis = this.#owner.protocol === 'redis';
    const right = redis ? respAnswer(request as RespRequest) : binaryAnswer(request as BinaryRequest);
    // Quiet memcached requests (GETKQ, SETQ) have no answer to spoil; the batch's NOOP does.
    if (right.length === 0 && this.#owner.mode !== 'garbage' && this.#owner.mode !== 'huge-length') return;
    const first = this.#answered++ === 0;
    switch (this.#owner.mode) {
      case 'garbage':
        this.#owner.write(this.#socket, GARBAGE);
        return;
      case 'truncated':
        if (!first) return;
        this.#owner.write(this.#socket, right.subarray(0, Math.max(1, right.length >> 1)));
        this.#socket.end();
        return;
      case 'huge-length':
        if (!first) return;
        this.#owner.write(this.#socket, redis ? Buffer.from(`$${HUGE_LENGTH}\r\n`) : hugeBinaryHeader(request as BinaryRequest));
        this.#owner.stream(this.#socket);
        return;
      case 'unsolicited':
        this.#owner.write(this.#socket, Buffer.concat([redis ? Buffer.from(':1\r\n') : binaryHeader(OPCODE.noop, 0, 0, FOREIGN_OPAQUE), right]));
        return;
      case 'silent':
        return;
      case 'trickle':
        this.#trickle(right);
        return;
    }
  }

  /** Queues `bytes` to go out one byte per TRICKLE_TICK_MS, after what is already queued. */
  #trickle(bytes: Buffer): void {
    if (this.#trickledBytes + bytes.length > MAX_TRICKLE_BYTES) return;
    this.#trickling.push(bytes);
    this.#trickledBytes += bytes.length;
    if (this.#trickleTimer !== undefined) return;
    let at = 0;
    this.#trickleTimer = this.#owner.every(TRICKLE_TICK_MS, () => {
      const head = this.#trickling[0];
      if (head === undefined || this.#socket.destroyed) {
        this.#owner.stopTimer(this.#trickleTimer);
        this.#trickleTimer = undefined;
        return;
      }
      this.#owner.write(this.#socket, head.subarray(at, at + 1));
      if (++at === head.length) {
        this.#trickling.shift();
        this.#trickledBytes -= head.length;
        at = 0;
      }
    });
  }
}

/** Deterministic junk; its first byte, 0x00, starts neither a RESP reply nor a binary response (magic 0x81). */
const GARBAGE = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151) % 256));

type ParsedRequest = RespRequest | BinaryRequest;

interface RespRequest {
  /** Bytes the request took. */
  readonly length: number;
  /** Upper-case command name. */
  readonly command: string;
  /** Arguments after the command name. */
  readonly argc: number;
}

/** One RESP2 command (an array of bulk strings, as every client sends them); undefined until it is all there, null if it is not one. */
function parseRespRequest(bytes: Buffer): RespRequest | undefined | null {
  if (bytes.length > 0 && bytes[0] !== 0x2a) return null;
  const header = readLine(bytes, 0);
  if (header === undefined) return undefined;
  const count = Number(header.text.slice(1));
  let at = header.next;
  let command = '';
  for (let i = 0; i < count; i++) {
    const length = readLine(bytes, at);
    if (length === undefined) return undefined;
    const size = Number(length.text.slice(1));
    if (bytes.length < length.next + size + 2) return undefined;
    if (i === 0) command = bytes.toString('latin1', length.next, length.next + size).toUpperCase();
    at = length.next + size + 2;
  }
  return { length: at, command, argc: count - 1 };
}

function readLine(bytes: Buffer, from: number): { text: string; next: number } | undefined {
  const end = bytes.indexOf('\r\n', from, 'latin1');
  return end === -1 ? undefined : { text: bytes.toString('latin1', from, end), next: end + 2 };
}

/** What an empty Redis answers (RESP2). */
function respAnswer(request: RespRequest): Buffer {
  switch (request.command) {
    case 'GET':
      return Buffer.from('$-1\r\n');
    case 'MGET':
      return Buffer.from(`*${request.argc}\r\n${'$-1\r\n'.repeat(request.argc)}`);
    case 'SET':
    case 'FLUSHDB':
      return Buffer.from('+OK\r\n');
    case 'PING':
      return Buffer.from('+PONG\r\n');
    case 'DEL':
    case 'UNLINK':
    case 'EVAL':
      return Buffer.from(':0\r\n');
    default:
      return Buffer.from(`-ERR unknown command '${request.command}'\r\n`);
  }
}

const OPCODE = { get: 0x00, set: 0x01, delete: 0x04, noop: 0x0a, getkq: 0x0d, setq: 0x11, deleteq: 0x14 } as const;
const QUIET = new Set<number>([OPCODE.getkq, OPCODE.setq, OPCODE.deleteq]);
const NOT_FOUND = Buffer.from('Not found');

interface BinaryRequest {
  readonly length: number;
  readonly opcode: number;
  readonly opaque: number;
}

/** One binary-protocol request frame; undefined until it is all there, null if it is not one. */
function parseBinaryRequest(bytes: Buffer): BinaryRequest | undefined | null {
  if (bytes.length > 0 && bytes[0] !== 0x80) return null;
  if (bytes.length < 24) return undefined;
  const length = 24 + bytes.readUInt32BE(8);
  if (bytes.length < length) return undefined;
  return { length, opcode: bytes[1]!, opaque: bytes.readUInt32BE(12) };
}

/** What an empty memcached answers: nothing to a quiet request, else a response with the request's opaque. */
function binaryAnswer(request: BinaryRequest): Buffer {
  if (QUIET.has(request.opcode)) return Buffer.alloc(0);
  switch (request.opcode) {
    case OPCODE.get:
    case OPCODE.delete:
      return Buffer.concat([binaryHeader(request.opcode, 0x0001, NOT_FOUND.length, request.opaque), NOT_FOUND]);
    default:
      // set, noop, flush, ...: success with an empty body.
      return binaryHeader(request.opcode, 0, 0, request.opaque);
  }
}

/** A response to `request` that claims a body of HUGE_LENGTH bytes. */
function hugeBinaryHeader(request: BinaryRequest): Buffer {
  return binaryHeader(request.opcode, 0, HUGE_LENGTH, request.opaque);
}

/** A 24-byte response header (magic 0x81) with no key or extras. */
function binaryHeader(opcode: number, status: number, bodyLength: number, opaque: number): Buffer {
  const header = Buffer.alloc(24);
  header[0] = 0x81;
  header[1] = opcode;
  header.writeUInt16BE(status, 6);
  header.writeUInt32BE(bodyLength, 8);
  header.writeUInt32BE(opaque, 12);
  return header;
}
