// Against Memcached.  node examples/quickstart-memcached.mjs 127.0.0.1:11211 127.0.0.1:11212
import { quickstart } from './quickstart.mjs';

const nodes = process.argv.slice(2);
await quickstart({ backend: 'memcached', nodes: nodes.length > 0 ? nodes : ['127.0.0.1:11211'] });
