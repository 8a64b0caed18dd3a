/**
 * Turns what `createCache` was given (an options object, a path to a JSON
 * file, or nothing) plus `SHARDCACHE_*` variables into validated options.
 * Precedence: caller (object or file) > environment > defaults.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { optionsFromEnv } from './env.js';
import type { ResolvedOptions, ShardcacheOptions } from './options.js';
import { validateOptions } from './validate.js';

export type OptionsInput = ShardcacheOptions | string | undefined;

export async function loadOptions(input: OptionsInput, env: Readonly<Record<string, string | undefined>>): Promise<ResolvedOptions> {
  const given = typeof input === 'string' ? await readConfigFile(input) : input ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ConfigError('options', `expected an options object or a path to a JSON file, got ${typeof given}`);
  }
  return validateOptions(mergeOver(optionsFromEnv(env) as Record<string, unknown>, given as Record<string, unknown>));
}

async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('options', `cannot read config file ${JSON.stringify(path)}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError('options', `config file ${JSON.stringify(path)} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** A new object: `top` wins field by field, one level into option groups. */
function mergeOver(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  // No prototype: a "__proto__" key (JSON.parse makes it an own property) stays a key, which
  // validation rejects as unknown, instead of becoming the merged object's prototype.
  const merged = Object.assign(Object.create(null) as Record<string, unknown>, base);
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const under = merged[key];
    // A login is one thing: the caller's auth replaces the environment's whole, never mixes a user of one with the password of the other.
    merged[key] = key !== 'auth' && isPlainObject(value) && isPlainObject(under) ? { ...under, ...value } : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}
