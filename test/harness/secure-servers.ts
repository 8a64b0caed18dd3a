/**
 * Real TLS and logins for the test servers, made at test time:
 * - a throwaway CA and a server certificate for 127.0.0.1 (IP SAN) made with
 *   `openssl`, plus a second, unrelated CA (the "wrong CA");
 * - redis-server with `--port 0 --tls-port P` and ACL users given as
 *   arguments (`--user default off --user app on >PASSWORD ~* &* +@all`);
 * - memcached with `-Z -o ssl_chain_cert=...,ssl_key=...` (TLS) and `-S`
 *   (SASL), its users in a sasldb made by `saslpasswd2` and a
 *   `memcached.conf` (`mech_list: plain`) found through `SASL_CONF_PATH`.
 * Readiness is checked over TLS (and before any login: redis answers PING
 * with NOAUTH, memcached a binary NOOP with an auth error): a TLS-only or
 * login-only server answers neither plain probe.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { memcachedFrame, parseMemcachedResponses, respCommand, startMemcached, startRedis, type ServerProcess } from './servers.js';

/** Debian installs it in /usr/sbin, which a non-root PATH may lack. */
const SASLPASSWD2 = existsSync('/usr/sbin/saslpasswd2') ? '/usr/sbin/saslpasswd2' : 'saslpasswd2';

export interface TestPki {
  readonly dir: string;
  /** PEM of the CA that signed the servers' certificate. */
  readonly ca: Buffer;
  readonly caFile: string;
  /** PEM of a CA that signed nothing here. */
  readonly otherCa: Buffer;
  readonly otherCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Removes the files. */
  remove(): void;
}

/** A fresh secret, unlike anything else a test sees, so a leak test can search every string for it. */
export function testSecret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-pki-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=shardcache test CA');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('other.key'), '-out', file('other.pem'), '-days', '2', '-subj', '/CN=shardcache unrelated CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('san.cnf'));
  return {
    dir,
    ca: readFileSync(file('ca.pem')),
    caFile: file('ca.pem'),
    otherCa: readFileSync(file('other.pem')),
    otherCaFile: file('other.pem'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RedisLogin {
  readonly username: string;
  readonly password: string;
}

/**
 * redis-server on a TLS-only port (`--port 0 --tls-port P`), clients not
 * asked for certificates, user `default` off and each login an ACL user
 * with every right. `enabled: false` adds the user switched off.
 */
export function startTlsRedis(pki: TestPki, users: readonly (RedisLogin & { enabled?: boolean })[]): Promise<ServerProcess> {
  const acl = users.flatMap(({ username, password, enabled = true }) => ['--user', username, enabled ? 'on' : 'off', `>${password}`, '~*', '&*', '+@all']);
  return startRedis({
    args: ['--tls-cert-file', pki.certFile, '--tls-key-file', pki.keyFile, '--tls-ca-cert-file', pki.caFile, '--tls-auth-clients', 'no', '--user', 'default', 'off', ...acl],
    portArgs: (port) => ['--port', '0', '--tls-port', String(port)],
    ready: (port, withinMs) => answers(port, pki.ca, '*1\r\n$4\r\nPING\r\n', (reply) => /^(\+PONG|-NOAUTH)/.test(reply.toString('latin1')), withinMs),
  });
}

/** A plain-TCP redis-server with a legacy `requirepass` (user `default` with a password: AUTH PASSWORD alone). */
export function startLegacyAuthRedis(password: string): Promise<ServerProcess> {
  return startRedis({
    args: ['--requirepass', password],
    ready: (port, withinMs) => answers(port, undefined, '*1\r\n$4\r\nPING\r\n', (reply) => /^(\+PONG|-NOAUTH)/.test(reply.toString('latin1')), withinMs),
  });
}

export interface MemcachedSecurity {
  /** `-Z` with the test certificate. @default true */
  readonly tls?: boolean;
  /** `-S`, with these users in a fresh sasldb. */
  readonly users?: readonly RedisLogin[];
}

/** memcached with TLS on every port and/or SASL logins; returns the server and a function removing its sasldb. */
export async function startSecureMemcached(pki: TestPki, security: MemcachedSecurity): Promise<ServerProcess> {
  const tls = security.tls ?? true;
  const args = tls ? ['-Z', '-o', `ssl_chain_cert=${pki.certFile},ssl_key=${pki.keyFile}`] : [];
  let env: Record<string, string> | undefined;
  if (security.users !== undefined) {
    const saslDir = mkdtempSync(join(pki.dir, 'sasl-'));
    const db = join(saslDir, 'sasldb');
    for (const { username, password } of security.users) {
      execFileSync(SASLPASSWD2, ['-a', 'memcached', '-c', '-p', '-f', db, username], { input: password, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
    }
    writeFileSync(join(saslDir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
    args.push('-S');
    env = { SASL_CONF_PATH: saslDir };
  }
  const noop = Buffer.alloc(24);
  noop[0] = 0x80;
  noop[1] = 0x0a;
  return startMemcached({ args, env, ready: (port, withinMs) => answers(port, tls ? pki.ca : undefined, noop, (reply) => reply.length >= 24 && reply[0] === 0x81, withinMs) });
}

/** Whether a connection to `port` (TLS trusting `ca`, or plain TCP without it) answers `request` as `complete` says, within `withinMs`. */
export async function answers(port: number, ca: Buffer | undefined, request: Buffer | string, complete: (reply: Buffer) => boolean, withinMs: number): Promise<boolean> {
  return (await exchangeSecure(port, ca, request, complete, withinMs)) !== undefined;
}

/** The reply to `request` once `complete`, or `undefined` on close, error or timeout. The socket is always destroyed, the timer cleared. */
export function exchangeSecure(port: number, ca: Buffer | undefined, request: Buffer | string, complete: (reply: Buffer) => boolean, withinMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket: Socket = ca === undefined ? createConnection({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ca });
    let reply = Buffer.alloc(0);
    const finish = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), withinMs);
    socket.once(ca === undefined ? 'connect' : 'secureConnect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (complete(reply)) finish(reply);
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** INFO `section` of a TLS redis-server, read over a raw TLS socket after AUTH as `login` (not through the code under test). */
export async function tlsRedisInfo(server: ServerProcess, ca: Buffer, login: RedisLogin, section: string): Promise<Record<string, string>> {
  const request = respCommand('AUTH', login.username, login.password) + respCommand('INFO', section);
  const bulk = (text: string) => {
    const start = text.indexOf('$');
    const header = text.indexOf('\r\n', start);
    return start === -1 || header === -1 ? undefined : { length: Number(text.slice(start + 1, header)), body: text.slice(header + 2) };
  };
  const reply = await exchangeSecure(server.port, ca, request, (bytes) => {
    const found = bulk(bytes.toString('latin1'));
    return found !== undefined && found.body.length >= found.length;
  }, 5000);
  const text = reply?.toString('latin1') ?? '';
  if (!text.startsWith('+OK')) throw new Error(`redis ${server.address} did not accept the login: ${JSON.stringify(text.slice(0, 40))}`);
  return Object.fromEntries(bulk(text)!.body.split('\r\n').flatMap((line) => (line.includes(':') && !line.startsWith('#') ? [line.split(':', 2) as [string, string]] : [])));
}

/** `stats` of a TLS memcached with SASL, read over a raw TLS socket after a SASL PLAIN login as `login`. */
export async function tlsMemcachedStats(server: ServerProcess, ca: Buffer, login: RedisLogin): Promise<Record<string, string>> {
  const SASL_AUTH = 0x21;
  const STAT = 0x10;
  const request = Buffer.concat([memcachedFrame(SASL_AUTH, 'PLAIN', undefined, Buffer.from(`\0${login.username}\0${login.password}`), 1), memcachedFrame(STAT, '', undefined, undefined, 2)]);
  const done = (bytes: Buffer) => parseMemcachedResponses(bytes).responses.some((response) => response.opcode === STAT && response.key === '');
  const reply = await exchangeSecure(server.port, ca, request, done, 5000);
  if (reply === undefined) throw new Error(`memcached ${server.address} did not answer stats`);
  const responses = parseMemcachedResponses(reply).responses;
  if (responses[0]?.status !== 0) throw new Error(`memcached ${server.address} refused the login (status 0x${responses[0]?.status.toString(16)})`);
  return Object.fromEntries(responses.filter((response) => response.opcode === STAT && response.key !== '').map((response) => [response.key, response.value.toString('utf8')]));
}
