/**
 * Key checks, done before a key is hashed or sent: a bad key is a programming
 * error and rejects the whole call with nothing sent.
 */
import type { KeyRules } from '../backends/backend.js';
import { InvalidKeyError } from '../errors.js';

// Space, DEL and C0 controls: memcached's text protocol ends keys at them.
// Anchored and negated, the match runs in one pass with no restarts (about
// twice as fast as searching for a bad character, and mget checks every key).
const NO_SPACE_OR_CONTROL = /^[^\u0000-\u0020\u007f]*$/;

export function checkKey(key: unknown, rules: KeyRules): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(`key must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError('key must not be empty');
  // length * 3 bounds the UTF-8 size from above, so most keys skip the count.
  if (key.length * 3 > rules.maxKeyBytes) {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > rules.maxKeyBytes) {
      throw new InvalidKeyError(`key is ${bytes} bytes, over this backend's limit of ${rules.maxKeyBytes}: ${preview(key)}`);
    }
  }
  // A lone surrogate has no UTF-8 form: the wire would carry U+FFFD, so two
  // different strings would name one entry.
  if (!key.isWellFormed()) throw new InvalidKeyError(`key is not well-formed Unicode (it has a lone surrogate): ${JSON.stringify(preview(key))}`);
  if (rules.forbidSpaceAndControl && !NO_SPACE_OR_CONTROL.test(key)) {
    throw new InvalidKeyError(`key contains whitespace or a control character, which memcached forbids: ${JSON.stringify(preview(key))}`);
  }
}

function preview(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}...` : key;
}
