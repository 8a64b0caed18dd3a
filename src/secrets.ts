/**
 * Secrets as the library holds them once options are validated. A password
 * or a private key never sits in an enumerable property, and every way a
 * value becomes text (`JSON.stringify`, `util.inspect`, `String`) shows
 * `[redacted]` in its place. Only the wire adapters read a secret, through
 * `revealPassword()` / `connectionOptions()`, at the moment they dial.
 *
 * What must stay true: no method here returns a secret except those two, and
 * `scrub` is applied to any text that came from a server or a wire client
 * before it reaches an error, an event or a log line (servers can echo a
 * command's arguments in their error replies).
 */
import { inspect } from 'node:util';
import type { ConnectionOptions } from 'node:tls';

export const REDACTED = '[redacted]';

/** TLS options that are secrets: never shown. */
const SECRET_TLS_OPTIONS = new Set(['key', 'passphrase', 'pfx']);

/** A login: an ACL user (Redis) or SASL user (memcached), or a password alone (Redis legacy AUTH). */
export class Credentials {
  readonly username: string | undefined;
  readonly #password: string;

  constructor(username: string | undefined, password: string) {
    this.username = username;
    this.#password = password;
    Object.freeze(this);
  }

  /** The password, for the wire adapter that sends it. Nothing else calls this. */
  revealPassword(): string {
    return this.#password;
  }

  /** `text` with every occurrence of the password replaced by `[redacted]`. */
  scrub(text: string): string {
    return text.includes(this.#password) ? text.split(this.#password).join(REDACTED) : text;
  }

  /** Who logs in, for messages: `user "app"`, or `the default user (password only)`. */
  describeUser(): string {
    return this.username === undefined ? 'the default user (password only)' : `user ${JSON.stringify(this.username)}`;
  }

  toJSON(): { username: string | undefined; password: string } {
    return { username: this.username, password: REDACTED };
  }

  toString(): string {
    return `Credentials(${this.describeUser()}, password ${REDACTED})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** TLS options to dial with (`tls: true` is `{}`); the private key and its passphrase never show. */
export class TlsSettings {
  readonly #options: Readonly<ConnectionOptions>;

  constructor(options: ConnectionOptions) {
    this.#options = Object.freeze({ ...options });
    Object.freeze(this);
  }

  /** What `tls.connect` takes for this node. A fresh object each time: `tls.connect` may write to it. */
  connectionOptions(host: string, port: number): ConnectionOptions {
    return { ...this.#options, host, port };
  }

  toJSON(): Record<string, unknown> {
    const shown: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(this.#options)) {
      if (SECRET_TLS_OPTIONS.has(name)) shown[name] = REDACTED;
      else if (typeof value === 'function') shown[name] = '[function]';
      else if (Buffer.isBuffer(value) || (Array.isArray(value) && value.some((item) => Buffer.isBuffer(item)))) shown[name] = '[PEM]';
      else shown[name] = value;
    }
    return shown;
  }

  toString(): string {
    return `TlsSettings ${JSON.stringify(this.toJSON())}`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Keys of option objects whose values are secrets, whatever they hold. */
const SECRET_KEYS = new Set(['password', 'passphrase', 'key', 'pfx']);
/** `user:pass@` at the start of a node string (or after a `//`). */
const CREDENTIALS_IN_ADDRESS = /(^|\/\/|[\s,"'[])([^\s,"'@/[\]]*):([^\s,"']*)@/g;

/** `app:secret@10.0.0.1:6379` as `app:[redacted]@10.0.0.1:6379`. */
export function redactAddressText(text: string): string {
  return text.replace(CREDENTIALS_IN_ADDRESS, (_, lead: string, user: string) => `${lead}${user}:${REDACTED}@`);
}

/**
 * `JSON.stringify` that never writes a secret: values under `password`,
 * `passphrase`, `key` or `pfx` and the password of `user:pass@host` strings
 * are redacted. For quoting what a caller passed in an error message.
 */
export function stringifyRedacted(value: unknown): string | undefined {
  return JSON.stringify(value, (name, inner: unknown) => {
    if (SECRET_KEYS.has(name) && inner !== undefined) return REDACTED;
    return typeof inner === 'string' ? redactAddressText(inner) : inner;
  });
}
