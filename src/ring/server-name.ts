/**
 * The text a server is hashed under on the continuum. Both libmemcached and
 * twemproxy drop the port when it is memcached's default 11211 (libketama
 * keeps it: mixing the two conventions moves most keys). twemproxy hashes a
 * server's alias instead when the config names one.
 */
import type { RingCompat } from '../config/options.js';

const MEMCACHED_DEFAULT_PORT = 11211;

export interface NamedServer {
  readonly host: string;
  readonly port: number;
  readonly name?: string | undefined;
}

export function continuumName(server: NamedServer, compat: RingCompat): string {
  if (compat === 'twemproxy' && server.name !== undefined) return server.name;
  return server.port === MEMCACHED_DEFAULT_PORT ? server.host : `${server.host}:${server.port}`;
}
