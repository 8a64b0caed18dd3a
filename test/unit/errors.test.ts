/**
 * Errors survive two installed copies of the package: an error made by one
 * copy of src/errors.ts is `instanceof` the same class (and its ancestors) of
 * another copy, and of no other class. The second copy is real: this source
 * file transpiled on its own into a temporary directory and imported from
 * there, so it has its own module instance and its own class objects, as a
 * duplicated node_modules install would.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as here from '../../src/errors.js';

type Errors = typeof here;
type ClassName = { [K in keyof Errors]: Errors[K] extends abstract new (...args: never[]) => here.ShardcacheError ? K : never }[keyof Errors];

/** One instance of every exported class, made by the copy `m`. */
function oneOfEach(m: Errors): Record<ClassName, here.ShardcacheError> {
  return {
    ShardcacheError: new m.ShardcacheError('SHARDCACHE_TEST', 'base'),
    ConfigError: new m.ConfigError('nodes', 'expected a non-empty array'),
    InvalidKeyError: new m.InvalidKeyError('empty key'),
    InvalidValueError: new m.InvalidValueError('too large'),
    ClosedError: new m.ClosedError(),
    DeadlineError: new m.DeadlineError('10.0.0.1:11211', 'get', 10),
    NodeError: new m.NodeError('10.0.0.1:11211', 'unavailable', 'connection refused'),
    WriteFailedError: new m.WriteFailedError('no node took the write'),
    InvalidArgumentError: new m.InvalidArgumentError('ttl must not be negative'),
    BreakerOpenError: new m.BreakerOpenError('10.0.0.1:11211'),
    UnsupportedOperationError: new m.UnsupportedOperationError('memcached cannot list its keys'),
    AuthError: new m.AuthError('10.0.0.1:6379', 'app', 'rejected', 'refused the login of user "app"'),
    TlsError: new m.TlsError('10.0.0.1:6379', 'hostname-mismatch', 'the certificate is not for this host'),
  };
}

/** The class names `name` must be an instance of: itself and ShardcacheError. */
const ancestors = (name: string) => new Set([name, 'ShardcacheError']);

const source = fileURLToPath(new URL('../../src/errors.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shardcache-errors-copy-'));
let other: Errors;

beforeAll(async () => {
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const copy = join(dir, 'errors.mjs');
  writeFileSync(copy, outputText);
  other = (await import(pathToFileURL(copy).href)) as Errors;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errors across two copies of the package', () => {
  it('the second copy is a separate module with its own classes', () => {
    expect(other.NodeError).not.toBe(here.NodeError);
    expect(other.ShardcacheError).not.toBe(here.ShardcacheError);
    expect(Object.getPrototypeOf(new other.NodeError('a:1', 'server', 'x'))).not.toBe(here.NodeError.prototype);
  });

  it('every exported class is in this test (a new class must be branded and checked here)', () => {
    const exported = Object.entries(here)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual(Object.keys(oneOfEach(here)).sort());
  });

  for (const [label, maker, checker] of [
    ['made by the other copy, checked here', () => other, () => here],
    ['made here, checked by the other copy', () => here, () => other],
  ] as const) {
    it(`${label}: instanceof its class and ShardcacheError, of no other class`, () => {
      const made = oneOfEach(maker());
      const classes = checker() as unknown as Record<string, abstract new (...args: never[]) => unknown>;
      for (const [name, error] of Object.entries(made)) {
        for (const className of Object.keys(made)) {
          const expected = ancestors(name).has(className);
          expect(error instanceof classes[className]!, `${name} instanceof ${className}`).toBe(expected);
        }
        expect(error instanceof Error).toBe(true);
      }
    });
  }

  it('narrowing still reads the fields of an error from the other copy', () => {
    const error: unknown = new other.NodeError('10.0.0.1:6379', 'rejected', 'value too large');
    if (!(error instanceof here.NodeError)) expect.fail('not a NodeError');
    expect([error.node, error.reason, error.code, error.name]).toEqual(['10.0.0.1:6379', 'rejected', 'SHARDCACHE_NODE', 'NodeError']);
  });
});

describe('the brand', () => {
  it('is Symbol.for("shardcache.error.<Name>") on every instance, own to each class, and invisible to keys, JSON and inspect', () => {
    for (const [name, error] of Object.entries(oneOfEach(here))) {
      const brand = Symbol.for(`shardcache.error.${name}`);
      expect((error as unknown as Record<symbol, unknown>)[brand], name).toBe(true);
      expect((error as unknown as Record<symbol, unknown>)[Symbol.for('shardcache.error.ShardcacheError')], name).toBe(true);
      const errorClass = (here as unknown as Record<string, { prototype: object }>)[name]!;
      expect(Object.getOwnPropertyDescriptor(errorClass.prototype, brand), `${name} has its own brand`).toMatchObject({ value: true, enumerable: false, writable: false });
      expect(Object.getOwnPropertySymbols(error)).toEqual([]);
      expect(inspect(error)).not.toContain('shardcache.error');
    }
    expect(JSON.stringify(new here.ConfigError('nodes', 'x'))).toBe('{"code":"SHARDCACHE_CONFIG","name":"ConfigError","option":"nodes"}');
  });

  it('is what instanceof checks: unbranded look-alikes and primitives are not instances', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'NodeError', code: 'SHARDCACHE_NODE' });
    for (const value of [lookalike, new Error('x'), {}, null, undefined, 'NodeError', 42, Object.create(null)]) {
      expect(value instanceof here.ShardcacheError).toBe(false);
      expect(value instanceof here.NodeError).toBe(false);
    }
    const forged = { [Symbol.for('shardcache.error.NodeError')]: true };
    expect(forged instanceof here.NodeError).toBe(true); // the brand is the contract, as in undici
  });

  it("leaves an application's own subclass with the ordinary prototype check", () => {
    class RetryableConfigError extends here.ConfigError {}
    const mine = new RetryableConfigError('nodes', 'x');
    expect(mine instanceof RetryableConfigError).toBe(true);
    expect(mine instanceof here.ConfigError).toBe(true);
    expect(mine instanceof other.ConfigError).toBe(true);
    expect(mine instanceof other.ShardcacheError).toBe(true);
    expect(new here.ConfigError('nodes', 'x') instanceof RetryableConfigError).toBe(false);
    expect(new other.ConfigError('nodes', 'x') instanceof RetryableConfigError).toBe(false);
    expect(mine.name).toBe('RetryableConfigError');
  });
});
