/** The part of the untyped `hashring` package the distribution tool uses. */
declare module 'hashring' {
  export default class HashRing {
    constructor(servers: Record<string, number>);
    get(key: string): string;
  }
}
