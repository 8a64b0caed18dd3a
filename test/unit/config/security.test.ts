/**
 * The `tls` and `auth` options, `user:pass@host:port` node strings and the
 * SHARDCACHE_TLS* / SHARDCACHE_AUTH_* variables: what is accepted, what a
 * node inherits, and that no ConfigError or printed form holds a secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../../src/config/load.js';
import { Credentials, TlsSettings } from '../../../src/secrets.js';
import { SECURITY_ENV_VARIABLE_NAMES } from '../../../src/config/security-env.js';
import { ConfigError } from '../../../src/errors.js';

const SECRET = 'hunter2-Zq9';
const dir = mkdtempSync(join(tmpdir(), 'shardcache-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (options: Record<string, unknown>, env: Record<string, string> = {}) => loadOptions({ backend: 'redis', nodes: ['10.0.0.1:6379'], ...options }, env);

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('tls and auth options', () => {
  it('applies to every node unless a node has its own; tls: false turns a node to plain TCP', async () => {
    const resolved = await load({
      nodes: ['10.0.0.1:6379', { host: '10.0.0.2', port: 6379, tls: false, auth: { password: 'other' } }],
      tls: { servername: 'cache.internal' },
      auth: { username: 'app', password: SECRET },
    });
    expect(resolved.tls).toBeInstanceOf(TlsSettings);
    expect(resolved.tls!.connectionOptions('10.0.0.1', 6379)).toEqual({ servername: 'cache.internal', host: '10.0.0.1', port: 6379 });
    expect(resolved.auth?.username).toBe('app');
    expect(resolved.auth?.revealPassword()).toBe(SECRET);
    expect(resolved.nodes[0]!.tls).toBeUndefined();
    expect(resolved.nodes[1]!.tls).toBe(false);
    expect(resolved.nodes[1]!.auth?.username).toBeUndefined();
    expect(resolved.nodes[1]!.auth?.revealPassword()).toBe('other');
  });

  it('tls: true is Node defaults; omitted or false is plain TCP', async () => {
    expect((await load({ tls: true })).tls!.connectionOptions('h', 1)).toEqual({ host: 'h', port: 1 });
    expect((await load({})).tls).toBeUndefined();
    expect((await load({ tls: false })).tls).toBeUndefined();
  });

  it('reads user:pass@host:port node strings, percent-decoded, and keeps them out of the address', async () => {
    const resolved = await load({ nodes: [`app:${encodeURIComponent('p@ss:word')}@10.0.0.1:6379:2`, `:${SECRET}@[::1]:6380`] });
    expect(resolved.nodes[0]).toMatchObject({ host: '10.0.0.1', port: 6379, weight: 2, address: '10.0.0.1:6379' });
    expect(resolved.nodes[0]!.auth?.username).toBe('app');
    expect(resolved.nodes[0]!.auth?.revealPassword()).toBe('p@ss:word');
    expect(resolved.nodes[1]).toMatchObject({ host: '::1', address: '[::1]:6380' });
    expect(resolved.nodes[1]!.auth?.username).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['auth not an object', { auth: SECRET }, 'auth'],
    ['password missing', { auth: { username: 'app' } }, 'auth.password'],
    ['password a number', { auth: { password: 4711 } }, 'auth.password'],
    ['password with a NUL', { auth: { username: 'app', password: `${SECRET}\u0000` } }, 'auth.password'],
    ['username with a space', { auth: { username: 'a b', password: SECRET } }, 'auth.username'],
    ['unknown auth field', { auth: { password: SECRET, token: SECRET } }, 'auth.token'],
    ['tls a string', { tls: SECRET }, 'tls'],
    ['tls.ca a number', { tls: { ca: 1, passphrase: SECRET } }, 'tls.ca'],
    ['tls.key an object', { tls: { key: { secret: SECRET } } }, 'tls.key'],
    ['node auth bad', { nodes: [{ host: 'h', port: 1, auth: { password: '' } }] }, 'nodes[0].auth.password'],
    ['node tls bad', { nodes: [{ host: 'h', port: 1, tls: 'yes' }] }, 'nodes[0].tls'],
    ['node port bad beside a login', { nodes: [{ host: 'h', port: 0, auth: { password: SECRET } }] }, 'nodes[0]'],
    ['node string malformed with a login', { nodes: [`app:${SECRET}@h:port`] }, 'nodes[0]'],
    ['node string with a login but no user separator', { nodes: [`${SECRET}@h:1`] }, 'nodes[0]'],
    ['node string with bad percent-encoding', { nodes: [`app:${SECRET}%zz@h:1`] }, 'nodes[0]'],
    ['nodes a string with a login', { nodes: `app:${SECRET}@h:1` }, 'nodes'],
  ])('%s: ConfigError on %s naming the option, never the secret', async (_, options, option) => {
    const error = await configError(load(options));
    expect(error.option).toBe(option);
    expect(`${error.message}\n${error.stack}\n${inspect(error, { showHidden: true, depth: Infinity })}\n${JSON.stringify(error)}`).not.toContain(SECRET);
  });
});

describe('printing resolved secrets', () => {
  it('Credentials and TlsSettings show [redacted] in JSON, inspect and String', () => {
    const credentials = new Credentials('app', SECRET);
    const tls = new TlsSettings({ key: `-----BEGIN PRIVATE KEY-----${SECRET}`, passphrase: SECRET, ca: Buffer.from('ca'), servername: 's' });
    for (const text of [JSON.stringify({ credentials, tls }), inspect({ credentials, tls }, { showHidden: true, depth: Infinity }), String(credentials), String(tls), Object.keys(credentials).join()]) {
      expect(text).not.toContain(SECRET);
    }
    expect(JSON.parse(JSON.stringify(tls))).toEqual({ key: '[redacted]', passphrase: '[redacted]', ca: '[PEM]', servername: 's' });
    expect(credentials.scrub(`ERR unknown command 'AUTH', with args beginning with: 'app' '${SECRET}'`)).toBe("ERR unknown command 'AUTH', with args beginning with: 'app' '[redacted]'");
  });
});

describe('SHARDCACHE_TLS* and SHARDCACHE_AUTH_* variables', () => {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('read the CA, certificate and key files, the server name, the user and the password (or its file, final newline dropped)', async () => {
    const env = {
      SHARDCACHE_TLS_CA_FILE: file('ca.pem', 'CA PEM'),
      SHARDCACHE_TLS_CERT_FILE: file('cert.pem', 'CERT PEM'),
      SHARDCACHE_TLS_KEY_FILE: file('key.pem', 'KEY PEM'),
      SHARDCACHE_TLS_SERVERNAME: 'cache.internal',
      SHARDCACHE_AUTH_USERNAME: 'app',
      SHARDCACHE_AUTH_PASSWORD_FILE: file('password', `${SECRET}\n`),
    };
    const resolved = await load({}, env);
    const tls = resolved.tls!.connectionOptions('h', 1);
    expect([String(tls.ca), String(tls.cert), String(tls.key), tls.servername]).toEqual(['CA PEM', 'CERT PEM', 'KEY PEM', 'cache.internal']);
    expect(resolved.auth?.username).toBe('app');
    expect(resolved.auth?.revealPassword()).toBe(SECRET);
  });

  it('SHARDCACHE_TLS=true alone is tls: true; the caller’s auth replaces the environment’s whole', async () => {
    const resolved = await load({ auth: { password: 'mine' } }, { SHARDCACHE_TLS: 'true', SHARDCACHE_AUTH_USERNAME: 'app', SHARDCACHE_AUTH_PASSWORD: SECRET });
    expect(resolved.tls!.connectionOptions('h', 1)).toEqual({ host: 'h', port: 1 });
    expect(resolved.auth?.username).toBeUndefined();
    expect(resolved.auth?.revealPassword()).toBe('mine');
  });

  it.each<[string, Record<string, string>, string]>([
    ['both password variables', { SHARDCACHE_AUTH_PASSWORD: SECRET, SHARDCACHE_AUTH_PASSWORD_FILE: '/nonexistent' }, 'SHARDCACHE_AUTH_PASSWORD_FILE'],
    ['a user without a password', { SHARDCACHE_AUTH_USERNAME: 'app' }, 'SHARDCACHE_AUTH_USERNAME'],
    ['a password file that cannot be read', { SHARDCACHE_AUTH_PASSWORD_FILE: join(dir, 'missing') }, 'SHARDCACHE_AUTH_PASSWORD_FILE'],
    ['a CA file that cannot be read', { SHARDCACHE_TLS_CA_FILE: join(dir, 'missing.pem') }, 'SHARDCACHE_TLS_CA_FILE'],
    ['TLS off with TLS files', { SHARDCACHE_TLS: 'false', SHARDCACHE_TLS_CA_FILE: join(dir, 'ca.pem') }, 'SHARDCACHE_TLS'],
    ['TLS neither true nor false', { SHARDCACHE_TLS: 'maybe' }, 'SHARDCACHE_TLS'],
  ])('%s: ConfigError naming %s', async (_, env, variable) => {
    const error = await configError(load({}, env));
    expect(error.option).toBe(variable);
    expect(error.message).not.toContain(SECRET);
  });

  it('README lists every one of them in its security section', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Security'));
    expect(readme).toContain('## Security');
    for (const variable of SECURITY_ENV_VARIABLE_NAMES) expect(section, variable).toContain(`\`${variable}\``);
  });
});
