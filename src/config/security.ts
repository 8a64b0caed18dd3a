/**
 * Validation of the `tls` and `auth` options (for every node, and a node's
 * own), and of the credentials of `user:pass@host:port` node strings. The
 * results hold their secrets in `Credentials` and `TlsSettings`, which never
 * show them. A `ConfigError` about any of these names the option and the
 * kind of value it got, never the value: a mistyped password is still a
 * password.
 */
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../errors.js';
import { Credentials, TlsSettings } from '../secrets.js';
import type { AuthOptions } from './options.js';

/** The fields of `auth`, tied to `AuthOptions` both ways. */
const AUTH_FIELDS: readonly string[] = Object.keys({ username: true, password: true } satisfies Record<keyof AuthOptions, true>);
/** TLS options that hold PEM text or Buffers (or arrays of them). */
const PEM_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'crl'] as const;
/** SASL PLAIN separates the user and the password with NUL bytes; control characters break Redis's inline form too. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * `tls`: `true` (system CAs, default checks), `false` (plain TCP; for a
 * node that overrides a cache-wide `tls`) or `tls.ConnectionOptions`.
 * @returns `false` for an explicit `false`, `undefined` when not given.
 */
export function resolveTls(value: unknown, option: string): TlsSettings | false | undefined {
  if (value === undefined) return undefined;
  if (value === false) return false;
  if (value === true) return new TlsSettings({});
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(option, `expected true, false or tls.ConnectionOptions ({ ca, cert, key, servername, ... }), got ${kindOf(value)}`);
  }
  const options = value as Record<string, unknown>;
  for (const name of PEM_OPTIONS) {
    const pem = options[name];
    if (pem !== undefined && !isPem(pem) && !(Array.isArray(pem) && pem.length > 0 && pem.every((item) => isPem(item) || (name === 'key' || name === 'pfx' ? isKeyObject(item) : false)))) {
      throw new ConfigError(`${option}.${name}`, `expected PEM text, a Buffer, or an array of them, got ${kindOf(pem)}`);
    }
  }
  if (options.servername !== undefined && (typeof options.servername !== 'string' || options.servername.length === 0)) {
    throw new ConfigError(`${option}.servername`, `expected a host name, got ${kindOf(options.servername)}`);
  }
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== 'boolean') {
    throw new ConfigError(`${option}.rejectUnauthorized`, `expected true or false, got ${kindOf(options.rejectUnauthorized)}`);
  }
  return new TlsSettings(options as ConnectionOptions);
}

/** `auth`: `{ username?, password }`. */
export function resolveAuth(value: unknown, option: string): Credentials | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(option, `expected { username?, password }, got ${kindOf(value)}`);
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!AUTH_FIELDS.includes(key)) throw new ConfigError(`${option}.${key}`, `unknown field; expected username or password`);
  }
  return credentials(fields.username, fields.password, option);
}

/**
 * Splits `user:pass@host:port` (also `:pass@host:port`, a password alone)
 * into its credentials and the address. Both parts may be percent-encoded,
 * as in a redis:// URL, so a password can hold `@` or `:`.
 */
export function splitAddressCredentials(text: string, option: string): { address: string; auth: Credentials | undefined } {
  const at = text.lastIndexOf('@');
  if (at === -1) return { address: text, auth: undefined };
  const login = text.slice(0, at);
  const colon = login.indexOf(':');
  if (colon === -1) throw new ConfigError(option, 'credentials in a node string are written user:password@host:port (or :password@host:port)');
  const username = decode(login.slice(0, colon), option);
  return { address: text.slice(at + 1), auth: credentials(username === '' ? undefined : username, decode(login.slice(colon + 1), option), option) };
}

function credentials(username: unknown, password: unknown, option: string): Credentials {
  if (username !== undefined && (typeof username !== 'string' || username.length === 0 || CONTROL.test(username) || /\s/.test(username))) {
    throw new ConfigError(`${option}.username`, `expected a non-empty user name without spaces or control characters, got ${kindOf(username)}`);
  }
  if (typeof password !== 'string' || password.length === 0 || CONTROL.test(password)) {
    throw new ConfigError(`${option}.password`, `expected a non-empty string without control characters, got ${kindOf(password)} (the value is not shown)`);
  }
  return new Credentials(username as string | undefined, password);
}

function decode(text: string, option: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigError(option, 'the credentials of a node string are not valid percent-encoding (the value is not shown)');
  }
}

function isPem(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value);
}

function isKeyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'pem' in value;
}

/** What kind of value it is, never the value. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
