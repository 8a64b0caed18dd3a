/**
 * What the documentation promises, written out independently of src/ so the
 * properties can predict each call's outcome instead of replaying the code
 * under test:
 * - keys (README "Swapping backends", DESIGN "Bad input"): non-empty,
 *   well-formed Unicode strings (a lone surrogate has no UTF-8 form, so two
 *   such strings would name one stored key), at most the backend's byte limit
 *   (memcached 250, redis and memory 64 KiB), and on memcached without space,
 *   DEL or C0 control characters;
 * - TTLs: whole seconds from 0 to 10 years (`null` or absent: the default);
 *   options, when given, an object (`set(k, v, 60)` must not silently drop the 60);
 * - values (README "Sharing a pool with other languages"): strings read back
 *   as strings, Buffers as Buffers, safe integers and BigInts as integers
 *   (a number when exact, else a BigInt), booleans as booleans, everything
 *   else as its JSON round trip; a value JSON cannot hold, `undefined`, or
 *   one whose encoding is over `maxValueBytes`, is rejected;
 * - errors: every rejection is a ShardcacheError subclass with its stable code.
 */
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import {
  BreakerOpenError,
  ClosedError,
  ConfigError,
  DeadlineError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidValueError,
  NodeError,
  ShardcacheError,
  UnsupportedOperationError,
  WriteFailedError,
} from '../../../src/index.js';

export type BackendKind = 'memory' | 'redis' | 'memcached';

export interface KeyLimits {
  readonly maxKeyBytes: number;
  readonly forbidSpaceAndControl: boolean;
}

/** Per README: memcached's protocol limits; Redis keys are binary-safe (64 KiB keeps a typo from becoming a memory problem). */
export const KEY_LIMITS: Readonly<Record<BackendKind, KeyLimits>> = {
  memory: { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false },
  redis: { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false },
  memcached: { maxKeyBytes: 250, forbidSpaceAndControl: true },
};

/** The stable codes of src/errors.ts, each with its class: a code never moves to another class. */
export const CODE_OF = new Map<Function, string>([
  [ConfigError, 'SHARDCACHE_CONFIG'],
  [InvalidKeyError, 'SHARDCACHE_INVALID_KEY'],
  [InvalidValueError, 'SHARDCACHE_INVALID_VALUE'],
  [InvalidArgumentError, 'SHARDCACHE_INVALID_ARGUMENT'],
  [ClosedError, 'SHARDCACHE_CLOSED'],
  [DeadlineError, 'SHARDCACHE_DEADLINE'],
  [NodeError, 'SHARDCACHE_NODE'],
  [BreakerOpenError, 'SHARDCACHE_BREAKER_OPEN'],
  [WriteFailedError, 'SHARDCACHE_WRITE_FAILED'],
  [UnsupportedOperationError, 'SHARDCACHE_UNSUPPORTED'],
]);
export const STABLE_CODES: ReadonlySet<string> = new Set(CODE_OF.values());

/** Codes that mean "the caller's input was refused before anything was sent": all a healthy pool may answer. */
export const INPUT_CODES = ['SHARDCACHE_INVALID_KEY', 'SHARDCACHE_INVALID_VALUE', 'SHARDCACHE_INVALID_ARGUMENT'] as const;
export type InputCode = (typeof INPUT_CODES)[number];

/**
 * Asserts `error` is a ShardcacheError subclass carrying its class's stable
 * code and name, and that the code is one of `allowed`.
 */
export function expectTyped(error: unknown, allowed: Iterable<string>): asserts error is ShardcacheError {
  const allowedCodes = [...allowed];
  if (!(error instanceof ShardcacheError)) {
    // Show what escaped: a raw TypeError or a wire client's error is the bug.
    expect.fail(`expected a ShardcacheError (${allowedCodes.join(' | ')}), got ${describeError(error)}`);
  }
  const classCode = CODE_OF.get(error.constructor);
  expect(classCode, `${error.constructor.name} is not one of the documented error classes`).toBeDefined();
  expect(error.code).toBe(classCode);
  expect(error.name).toBe(error.constructor.name);
  expect(allowedCodes, `unexpected ${error.code}: ${error.message}`).toContain(error.code);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}\n${error.stack ?? ''}`;
  return `a thrown ${typeof error}`;
}

/** Why `key` must be refused on a backend with `limits`, or undefined when it is a valid key. */
export function keyDefect(key: unknown, limits: KeyLimits): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key.length === 0) return 'empty';
  if (!key.isWellFormed()) return 'lone surrogate';
  if (Buffer.byteLength(key, 'utf8') > limits.maxKeyBytes) return 'too long';
  if (limits.forbidSpaceAndControl && /[\u0000-\u0020\u007f]/.test(key)) return 'space or control';
  return undefined;
}

/**
 * Why `name` must be refused as a namespace name (README "Invalidation and
 * namespaces"): 1 to 128 characters, no ':', whitespace or control
 * characters, well-formed Unicode (its version counter is a key too), and a
 * version key `name:__version` within the backend's key limit, or undefined.
 */
export function namespaceDefect(name: unknown, limits: KeyLimits): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  const length = [...name].length;
  if (length < 1 || length > 128) return 'length';
  if (/[:\s\u0000-\u001f\u007f]/u.test(name)) return 'forbidden character';
  if (!name.isWellFormed()) return 'lone surrogate';
  if (Buffer.byteLength(`${name}:__version`, 'utf8') > limits.maxKeyBytes) return 'version key too long';
  return undefined;
}

export const MAX_TTL_SECONDS = 60 * 60 * 24 * 365 * 10;

/** Whether `options` (the last argument of set/mset/getOrLoad/mgetOrLoad) is acceptable given no default TTL. */
export function optionsDefect(options: unknown): string | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') return 'options not an object';
  const ttl = (options as { ttl?: unknown }).ttl;
  // `ttl: null` means "not given", as `??` reads it: the default applies.
  if (ttl === undefined || ttl === null) return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) return 'bad ttl';
  return undefined;
}

/** The TTL a valid `options` asks for (0: none). */
export function ttlOf(options: unknown): number {
  const ttl = (options as { ttl?: unknown } | null | undefined)?.ttl;
  return typeof ttl === 'number' ? ttl : 0;
}

export type Expected = { readonly ok: true; readonly bytes: number; readonly readBack: unknown } | { readonly ok: false; readonly why: string };

/** Redis marks every value but plain text with 0xC1 "sc" and a 4-byte flags word. */
const REDIS_MARK_BYTES = 7;
/** Control characters that make a string take the marked form on Redis (all but tab, LF, CR). */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * How the default codec must treat `value` on `backend` (README "Sharing a
 * pool with other languages"): its encoded size and what a read gives back;
 * or why it is refused. On memcached and memory the type goes in the flags
 * and the bytes are the value alone: UTF-8 text, a Buffer's bytes, a safe
 * integer's or BigInt's decimal text, "1"/"0", or JSON text for the rest (and
 * for strings with a lone surrogate, which have no UTF-8 form). On Redis
 * plain text is stored alone and everything else behind a 7-byte mark.
 */
export function expectedEncoding(value: unknown, maxValueBytes: number, backend: BackendKind): Expected {
  let bytes: number;
  let readBack: unknown;
  let plainText = false;
  if (value === undefined) return { ok: false, why: 'undefined' };
  if (typeof value === 'string' && value.isWellFormed()) {
    readBack = value;
    bytes = Buffer.byteLength(value, 'utf8');
    plainText = !CONTROL.test(value);
  } else if (Buffer.isBuffer(value)) {
    bytes = value.length;
    readBack = Buffer.from(value);
  } else if ((typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint') {
    const text = value.toString();
    bytes = text.length;
    readBack = Number.isSafeInteger(Number(text)) ? Number(text) : BigInt(text);
  } else if (typeof value === 'boolean') {
    bytes = 1;
    readBack = value;
  } else {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      return { ok: false, why: 'JSON cannot encode it' };
    }
    if (json === undefined) return { ok: false, why: 'JSON has no text for it' };
    bytes = Buffer.byteLength(json, 'utf8');
    readBack = JSON.parse(json);
  }
  if (backend === 'redis' && !plainText) bytes += REDIS_MARK_BYTES;
  if (bytes > maxValueBytes) return { ok: false, why: 'over maxValueBytes' };
  return { ok: true, bytes, readBack };
}

/** Equal by the codec's semantics: exact for strings, bytes for Buffers, JSON round trip (so -0 is 0) for the rest. */
export function expectSameValue(actual: unknown, expected: unknown, context: string): void {
  if (Buffer.isBuffer(expected)) {
    expect(Buffer.isBuffer(actual), `${context}: a Buffer must read back as a Buffer`).toBe(true);
    expect((actual as Buffer).equals(expected), `${context}: Buffer bytes differ`).toBe(true);
    return;
  }
  if (!isDeepStrictEqual(actual, expected)) {
    expect.fail(`${context}: read back ${preview(actual)}, expected ${preview(expected)}`);
  }
}

export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : Buffer.isBuffer(value) ? `<Buffer ${value.length} bytes>` : String(JSON.stringify(value));
  } catch {
    text = `<${typeof value}>`;
  }
  return text.length > 120 ? `${text.slice(0, 120)}... (${text.length} chars)` : text;
}
