/**
 * The end-to-end benchmark's load: autocannon against the product service
 * at a fixed request rate, ids drawn from Zipf(0.99): 90% GET /products/:id,
 * 5% GET /products?ids= (10 ids), 5% PUT /products/:id.
 *
 * autocannon limits each connection to its share of the rate per wall-clock
 * second, sending that share back to back when the second starts. One
 * instance would thus send the whole second's requests in one burst; this
 * runs `INSTANCES` instances started 1/INSTANCES s apart, so the load comes
 * in that many smaller bursts per second.
 *
 * Every response is checked against the versions the service acknowledged
 * (`VersionLedger`): a product read in a request sent after an update's
 * response arrived must carry that update's version or a later one.
 * Latency is autocannon's own per-response time (request written to
 * response read), without its coordinated-omission correction.
 */
import autocannon from 'autocannon';

const INSTANCES = 10;
const BATCH_IDS = 10;
const MIX = { read: 0.9, batch: 0.05 };
const MAX_EXAMPLES = 10;

export class VersionLedger {
  readonly #acked = new Map<number, number>();
  checked = 0;
  stale = 0;
  readonly examples: string[] = [];

  /** The newest version acknowledged so far (0 when the product was never updated in this run). */
  floor(id: number): number {
    return this.#acked.get(id) ?? 0;
  }

  ack(id: number, version: number): void {
    if (version > this.floor(id)) this.#acked.set(id, version);
  }

  check(id: number, version: number, floor: number, what: string): void {
    this.checked++;
    if (version >= floor) return;
    this.stale++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push(`${what} of ${id} answered version ${version}; version ${floor} was acknowledged before the request was sent`);
  }

  updated(): [number, number][] {
    return [...this.#acked];
  }
}

/** Every response and error, with the time it arrived (ms on the run's clock). */
export class Recorder {
  readonly at: number[] = [];
  readonly latencyMs: number[] = [];
  readonly ok: boolean[] = [];
  readonly errorsAt: number[] = [];
  readonly statuses = new Map<number, number>();

  constructor(readonly clock: () => number) {}

  response(status: number, latencyMs: number): void {
    this.at.push(this.clock());
    this.latencyMs.push(latencyMs);
    this.ok.push(status >= 200 && status < 300);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  error(): void {
    this.errorsAt.push(this.clock());
  }
}

interface Expectation {
  readonly kind: 'read' | 'batch' | 'update';
  readonly ids: readonly number[];
  readonly floors: readonly number[];
}

interface Product {
  readonly id: number;
  readonly version: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly rate: number;
  readonly seconds: number;
  /** Uniform in [0, 1), seeded. */
  readonly random: () => number;
  /** A product id from the Zipf distribution. */
  readonly productId: () => number;
  readonly ledger: VersionLedger;
  readonly recorder: Recorder;
  /** Stops the load early (autocannon's instances are stopped). */
  readonly signal: AbortSignal;
}

/** Runs the load for `seconds` (plus the stagger); resolves once every instance is done. */
export async function drive(options: LoadOptions): Promise<void> {
  const { random, productId, ledger, recorder } = options;
  const setupRequest = (request: autocannon.Request, context: Record<string, unknown>): autocannon.Request => {
    const roll = random();
    if (roll < MIX.read) {
      const id = productId();
      context['expect'] = { kind: 'read', ids: [id], floors: [ledger.floor(id)] } satisfies Expectation;
      return { ...request, method: 'GET', path: `/products/${id}`, body: '', headers: {} };
    }
    if (roll < MIX.read + MIX.batch) {
      const ids = Array.from({ length: BATCH_IDS }, () => productId());
      context['expect'] = { kind: 'batch', ids, floors: ids.map((id) => ledger.floor(id)) } satisfies Expectation;
      return { ...request, method: 'GET', path: `/products?ids=${ids.join(',')}`, body: '', headers: {} };
    }
    const id = productId();
    context['expect'] = { kind: 'update', ids: [id], floors: [ledger.floor(id)] } satisfies Expectation;
    return { ...request, method: 'PUT', path: `/products/${id}`, body: JSON.stringify({ priceCents: Math.floor(random() * 100_000) }), headers: { 'content-type': 'application/json' } };
  };
  const onResponse = (status: number, body: string, context: Record<string, unknown>): void => {
    const expected = context['expect'] as Expectation | undefined;
    if (expected === undefined || status !== 200) return;
    const parsed = JSON.parse(body) as Product | { products: (Product | null)[] };
    if (expected.kind === 'batch') {
      (parsed as { products: (Product | null)[] }).products.forEach((product, i) => {
        if (product !== null) ledger.check(expected.ids[i]!, product.version, expected.floors[i]!, 'a batch read');
      });
      return;
    }
    const product = parsed as Product;
    if (expected.kind === 'read') return ledger.check(product.id, product.version, expected.floors[0]!, 'a read');
    // An update's own answer is newer than anything acknowledged before it was sent.
    ledger.check(product.id, product.version, expected.floors[0]! + 1, 'an update');
    ledger.ack(product.id, product.version);
  };

  const perInstance = options.rate / INSTANCES;
  const runs: Promise<void>[] = [];
  const instances: autocannon.Instance[] = [];
  for (let i = 0; i < INSTANCES && !options.signal.aborted; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000 / INSTANCES));
    let finished: (error: Error | null) => void = () => {};
    runs.push(new Promise<void>((resolve, reject) => (finished = (error) => (error ? reject(error) : resolve()))));
    const instance = autocannon(
      {
        url: options.url,
        // Two requests per connection per second: bursts stay small, and a slow answer delays only its connection.
        connections: Math.max(1, Math.round(perInstance / 2)),
        overallRate: perInstance,
        duration: options.seconds,
        timeout: 10,
        requests: [{ setupRequest, onResponse } as autocannon.Request],
        skipAggregateResult: true,
      },
      (error) => finished(error),
    );
    instance.on('response', (_client, status, _bytes, latencyMs) => recorder.response(status, latencyMs));
    instance.on('reqError', () => recorder.error());
    instances.push(instance);
  }
  const stop = () => instances.forEach((instance) => instance.stop());
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(runs);
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}
