/** xxhash-wasm needs an async instantiation; done once per process. */
import xxhash from 'xxhash-wasm';
import type { Hash32 } from './ring.js';

let instance: Promise<Hash32> | undefined;

export function loadXxhash32(): Promise<Hash32> {
  instance ??= xxhash().then((api) => (text: string) => api.h32(text, 0));
  return instance;
}
