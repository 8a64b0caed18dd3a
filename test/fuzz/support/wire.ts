/**
 * What the servers themselves hold, read over raw loopback sockets (never
 * through shardcache or a client library), with keys sent as their exact
 * UTF-8 bytes: the stored key is exactly the caller's key, the stored bytes
 * are the codec's, and the TTL the server applied is the one asked for.
 */
import { exchangeBytes, type ServerProcess } from '../../harness/servers.js';

const CRLF = Buffer.from('\r\n');

/** A RESP2 command whose arguments are sent byte for byte. */
function resp(...parts: (string | Buffer)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    chunks.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(chunks);
}

type Reply = Buffer | null | number | Reply[] | { error: string };

/** Parses one RESP2 reply at `offset`; undefined while incomplete. */
function parse(bytes: Buffer, offset: number): { reply: Reply; end: number } | undefined {
  const lineEnd = bytes.indexOf(CRLF, offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(bytes[offset]!);
  const line = bytes.toString('latin1', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { reply: Buffer.from(line, 'latin1'), end: next };
    case '-':
      return { reply: { error: line }, end: next };
    case ':':
      return { reply: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (bytes.length < next + length + 2) return undefined;
      return { reply: bytes.subarray(next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(bytes, at);
        if (item === undefined) return undefined;
        items.push(item.reply);
        at = item.end;
      }
      return { reply: items, end: at };
    }
    default:
      throw new Error(`not a RESP2 reply: ${JSON.stringify(bytes.toString('latin1', offset, offset + 40))}`);
  }
}

async function redis(server: ServerProcess, ...parts: (string | Buffer)[]): Promise<Reply> {
  const reply = await exchangeBytes(server.port, resp(...parts), (bytes) => parse(bytes, 0) !== undefined);
  const parsed = parse(reply, 0)!.reply;
  if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) throw new Error(`redis ${server.address}: ${parsed.error}`);
  return parsed;
}

/** The bytes Redis holds under exactly `key`'s UTF-8 bytes, or undefined. */
export async function redisStored(server: ServerProcess, key: string): Promise<Buffer | undefined> {
  const reply = await redis(server, 'GET', key);
  return reply === null ? undefined : Buffer.from(reply as Buffer);
}

/** Every key on the node, as raw bytes (KEYS is fine on a test server with a handful of keys). */
export async function redisKeys(server: ServerProcess): Promise<Buffer[]> {
  return (await redis(server, 'KEYS', '*')) as Buffer[];
}

/** Seconds left (-1: no expiry, -2: no key). */
export async function redisTtl(server: ServerProcess, key: string): Promise<number> {
  return (await redis(server, 'TTL', key)) as number;
}

/** The bytes memcached holds under exactly `key` (text protocol `get`; the key must be memcached-valid). */
export async function memcachedStored(server: ServerProcess, key: string): Promise<Buffer | undefined> {
  const keyBytes = Buffer.from(key, 'utf8');
  const request = Buffer.concat([Buffer.from('get '), keyBytes, CRLF]);
  const reply = await exchangeBytes(server.port, request, (bytes) => bytes.subarray(-5).toString('latin1') === 'END\r\n' || bytes.indexOf('ERROR') !== -1);
  if (reply.toString('latin1').startsWith('END\r\n')) return undefined;
  const headerEnd = reply.indexOf(CRLF);
  const header = reply.subarray(0, headerEnd);
  // VALUE <key> <flags> <bytes>: the key the server echoes must be ours, byte for byte.
  const prefix = Buffer.concat([Buffer.from('VALUE '), keyBytes, Buffer.from(' ')]);
  if (!header.subarray(0, prefix.length).equals(prefix)) throw new Error(`memcached answered another key: ${JSON.stringify(header.toString('latin1'))}`);
  const length = Number(header.toString('latin1').split(' ').at(-1));
  return Buffer.from(reply.subarray(headerEnd + 2, headerEnd + 2 + length));
}

/** Seconds left per memcached's meta get (`mg <key> t`): -1 for no expiry, undefined for no key. */
export async function memcachedTtl(server: ServerProcess, key: string): Promise<number | undefined> {
  const request = Buffer.concat([Buffer.from('mg '), Buffer.from(key, 'utf8'), Buffer.from(' t\r\n')]);
  const reply = (await exchangeBytes(server.port, request, (bytes) => bytes.includes(CRLF))).toString('latin1');
  if (reply.startsWith('EN')) return undefined;
  const match = /^HD t(-?\d+)\r\n/.exec(reply);
  if (!match) throw new Error(`memcached mg answered ${JSON.stringify(reply)}`);
  return Number(match[1]);
}
