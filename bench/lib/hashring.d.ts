/** The part of the untyped `hashring` package (3.x) the benchmarks use. */
declare module 'hashring' {
  export default class HashRing {
    constructor(servers: Record<string, number>);
    get(key: string): string;
  }
}
