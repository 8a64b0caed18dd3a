/**
 * Redis glob matching (`KEYS` / `SCAN MATCH`), so in-process nodes delete
 * exactly the keys a Redis node would: a port of Redis's `stringmatchlen`
 * (src/util.c), byte by byte over UTF-8 like the server. `*` any run of
 * bytes, `?` one byte, `[abc]` `[^a]` `[a-z]` classes (a reversed range is
 * swapped, an unclosed class runs to the end of the pattern), `\x` a literal
 * `x`; anything else is literal. Pure.
 */
export function globMatcher(pattern: string): (key: string) => boolean {
  const compiled = Buffer.from(pattern, 'utf8');
  return (key) => matches(compiled, 0, Buffer.from(key, 'utf8'), 0, { giveUp: false });
}

/**
 * `state.giveUp` is Redis's `skipLongerMatches`: once a `*` has tried every
 * suffix and failed, outer `*`s cannot succeed either, which keeps patterns
 * such as `a*a*a*a*b` linear instead of exponential.
 */
function matches(pattern: Buffer, p: number, text: Buffer, t: number, state: { giveUp: boolean }): boolean {
  while (p < pattern.length && t < text.length) {
    const char = pattern[p]!;
    if (char === STAR) {
      while (pattern[p + 1] === STAR) p++;
      if (p + 1 === pattern.length) return true;
      for (; t < text.length; t++) {
        if (matches(pattern, p + 1, text, t, state)) return true;
        if (state.giveUp) return false;
      }
      state.giveUp = true;
      return false;
    }
    if (char === QUESTION) {
      t++;
    } else if (char === OPEN) {
      p++;
      const negate = pattern[p] === CARET;
      if (negate) p++;
      let matched = false;
      const byte = text[t]!;
      for (;;) {
        if (pattern[p] === BACKSLASH && pattern.length - p >= 2) {
          p++;
          if (pattern[p] === byte) matched = true;
        } else if (pattern[p] === CLOSE) {
          break;
        } else if (p >= pattern.length) {
          p--;
          break;
        } else if (pattern.length - p >= 3 && pattern[p + 1] === DASH) {
          const from = Math.min(pattern[p]!, pattern[p + 2]!);
          const to = Math.max(pattern[p]!, pattern[p + 2]!);
          p += 2;
          if (byte >= from && byte <= to) matched = true;
        } else if (pattern[p] === byte) {
          matched = true;
        }
        p++;
      }
      if (matched === negate) return false;
      t++;
    } else {
      if (char === BACKSLASH && pattern.length - p >= 2) p++;
      if (pattern[p] !== text[t]) return false;
      t++;
    }
    p++;
    if (t === text.length) {
      while (pattern[p] === STAR) p++;
      break;
    }
  }
  return p >= pattern.length && t === text.length;
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
