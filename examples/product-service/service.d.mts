// Types for service.mjs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from './catalog.mjs';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export function createProductService(options: { catalog: Catalog; ops?: Handler; log?: (line: string) => void }): Handler;
