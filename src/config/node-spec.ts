/**
 * Parses node specs: `host:port`, `host:port:weight`, `[v6addr]:port[:weight]`,
 * each optionally `user:pass@` first, or `{ host, port, weight?, name?, tls?, auth? }`.
 * Hosts are kept as written, never resolved: the ring hashes the configured
 * text, as libmemcached does. Credentials never reach the address (which
 * names the node everywhere) nor an error message.
 */
import { ConfigError } from '../errors.js';
import { redactAddressText, stringifyRedacted } from '../secrets.js';
import { resolveAuth, resolveTls, splitAddressCredentials } from './security.js';
import type { NodeObject, NodeSpec, ResolvedNode } from './options.js';

/**
 * libmemcached and twemproxy keep a weight in a uint32. Larger ones also
 * break the ring: the weights' sum overflows the 32-bit float ketama
 * computes shares in, leaving no node any points.
 */
const MAX_WEIGHT = 2 ** 32 - 1;

/** The fields of a node object, tied to `NodeObject` both ways. */
const NODE_FIELDS: readonly string[] = Object.keys({ host: true, port: true, weight: true, name: true, tls: true, auth: true } satisfies Record<keyof NodeObject, true>);

const HOST_PORT = /^(?<host>\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(?<port>\d+)(?::(?<weight>[^:]+))?$/;

export function parseNodeSpec(spec: unknown, option: string): ResolvedNode {
  if (typeof spec === 'string') return parseNodeString(spec, option);
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) return parseNodeObject(spec as Record<string, unknown>, option);
  throw new ConfigError(option, `expected "host:port[:weight]" or { host, port, weight?, name? }, got ${describe(spec)}`);
}

function parseNodeString(text: string, option: string): ResolvedNode {
  const { address, auth } = splitAddressCredentials(text.trim(), option);
  const match = HOST_PORT.exec(address);
  if (!match?.groups) {
    throw new ConfigError(option, `expected "host:port" or "host:port:weight" (optionally "user:password@" first), got ${describe(text)}`);
  }
  const { host, port, weight } = match.groups as { host: string; port: string; weight?: string };
  const node = build(host, Number(port), weight === undefined ? 1 : Number(weight), undefined, option, text);
  return auth === undefined ? node : { ...node, auth };
}

function parseNodeObject(spec: Record<string, unknown>, option: string): ResolvedNode {
  for (const key of Object.keys(spec)) {
    if (!NODE_FIELDS.includes(key)) {
      throw new ConfigError(`${option}.${key}`, 'unknown node field; expected host, port, weight, name, tls or auth');
    }
  }
  const { host, port, weight = 1, name, tls, auth } = spec;
  if (typeof host !== 'string' || host.length === 0 || /\s/.test(host)) {
    throw new ConfigError(`${option}.host`, `expected a host name or address, got ${describe(host)}`);
  }
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new ConfigError(`${option}.name`, `expected a non-empty string, got ${describe(name)}`);
  }
  const node = build(host, port, weight, name, option, spec);
  const ownTls = resolveTls(tls, `${option}.tls`);
  const ownAuth = resolveAuth(auth, `${option}.auth`);
  return { ...node, ...(ownTls === undefined ? {} : { tls: ownTls }), ...(ownAuth === undefined ? {} : { auth: ownAuth }) };
}

function build(host: string, port: unknown, weight: unknown, name: string | undefined, option: string, raw: unknown): ResolvedNode {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(option, `port must be an integer from 1 to 65535, got ${describe(port)} in ${describe(raw)}`);
  }
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new ConfigError(option, `weight must be a whole number from 1 to ${MAX_WEIGHT}, got ${describe(weight)} in ${describe(raw)}`);
  }
  const bareHost = host.startsWith('[') ? host.slice(1, -1) : host;
  const address = bareHost.includes(':') ? `[${bareHost}]:${port}` : `${bareHost}:${port}`;
  return { host: bareHost, port, weight, name, address };
}

/**
 * The value as a message can quote it: strings and JSON as text, anything
 * else by its type, secrets redacted (passwords, keys, the password of a
 * `user:pass@host` string). Never throws (a null-prototype object has no
 * string form, a BigInt no JSON) and stays short.
 */
export function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(redactAddressText(value));
  else if (typeof value === 'number' || typeof value === 'boolean' || value == null) text = String(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'symbol') text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else {
    try {
      text = stringifyRedacted(value) ?? typeof value;
    } catch {
      text = typeof value;
    }
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
