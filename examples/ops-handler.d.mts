// Types for the example handler, so TypeScript tests and applications can import it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ShardedCache } from '../src/index.js';

export function createOpsHandler(options: { cache: ShardedCache; registry: Registry; token: string; log?: (line: string) => void }): (request: IncomingMessage, response: ServerResponse) => void;
