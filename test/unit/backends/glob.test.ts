/** Redis glob semantics on in-process nodes (test/integration/invalidation checks them against Redis itself). */
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../../src/backends/glob.js';

describe('glob matcher', () => {
  it.each([
    ['user:*', 'user:1', true],
    ['user:*', 'users:1', false],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h[ae]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-c]llo', 'hbllo', true],
    ['h[c-a]llo', 'hbllo', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a*', 'a', true],
    ['k?y', 'kéy', false], // `?` is one byte, as on the server: é is two
    ['k??y', 'kéy', true],
  ])('%s against %j: %s', (pattern, key, expected) => {
    expect(globMatcher(pattern)(key)).toBe(expected);
  });

  it('stays linear on patterns that backtrack exponentially when done naively', () => {
    const matches = globMatcher('a*a*a*a*a*a*a*a*a*a*a*a*b');
    expect(matches('a'.repeat(5000))).toBe(false);
  });
});
