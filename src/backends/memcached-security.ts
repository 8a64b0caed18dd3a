/**
 * TLS and the SASL login of one memcached node's memjs Servers: how a new
 * Server is set up to dial and log in, what a failure says about them, and
 * whether a request may open a connection while a refusal stands.
 *
 * - Every Server the adapter makes (the first, and each one that replaces a
 *   dropped or hung connection) gets the login and, with `tls`, a
 *   `tls.connect` socket (memjs-tls.ts); memjs runs its SASL PLAIN inside.
 * - memjs falls back to MEMCACHIER_* / MEMCACHE_* environment variables for
 *   a login it was not given: switched off, a login is only what the
 *   options say.
 * - A refused login reaches every waiting request as memjs's string
 *   MEMJS_AUTH_FAILED (pinned memjs 1.3.2; wire-internals test).
 */
import type { Server as MemjsServer } from 'memjs';
import type { AuthError, TlsError } from '../errors.js';
import { ConnectionSetup, plainTcpResetHint, type ConnectionSetupOptions } from './connection-failure.js';
import { dialOverTls } from './memjs-tls.js';

/** What memjs 1.3.2 passes to every waiting request when the server refuses its SASL login (a string, not an Error). */
export const MEMJS_AUTH_FAILED = 'Memcached server authentication failed!';

export class MemcachedSecurity {
  readonly #options: ConnectionSetupOptions;
  readonly #setup: ConnectionSetup;

  constructor(address: string, options: ConnectionSetupOptions) {
    this.#options = options;
    this.#setup = new ConnectionSetup(address, options);
  }

  /** memjs's `username` and `password` constructor arguments. */
  get login(): [string | undefined, string | undefined] {
    const { auth } = this.#options;
    return [auth?.username, auth?.revealPassword()];
  }

  /** Set up a Server just made with `login`: no login from the environment; TLS when configured. */
  configure(server: MemjsServer): void {
    if (this.#options.auth === undefined) Object.assign(server, { username: undefined, password: undefined });
    if (this.#options.tls !== undefined) dialOverTls(server, this.#options.tls, this.#setup.track);
  }

  /**
   * The stored refusal when a request must not open a connection now (none
   * is open, and the next attempt is not due); `undefined` to go ahead.
   * An explicit attempt (a probe's connect) always goes ahead.
   */
  refusalBlocking(connected: boolean, explicitAttempt: boolean): AuthError | TlsError | undefined {
    const failure = this.#setup.failure;
    if (failure === undefined || connected) return undefined;
    if (explicitAttempt) this.#setup.attempting();
    else if (!this.#setup.mayAttempt()) return failure;
    return undefined;
  }

  /** The node answered: any refusal is over. */
  answered(): void {
    if (this.#setup.failure !== undefined) this.#setup.succeeded();
  }

  /** A refused login or TLS set-up, recorded so requests fail with it at once; `undefined` for any other failure. */
  failureOf(error: unknown): AuthError | TlsError | undefined {
    if (error === MEMJS_AUTH_FAILED) return this.#setup.loginRefused(this.#options.auth === undefined ? 'required' : 'rejected');
    return this.#setup.tlsFailed(error);
  }

  /** The hint for a reset over plain TCP (see plainTcpResetHint). */
  resetHint(error: unknown): string {
    return plainTcpResetHint(error, this.#options.tls !== undefined);
  }
}
