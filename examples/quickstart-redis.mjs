// Against Redis.  node examples/quickstart-redis.mjs 127.0.0.1:6379 127.0.0.1:6380
import { quickstart } from './quickstart.mjs';

const nodes = process.argv.slice(2);
await quickstart({ backend: 'redis', nodes: nodes.length > 0 ? nodes : ['127.0.0.1:6379'] });
