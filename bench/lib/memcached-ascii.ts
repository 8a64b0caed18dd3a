/**
 * A minimal pipelined memcached ASCII-protocol reader, for talking to
 * twemproxy (which speaks only the ASCII protocol; memjs speaks only the
 * binary one). Benchmark code, not a product: `get` and multi-key `get`,
 * nothing else.
 *
 * Written to give the proxy its best chance:
 * - one socket with Nagle off; every request made in one tick leaves in one
 *   write (flushed on process.nextTick);
 * - replies are matched to requests in order (the protocol has no ids);
 *   a request ends at its `END\r\n`;
 * - parsing works on Buffers: header lines are read as latin1, values are
 *   decoded as UTF-8 once, and only an unfinished tail is carried over to
 *   the next chunk.
 * Keys are ASCII (header lines are parsed as latin1).
 * Any ERROR / CLIENT_ERROR / SERVER_ERROR line fails the request at the head
 * of the queue; a closed socket fails everything outstanding.
 */
import { createConnection, type Socket } from 'node:net';

interface Pending {
  readonly keys: readonly string[];
  /** key -> positions in `keys` (a key may be asked twice). Absent for single-key requests. */
  readonly positions: Map<string, number[]> | undefined;
  readonly values: (string | undefined)[];
  readonly resolve: (values: (string | undefined)[]) => void;
  readonly reject: (error: Error) => void;
}

const CRLF = 0x0a; // search for '\n'; lines end with '\r\n'

export class AsciiMemcachedClient {
  readonly #socket: Socket;
  readonly #queue: Pending[] = [];
  #head = 0;
  #out: string[] = [];
  #flushScheduled = false;
  #tail: Buffer | undefined;
  #closed = false;
  #error: Error | undefined;
  readonly ready: Promise<void>;

  constructor(host: string, port: number, connectTimeoutMs = 5_000) {
    this.#socket = createConnection({ host, port });
    this.#socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, connectTimeoutMs);
      this.#socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    this.ready.catch(() => {});
    this.#socket.on('data', (chunk: Buffer) => {
      try {
        this.#onData(chunk);
      } catch (error) {
        // A reply we cannot place: the stream is out of step, so nothing after it can be trusted.
        this.#failAll(error as Error);
        this.#socket.destroy();
      }
    });
    this.#socket.on('error', (error) => this.#failAll(error));
    this.#socket.on('close', () => this.#failAll(new Error('connection closed')));
  }

  /** The value of `key` as UTF-8 text, or undefined on a miss. */
  get(key: string): Promise<string | undefined> {
    return this.#request([key], undefined, `get ${key}\r\n`).then(first);
  }

  /** Values aligned with `keys` (undefined for misses), one `get k1 k2 ...` request. */
  getMulti(keys: readonly string[]): Promise<(string | undefined)[]> {
    const positions = new Map<string, number[]>();
    keys.forEach((key, i) => {
      const list = positions.get(key);
      if (list === undefined) positions.set(key, [i]);
      else list.push(i);
    });
    return this.#request(keys, positions, `get ${keys.join(' ')}\r\n`);
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #request(keys: readonly string[], positions: Map<string, number[]> | undefined, line: string): Promise<(string | undefined)[]> {
    if (this.#closed || this.#error) return Promise.reject(this.#error ?? new Error('client closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ keys, positions, values: new Array<string | undefined>(keys.length).fill(undefined), resolve, reject });
      this.#out.push(line);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const text = this.#out.length === 1 ? this.#out[0]! : this.#out.join('');
    this.#out = [];
    this.#socket.write(text);
  };

  #onData(chunk: Buffer): void {
    const buffer = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = undefined;
    let offset = 0;
    while (offset < buffer.length) {
      const lineEnd = buffer.indexOf(CRLF, offset);
      if (lineEnd === -1) break;
      const first = buffer[offset]!;
      // VALUE <key> <flags> <bytes>\r\n<data>\r\n
      if (first === 0x56 /* V */) {
        const header = buffer.toString('latin1', offset, lineEnd - 1);
        const keyEnd = header.indexOf(' ', 6);
        const flagsEnd = header.indexOf(' ', keyEnd + 1);
        const casStart = header.indexOf(' ', flagsEnd + 1);
        const bytes = Number(casStart === -1 ? header.slice(flagsEnd + 1) : header.slice(flagsEnd + 1, casStart));
        const dataStart = lineEnd + 1;
        if (dataStart + bytes + 2 > buffer.length) break; // value not complete yet
        this.#value(header.slice(6, keyEnd), buffer.toString('utf8', dataStart, dataStart + bytes));
        offset = dataStart + bytes + 2;
      } else if (first === 0x45 /* E */ && lineEnd === offset + 4) {
        // END
        const pending = this.#queue[this.#head]!;
        this.#shift();
        pending.resolve(pending.values);
        offset = lineEnd + 1;
      } else {
        const line = buffer.toString('latin1', offset, lineEnd - 1);
        const pending = this.#queue[this.#head];
        if (pending === undefined) throw new Error(`memcached ascii: unexpected line ${JSON.stringify(line)}`);
        this.#shift();
        pending.reject(new Error(`memcached replied ${line}`));
        offset = lineEnd + 1;
      }
    }
    if (offset < buffer.length) this.#tail = buffer.subarray(offset);
  }

  #value(key: string, value: string): void {
    const pending = this.#queue[this.#head];
    if (pending === undefined) throw new Error('memcached ascii: a value arrived with no request outstanding');
    if (pending.positions === undefined) {
      if (key !== pending.keys[0]) throw new Error(`memcached ascii: asked ${pending.keys[0]}, got ${key}`);
      pending.values[0] = value;
      return;
    }
    const at = pending.positions.get(key);
    if (at === undefined) throw new Error(`memcached ascii: got ${key}, which was not asked for`);
    for (const i of at) pending.values[i] = value;
  }

  #shift(): void {
    this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #failAll(error: Error): void {
    this.#error ??= error;
    const pending = this.#queue.splice(this.#head);
    this.#queue.length = 0;
    this.#head = 0;
    for (const request of pending) request.reject(error);
  }
}

function first(values: (string | undefined)[]): string | undefined {
  return values[0];
}
