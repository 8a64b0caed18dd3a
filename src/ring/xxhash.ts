/** xxhash-wasm needs an async instantiation; done once per process and shared. */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { Hash32 } from './ring.js';

let api: Promise<XXHashAPI> | undefined;

export function loadXxhash(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

export async function loadXxhash32(): Promise<Hash32> {
  const { h32 } = await loadXxhash();
  return (text: string) => h32(text, 0);
}
