/**
 * Raw ioredis peers. Directly on the servers: `new Redis({ host, port,
 * protocol: 2 })`, ioredis's defaults otherwise (optionally with
 * `enableAutoPipelining`), one client per node, and shardcache's own ring
 * (default ketama configuration) to pick the node, so placement costs the
 * same and every key is where shardcache put it.
 *
 * Through twemproxy: the same client pointed at nutcracker. Two connection
 * defaults have to go, or twemproxy closes the connection: the ready check
 * (`INFO`) and `CLIENT SETINFO` are commands it does not proxy. Neither is
 * on the request path.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULTS, Ring } from '../lib/sut.js';
import { withTimeout } from '../lib/compare.js';
import { hostPort, scatterByNode, type NodeClient, type Peer } from './peer.js';

export type MgetStyle = 'none' | 'ideal' | 'naive';

export interface IoredisPeerOptions {
  readonly autoPipelining?: boolean;
  /** How `mget` is done: one MGET per node in parallel, or a Promise.all of single GETs. */
  readonly mget?: MgetStyle;
  /** More ioredis options (TLS, a login), for peers of the same server setup as shardcache's. */
  readonly redis?: RedisOptions;
}

function client(address: string, extra: RedisOptions): Redis {
  const redis = new Redis({ ...hostPort(address), protocol: 2, ...extra });
  redis.on('error', () => {}); // failures reach callers through rejected commands
  return redis;
}

async function connected(clients: readonly Redis[]): Promise<void> {
  await withTimeout(Promise.all(clients.map((c) => c.ping())), 10_000, 'ioredis connect');
}

export async function ioredisRingPeer(name: string, addresses: readonly string[], options: IoredisPeerOptions = {}): Promise<Peer> {
  const extra: RedisOptions = { ...(options.autoPipelining ? { enableAutoPipelining: true } : {}), ...options.redis };
  const nodes: NodeClient<Redis>[] = addresses.map((address) => ({ address, ...hostPort(address), weight: 1, client: client(address, extra) }));
  await connected(nodes.map((n) => n.client));
  const ring = Ring.build(nodes, { ...DEFAULTS.ring });
  const get = (key: string): Promise<string | undefined> => ring.lookup(key)!.client.get(key).then(nullToUndefined);
  const peer: Peer = {
    name,
    get,
    async teardown() {
      for (const n of nodes) n.client.disconnect();
    },
  };
  if (options.mget === 'ideal') {
    const ownerOf = (key: string) => ring.lookup(key)!;
    // Scatter with the same ring, one MGET per node, all in parallel, write each answer into its slot.
    return Object.assign(peer, {
      async mget(keys: readonly string[]): Promise<(string | undefined)[]> {
        const values: (string | undefined)[] = new Array(keys.length).fill(undefined);
        await Promise.all(
          scatterByNode(keys, ownerOf).map(async (batch) => {
            const answers = await batch.client.mget(batch.keys);
            for (let i = 0; i < answers.length; i++) values[batch.positions[i]!] = answers[i] ?? undefined;
          }),
        );
        return values;
      },
    });
  }
  if (options.mget === 'naive') {
    return Object.assign(peer, { mget: (keys: readonly string[]) => Promise.all(keys.map(get)) });
  }
  return peer;
}

export async function ioredisProxyPeer(name: string, proxyAddress: string, options: IoredisPeerOptions = {}): Promise<Peer> {
  const redis = client(proxyAddress, { enableReadyCheck: false, disableClientInfo: true, ...(options.autoPipelining ? { enableAutoPipelining: true } : {}) });
  await connected([redis]);
  return {
    name,
    get: (key) => redis.get(key).then(nullToUndefined),
    mget: async (keys) => (await redis.mget(keys as string[])).map(nullToUndefined),
    async teardown() {
      redis.disconnect();
    },
  };
}

function nullToUndefined<T>(value: T | null): T | undefined {
  return value ?? undefined;
}
