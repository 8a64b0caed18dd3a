/**
 * TLS and the login of one Redis node's clients: what ioredis is given to
 * dial and log in, what a failure says about them, and how soon a client may
 * try again after a refusal. One per RedisBackend, shared by its data client
 * and that client's duplicates (the local tier's invalidation connection).
 *
 * - TLS dials through redis-tls-connector.ts (an ioredis `Connector`); the
 *   data client's dialler reports each attempt's phase here, a duplicate's
 *   reports nowhere (its handshakes must not move the data client's phase).
 * - ioredis sends the login (AUTH user pass, or AUTH pass) on every new
 *   connection; its arguments are overwritten once sent (redis-login.ts).
 * - A refused login or TLS set-up stops the data client's own reconnecting
 *   and stretches a duplicate's to the same backoff (connection-failure.ts).
 */
import { ReplyError, type Redis, type RedisOptions } from 'ioredis';
import type { AuthError, TlsError } from '../errors.js';
import type { BackendNode } from './backend.js';
import { ConnectionSetup, plainTcpResetHint, type ConnectionSetupOptions } from './connection-failure.js';
import { hideHandshakeSecrets, loginReplyReason } from './redis-login.js';
import { tlsConnector } from './redis-tls-connector.js';

export class RedisSecurity {
  readonly #node: BackendNode;
  readonly #options: ConnectionSetupOptions;
  readonly #setup: ConnectionSetup;
  /** What ended the last connection (ioredis's 'error' event), until one is ready: commands failing meanwhile only say "not writeable". */
  #lastConnectionError: unknown;

  constructor(node: BackendNode, options: ConnectionSetupOptions) {
    this.#node = node;
    this.#options = options;
    this.#setup = new ConnectionSetup(node.address, options);
  }

  /** The login and TLS options of the data client. ioredis is given `tls` only so that it waits for the handshake; the connector dials. */
  clientOptions(): Partial<RedisOptions> {
    const { auth, tls } = this.#options;
    return {
      ...(auth === undefined ? {} : { username: auth.username, password: auth.revealPassword() }),
      ...(tls === undefined ? {} : { tls: {}, Connector: tlsConnector(tls, this.#node.host, this.#node.port, this.#setup.track) }),
    };
  }

  /** Follows the data client: records refusals from its 'error' events, clears them on 'ready', hides its AUTH arguments. */
  watch(client: Redis, closed: () => boolean): void {
    client.on('error', (error: unknown) => {
      if (!closed() && this.failureOf(error) === undefined) this.#lastConnectionError = error;
    });
    client.on('ready', () => {
      this.#setup.succeeded();
      this.#lastConnectionError = undefined;
    });
    if (this.#options.auth !== undefined) hideHandshakeSecrets(client);
  }

  /** Overrides for a duplicate of the data client: its own dialler, and a retry strategy that waits out a refusal. */
  duplicateOptions(overrides: Partial<RedisOptions>): Partial<RedisOptions> {
    const { tls } = this.#options;
    const retry = overrides.retryStrategy;
    return {
      ...overrides,
      ...(tls === undefined ? {} : { Connector: tlsConnector(tls, this.#node.host, this.#node.port, () => {}) }),
      ...(typeof retry === 'function' ? { retryStrategy: (attempt: number) => this.#setup.pacedRetry(retry(attempt)) } : {}),
    };
  }

  /** A duplicate's AUTH arguments are hidden too. */
  watchDuplicate(client: Redis): void {
    if (this.#options.auth !== undefined) hideHandshakeSecrets(client);
  }

  /** A refused login (an error reply) or TLS set-up, recorded so requests fail with it at once; `undefined` for anything else. */
  failureOf(error: unknown): AuthError | TlsError | undefined {
    if (!(error instanceof ReplyError)) return this.#setup.tlsFailed(error);
    const reason = loginReplyReason(String((error as Error).message));
    return reason === undefined ? undefined : this.#setup.loginRefused(reason);
  }

  /** The refusal that stands, if any. */
  get failure(): AuthError | TlsError | undefined {
    return this.#setup.failure;
  }

  /** The data client's reconnection delay: none of its own while a refusal stands. */
  reconnectDelay(delayMs: number | null): number | null {
    return this.#setup.failure === undefined ? delayMs : null;
  }

  /** An attempt made on request (a probe, createCache): not paced. */
  attempting(): void {
    this.#setup.attempting();
  }

  /** Whether the client may reconnect on its own now (see ConnectionSetup.mayAttempt). */
  mayAttempt(): boolean {
    return this.#setup.mayAttempt();
  }

  /** `text` from a server or ioredis, with the password scrubbed (error replies can quote arguments). */
  scrub(text: string): string {
    return this.#options.auth?.scrub(text) ?? text;
  }

  /** The hint for a reset over plain TCP (see plainTcpResetHint), from what ended the connection. */
  resetHint(error: unknown): string {
    return plainTcpResetHint(this.#lastConnectionError ?? error, this.#options.tls !== undefined);
  }
}

