/**
 * Raw memjs peers, one per node, behind shardcache's own ring (default
 * ketama configuration):
 * - single gets and the naive mget use `memjs.Client.create('host:port',
 *   { retries: 0, timeout: 1 })`, one client per node (memjs's own
 *   `hash % n` placement is never used);
 * - the hand-written ideal mget uses memjs's `Server` (one socket per node,
 *   Nagle off), as memjs 1.3 has no multi-get: per node one write of
 *   GETKQ x N then NOOP built in one buffer (the server answers hits only;
 *   the NOOP ends the batch), all nodes in parallel. This is the same wire
 *   client and the same batching shardcache's Memcached backend uses,
 *   without its deadlines, breaker, retries or codec.
 */
import type { Socket } from 'node:net';
import memjs from 'memjs';
import type { Client as MemjsClient, Response, Server as MemjsServer } from 'memjs';
import { DEFAULTS, Ring } from '../lib/sut.js';
import { withTimeout } from '../lib/compare.js';
import { hostPort, scatterByNode, type NodeClient, type Peer } from './peer.js';

const { Client, Server } = memjs;
const GETKQ = 0x0d;
const NOOP = 0x0a;

export type MgetStyle = 'none' | 'ideal' | 'naive';

export async function memjsRingPeer(name: string, addresses: readonly string[], mget: MgetStyle = 'none'): Promise<Peer> {
  const nodes: NodeClient<MemjsClient>[] = addresses.map((address) => ({
    address,
    ...hostPort(address),
    weight: 1,
    client: Client.create(address, { retries: 0, timeout: 1 }),
  }));
  const ring = Ring.build(nodes, { ...DEFAULTS.ring });
  const get = (key: string): Promise<string | undefined> => ring.lookup(key)!.client.get(key).then(valueText);
  await withTimeout(Promise.all(nodes.map((n) => n.client.get('bench:connect'))), 10_000, 'memjs connect');
  const servers: MemjsServer[] = [];
  const peer: Peer = {
    name,
    get,
    async teardown() {
      for (const n of nodes) n.client.close();
      for (const s of servers) s.close();
    },
  };
  if (mget === 'naive') return Object.assign(peer, { mget: (keys: readonly string[]) => Promise.all(keys.map(get)) });
  if (mget === 'ideal') {
    const batchNodes: NodeClient<GetkqConnection>[] = addresses.map((address) => {
      const server = new Server(hostPort(address).host, hostPort(address).port, undefined, undefined, { timeout: 1 });
      servers.push(server);
      return { address, ...hostPort(address), weight: 1, client: new GetkqConnection(server) };
    });
    const batchRing = Ring.build(batchNodes, { ...DEFAULTS.ring });
    const ownerOf = (key: string) => batchRing.lookup(key)!;
    return Object.assign(peer, {
      async mget(keys: readonly string[]): Promise<(string | undefined)[]> {
        const values: (string | undefined)[] = new Array(keys.length).fill(undefined);
        await Promise.all(scatterByNode(keys, ownerOf).map((batch) => batch.client.getMany(batch.keys, batch.positions, values)));
        return values;
      },
    });
  }
  return peer;
}

function valueText(result: { value: Buffer | null }): string | undefined {
  return result.value === null ? undefined : result.value.toString('utf8');
}

/**
 * GETKQ x N + NOOP on one memjs Server; all frames of a batch share one
 * opaque, and are written into one buffer (24-byte header + key each, then
 * the NOOP header) in one write, on a socket with Nagle off.
 */
class GetkqConnection {
  #opaque = 0;
  constructor(private readonly server: MemjsServer) {}

  getMany(keys: readonly string[], positions: readonly number[], into: (string | undefined)[]): Promise<void> {
    const opaque = (this.#opaque = (this.#opaque + 1) >>> 0);
    const slot = new Map<string, number>();
    let size = HEADER;
    for (let i = 0; i < keys.length; i++) {
      slot.set(keys[i]!, positions[i]!);
      size += HEADER + Buffer.byteLength(keys[i]!);
    }
    const frames = Buffer.alloc(size);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const keyBytes = frames.write(keys[i]!, at + HEADER, 'utf8');
      header(frames, at, GETKQ, keyBytes, opaque);
      at += HEADER + keyBytes;
    }
    header(frames, at, NOOP, 0, opaque);
    return new Promise((resolve, reject) => {
      const handler = Object.assign(
        (response: Response) => {
          if (response.header.opcode === NOOP) {
            resolve();
            return;
          }
          if (response.header.status !== 0) {
            reject(new Error(`memcached status ${response.header.status}`));
            return;
          }
          const at = slot.get(response.key.toString('utf8'));
          if (at === undefined) reject(new Error('memcached answered a key that was not asked for'));
          else into[at] = response.val.toString('utf8');
        },
        { quiet: true },
      );
      this.server.onResponse(opaque, handler);
      this.server.onError(opaque, reject);
      this.server.write(frames);
      noDelay(this.server);
    });
  }
}

const HEADER = 24;

function header(frames: Buffer, at: number, opcode: number, keyBytes: number, opaque: number): void {
  frames[at] = 0x80;
  frames[at + 1] = opcode;
  frames.writeUInt16BE(keyBytes, at + 2);
  frames.writeUInt32BE(keyBytes, at + 8);
  frames.writeUInt32BE(opaque, at + 12);
}

/** memjs leaves Nagle on; its socket is the internal `_socket`, present once connected. */
function noDelay(server: MemjsServer): void {
  const socket = (server as unknown as { _socket?: Socket & { noDelaySet?: boolean } })._socket;
  if (socket !== undefined && socket.noDelaySet !== true) {
    socket.setNoDelay(true);
    socket.noDelaySet = true;
  }
}
