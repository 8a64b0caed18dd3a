/**
 * The `SHARDCACHE_TLS*` and `SHARDCACHE_AUTH_*` environment variables, read
 * with the others by `optionsFromEnv`. Files are read here, once, at
 * `createCache`: certificates and keys as Buffers, a password file (a secret
 * mounted by Kubernetes or Docker) as text without its final newline.
 * Errors name the variable and the file, never what a file holds.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Every variable read here; README's security section lists the same ones (test/unit/config/security-env.test.ts checks it). */
export const SECURITY_ENV_VARIABLE_NAMES: readonly string[] = Object.freeze([
  'SHARDCACHE_TLS',
  'SHARDCACHE_TLS_CA_FILE',
  'SHARDCACHE_TLS_CERT_FILE',
  'SHARDCACHE_TLS_KEY_FILE',
  'SHARDCACHE_TLS_SERVERNAME',
  'SHARDCACHE_AUTH_USERNAME',
  'SHARDCACHE_AUTH_PASSWORD',
  'SHARDCACHE_AUTH_PASSWORD_FILE',
]);

const TLS_FILES = { ca: 'SHARDCACHE_TLS_CA_FILE', cert: 'SHARDCACHE_TLS_CERT_FILE', key: 'SHARDCACHE_TLS_KEY_FILE' } as const;
const ON = new Set(['true', '1', 'yes', 'on']);
const OFF = new Set(['false', '0', 'no', 'off']);

type Env = Readonly<Record<string, string | undefined>>;

/** `{ tls?, auth? }` from the environment: only what is set. */
export function securityOptionsFromEnv(env: Env): { tls?: true | Record<string, unknown>; auth?: { username?: string; password: string } } {
  const result: { tls?: true | Record<string, unknown>; auth?: { username?: string; password: string } } = {};
  const tls = tlsFromEnv(env);
  if (tls !== undefined) result.tls = tls;
  const auth = authFromEnv(env);
  if (auth !== undefined) result.auth = auth;
  return result;
}

function tlsFromEnv(env: Env): true | Record<string, unknown> | undefined {
  const switchText = value(env, 'SHARDCACHE_TLS')?.toLowerCase();
  if (switchText !== undefined && !ON.has(switchText) && !OFF.has(switchText)) {
    throw new ConfigError('SHARDCACHE_TLS', `expected true or false, got ${JSON.stringify(switchText)}`);
  }
  const options: Record<string, unknown> = {};
  for (const [option, variable] of Object.entries(TLS_FILES)) {
    const path = value(env, variable);
    if (path !== undefined) options[option] = readFile(variable, path);
  }
  const servername = value(env, 'SHARDCACHE_TLS_SERVERNAME');
  if (servername !== undefined) options.servername = servername;
  const configured = Object.keys(options);
  if (switchText !== undefined && OFF.has(switchText)) {
    if (configured.length > 0) throw new ConfigError('SHARDCACHE_TLS', `is false, but TLS settings are set too (${configured.join(', ')}): unset one or the other`);
    return undefined;
  }
  if (configured.length > 0) return options;
  return switchText === undefined ? undefined : true;
}

function authFromEnv(env: Env): { username?: string; password: string } | undefined {
  const username = value(env, 'SHARDCACHE_AUTH_USERNAME');
  const password = value(env, 'SHARDCACHE_AUTH_PASSWORD');
  const passwordFile = value(env, 'SHARDCACHE_AUTH_PASSWORD_FILE');
  if (password !== undefined && passwordFile !== undefined) {
    throw new ConfigError('SHARDCACHE_AUTH_PASSWORD_FILE', 'both SHARDCACHE_AUTH_PASSWORD and SHARDCACHE_AUTH_PASSWORD_FILE are set: keep one');
  }
  const secret = passwordFile === undefined ? password : readFile('SHARDCACHE_AUTH_PASSWORD_FILE', passwordFile).toString('utf8').replace(/\r?\n$/, '');
  if (secret === undefined) {
    if (username !== undefined) throw new ConfigError('SHARDCACHE_AUTH_USERNAME', 'is set without a password: set SHARDCACHE_AUTH_PASSWORD or SHARDCACHE_AUTH_PASSWORD_FILE');
    return undefined;
  }
  return username === undefined ? { password: secret } : { username, password: secret };
}

function value(env: Env, variable: string): string | undefined {
  const raw = env[variable];
  return raw === undefined || raw === '' ? undefined : raw;
}

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(variable, `cannot read ${JSON.stringify(path)} (${typeof code === 'string' ? code : 'error'})`);
  }
}
