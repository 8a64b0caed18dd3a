import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { MemcachedFrameScanner } from '../../../src/backends/memcached-scanner.js';
import { ReplyViolation } from '../../../src/backends/reply-violation.js';
import { MAX_ARRAY_DEPTH, MAX_ARRAY_ELEMENTS, MAX_LINE_BYTES, RespReplyScanner } from '../../../src/backends/resp-scanner.js';

const LIMIT = 1024;

/** Feeds `bytes` cut at `cuts` (sorted offsets) to a fresh RESP scanner; returns the replies completed. */
function scanResp(bytes: Buffer, cuts: readonly number[] = []): number {
  const scanner = new RespReplyScanner(LIMIT);
  let completed = 0;
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    completed += scanner.scan(bytes.subarray(from, cut));
    from = cut;
  }
  return completed;
}

const bulk = (value: string) => `$${Buffer.byteLength(value)}\r\n${value}\r\n`;

/** Seven complete replies of every RESP2 kind, as Redis writes them. */
const VALID_REPLIES = [
  '+OK\r\n',
  '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n',
  ':-42\r\n',
  '$-1\r\n',
  `*3\r\n${bulk('a')}$-1\r\n${bulk('x'.repeat(LIMIT))}`,
  `*2\r\n${bulk('0')}*2\r\n${bulk('k1')}${bulk('')}`,
  '*0\r\n',
];
const VALID_STREAM = Buffer.from(VALID_REPLIES.join(''));

describe('RespReplyScanner', () => {
  it('counts each complete top-level reply once, nested arrays included', () => {
    expect(scanResp(VALID_STREAM)).toBe(VALID_REPLIES.length);
  });

  test.prop([fc.uniqueArray(fc.integer({ min: 1, max: VALID_STREAM.length - 1 }), { maxLength: 12 })])(
    'counts the same however the stream is cut into chunks',
    (cuts) => {
      expect(scanResp(VALID_STREAM, [...cuts].sort((a, b) => a - b))).toBe(VALID_REPLIES.length);
    },
  );

  it('counts a reply only once its last byte arrives', () => {
    const scanner = new RespReplyScanner(LIMIT);
    expect(scanner.scan(Buffer.from('*2\r\n$1\r\na\r\n$1\r\nb\r'))).toBe(0);
    expect(scanner.scan(Buffer.from('\n'))).toBe(1);
  });

  it.each([
    ['a byte no reply starts with', '\x00garbage'],
    ['a RESP3 type', '%1\r\n'],
    ['a length of 2^31', `$${2 ** 31}\r\n`],
    ['a bulk string one byte over the limit', `$${LIMIT + 1}\r\n`],
    ['an array over the element limit', `*${MAX_ARRAY_ELEMENTS + 1}\r\n`],
    ['arrays nested too deep', '*1\r\n'.repeat(MAX_ARRAY_DEPTH + 1)],
    ['a negative length other than -1', '$-2\r\n'],
    ['a length that is not a number', '$12a\r\n'],
    ['a length with no digits', '*\r\n'],
    ['a line ending in a bare CR', '+OK\rX'],
    ['a bare LF in a line', '+O\nK\r\n'],
    ['a bulk string longer than its header', '$1\r\nab\r\n'],
    ['a bulk string not ending in CRLF', '$1\r\na\rX'],
    ['a line over the line limit', `+${'x'.repeat(MAX_LINE_BYTES + 1)}`],
  ])('rejects %s', (_what, bytes) => {
    expect(() => scanResp(Buffer.from(bytes, 'latin1'))).toThrow(ReplyViolation);
  });

  it('rejects a huge length as soon as its header line ends, before any of the body', () => {
    const scanner = new RespReplyScanner(LIMIT);
    expect(scanner.scan(Buffer.from(`$${2 ** 31}\r`))).toBe(0);
    expect(() => scanner.scan(Buffer.from('\n'))).toThrow(/2147483648 bytes, over the 1024-byte limit/);
  });
});

/** A 24-byte response header (magic 0x81) and its body. */
function frame(opaque: number, { opcode = 0x00, key = '', extras = 0, value = '', magic = 0x81, bodyLength }: { opcode?: number; key?: string; extras?: number; value?: string; magic?: number; bodyLength?: number } = {}): Buffer {
  const body = Buffer.concat([Buffer.alloc(extras), Buffer.from(key), Buffer.from(value)]);
  const header = Buffer.alloc(24);
  header[0] = magic;
  header[1] = opcode;
  header.writeUInt16BE(Buffer.byteLength(key), 2);
  header[4] = extras;
  header.writeUInt32BE(bodyLength ?? body.length, 8);
  header.writeUInt32BE(opaque, 12);
  return Buffer.concat([header, body]);
}

const awaiting = (...opaques: number[]) => (opaque: number) => opaques.includes(opaque);

function scanFrames(bytes: Buffer, awaited: (opaque: number) => boolean, cuts: readonly number[] = []): void {
  const scanner = new MemcachedFrameScanner(LIMIT);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.scan(bytes.subarray(from, cut), awaited);
    from = cut;
  }
}

/** A GETKQ batch's hits and closing NOOP, then a GET's miss. */
const VALID_FRAMES = Buffer.concat([
  frame(7, { opcode: 0x0d, key: 'k1', extras: 4, value: 'v'.repeat(LIMIT - 6) }),
  frame(7, { opcode: 0x0d, key: 'k2', extras: 4, value: '' }),
  frame(7, { opcode: 0x0a }),
  frame(8, { value: 'Not found' }),
]);

describe('MemcachedFrameScanner', () => {
  test.prop([fc.uniqueArray(fc.integer({ min: 1, max: VALID_FRAMES.length - 1 }), { maxLength: 12 })])(
    'passes valid responses to waiting requests however they are cut into chunks',
    (cuts) => {
      expect(() => scanFrames(VALID_FRAMES, awaiting(7, 8), [...cuts].sort((a, b) => a - b))).not.toThrow();
    },
  );

  it.each([
    ['a request magic (0x80) instead of a response magic', frame(1, { magic: 0x80 })],
    ['garbage', Buffer.alloc(24)],
    ['a body length of 2^31', frame(1, { bodyLength: 2 ** 31 })],
    ['a body one byte over the limit', frame(1, { bodyLength: LIMIT + 1 })],
    ['a body shorter than its key and extras', frame(1, { key: 'abc', extras: 4, bodyLength: 6 })],
    ['an answer to a request that is not waiting', frame(2)],
  ])('rejects %s', (_what, bytes) => {
    expect(() => scanFrames(bytes, awaiting(1))).toThrow(ReplyViolation);
  });

  it('checks a header split across chunks once it is whole', () => {
    const scanner = new MemcachedFrameScanner(LIMIT);
    const huge = frame(1, { bodyLength: 2 ** 31 });
    scanner.scan(huge.subarray(0, 10), awaiting(1));
    expect(() => scanner.scan(huge.subarray(10, 24), awaiting(1))).toThrow(/2147483648 bytes/);
  });

  it('lets SASL answers through with no request registered (memjs answers them itself)', () => {
    expect(() => scanFrames(frame(0, { opcode: 0x20, value: 'PLAIN' }), awaiting())).not.toThrow();
  });

  it('starts on a frame boundary after reset()', () => {
    const scanner = new MemcachedFrameScanner(LIMIT);
    scanner.scan(frame(1, { value: 'cut off' }).subarray(0, 28), awaiting(1));
    scanner.reset();
    expect(() => scanner.scan(frame(2), awaiting(2))).not.toThrow();
  });
});
