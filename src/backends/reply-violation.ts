/**
 * What a reply scanner throws at the first byte that breaks its protocol or
 * the reply bound (reply-guard.ts); the message says which rule.
 */
export class ReplyViolation extends Error {
  override readonly name = 'ReplyViolation';
}
