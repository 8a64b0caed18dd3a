// An OpenTelemetry span for each getOrLoad, with the database call as its
// child, from shardcache's diagnostics_channel tracing channels: shardcache
// does not depend on OpenTelemetry, this subscriber does.
//
//   npm run build && node examples/opentelemetry.mjs
//
// How: `start.bindStore` runs each getOrLoad inside a context holding its
// span (so the loader's spans become children), and `asyncEnd`/`error` end
// it. An APM agent's instrumentation does the same with its own context
// manager; the small one below keeps the example to @opentelemetry/api and
// @opentelemetry/sdk-trace-base.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createCache } from 'shardcache';

// A context manager on one AsyncLocalStorage, which the tracing channel binds too.
const storage = new AsyncLocalStorage();
context.setGlobalContextManager({
  active: () => storage.getStore() ?? ROOT_CONTEXT,
  with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.apply(thisArg, args)),
  bind: (ctx, target) => (typeof target === 'function' ? (...args) => storage.run(ctx, () => target(...args)) : target),
  enable() {
    return this;
  },
  disable() {
    storage.disable();
    return this;
  },
});
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const tracer = trace.getTracer('shardcache-example');

// The instrumentation: one span per getOrLoad.
const getOrLoad = diagnostics.tracingChannel('shardcache:getOrLoad');
getOrLoad.start.bindStore(storage, (message) => {
  message.span = tracer.startSpan('shardcache getOrLoad', { attributes: { 'db.system': 'shardcache', 'db.operation.name': 'getOrLoad', 'shardcache.key': message.key } });
  return trace.setSpan(storage.getStore() ?? ROOT_CONTEXT, message.span);
});
getOrLoad.subscribe({
  start() {},
  end() {},
  asyncStart() {},
  error(message) {
    message.span.recordException(message.error);
    message.span.setStatus({ code: SpanStatusCode.ERROR });
  },
  asyncEnd(message) {
    message.span.end();
  },
});
// Whether the loader ran shows as the child span the loader makes (below), or as `shardcache:load` events.

const cache = await createCache({ backend: 'memory', nodes: ['node-a:1', 'node-b:2'] });
const userFromDatabase = (id) => async () =>
  tracer.startActiveSpan('SELECT users', async (span) => {
    span.end();
    return { id, name: 'Ada' };
  });

await tracer.startActiveSpan('GET /users/1', async (request) => {
  await cache.getOrLoad('user:1', userFromDatabase(1), { ttl: 60 }); // miss: the database is asked
  await cache.getOrLoad('user:1', userFromDatabase(1), { ttl: 60 }); // hit: no database span
  request.end();
});
await cache.close();

// Printed as a tree, each span under its parent: start times alone can tie or
// invert for spans started within a microsecond (the SDK's clock is a float).
const spans = exporter.getFinishedSpans();
const children = new Map();
for (const span of spans) {
  const parent = span.parentSpanContext?.spanId;
  children.set(parent, [...(children.get(parent) ?? []), span]);
}
const byStart = (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
const print = (parent, depth) => {
  for (const span of (children.get(parent) ?? []).sort(byStart)) {
    console.log(`${'  '.repeat(depth)}${span.name}${span.attributes['shardcache.key'] ? ` key=${span.attributes['shardcache.key']}` : ''}`);
    print(span.spanContext().spanId, depth + 1);
  }
};
print(undefined, 0);
