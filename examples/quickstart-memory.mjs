// In-process nodes: no server needed.  node examples/quickstart-memory.mjs
import { quickstart } from './quickstart.mjs';

await quickstart({ backend: 'memory', nodes: ['node-a:1', 'node-b:2', 'node-c:3'] });
