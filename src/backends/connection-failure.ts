/**
 * What went wrong while a connection was being set up (TLS, login), told
 * apart for the user, and how soon the wire client may try again.
 *
 * - `tlsFailureOf` maps Node's TLS error codes (and a timeout that struck
 *   after TCP connected but before TLS completed) to a `TlsError` whose
 *   message says what to change. Only codes are read, never message text.
 * - `loginFailure` builds the `AuthError` for a refused login; it names the
 *   node and the user, never the password.
 * - `ConnectionSetup`: a refused login or TLS set-up is a configuration problem,
 *   not a blip. The adapter stops the wire client's own reconnecting and
 *   fails requests at once with the stored error, so a wrong password costs
 *   the server one attempt per backoff step, like a dead node's probes, not
 *   one per request. Explicit `connect()` calls (probes, createCache) always
 *   try.
 */
import { AuthError, TlsError } from '../errors.js';
import type { Credentials, TlsSettings } from '../secrets.js';
import { debug } from '../debug.js';

/** Where a connection attempt is: TCP connecting, TLS handshake under way, or open (TLS done, or plain TCP connected). */
export type ConnectPhase = 'tcp' | 'handshake' | 'open';

/** Certificate-chain failures (Node / OpenSSL verify codes): the certificate is not trusted. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);
/** The server does not speak TLS on this port (it answered in plain text). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** The error's `code`, when it has a string one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A `TlsError` when `error` is a TLS failure (or a timeout during the
 * handshake), else `undefined`.
 * @param phase where the attempt was when it failed; `undefined` for a plain-TCP connection.
 */
export function tlsFailureOf(error: unknown, node: string, phase: ConnectPhase | undefined, connectMs: number): TlsError | undefined {
  if (phase === undefined) return undefined;
  const code = codeOf(error);
  if (code === undefined) return undefined;
  if (UNTRUSTED.has(code)) {
    return new TlsError(node, 'untrusted-certificate', `the server's certificate is not trusted (${code}): give the CA that signed it in tls.ca (or SHARDCACHE_TLS_CA_FILE)`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TlsError(node, 'hostname-mismatch', `the server's certificate is not issued for this host (${code}): dial a name or address the certificate holds, or set tls.servername to one`);
  }
  if (TIMEOUT_CODES.has(code) && phase === 'handshake') {
    return new TlsError(node, 'handshake-timeout', `TCP connected but the TLS handshake did not complete within ${connectMs} ms: is this port TLS? (a plain-text port never answers a TLS hello; a hung or overloaded server does not either)`);
  }
  if (NOT_TLS.has(code)) return new TlsError(node, 'handshake-failed', `the server did not answer in TLS (${code}): is this port TLS?`);
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || (code === 'ECONNRESET' && phase === 'handshake')) {
    return new TlsError(node, 'handshake-failed', `the TLS handshake failed (${code}): check tls.minVersion, the ciphers, and the client certificate if the server asks for one`);
  }
  return undefined;
}

/**
 * A hint for a reset seen over plain TCP: servers that require TLS reset a
 * plain-text client without a word, so the reset alone cannot be told from
 * any other. Empty for anything else.
 */
export function plainTcpResetHint(error: unknown, tls: boolean): string {
  return !tls && codeOf(error) === 'ECONNRESET' ? '; a server that requires TLS resets plain-TCP connections like this: is tls needed?' : '';
}

/** The `AuthError` for a login the node refused (`rejected`), or asked for and did not get (`required`). */
export function loginFailure(node: string, credentials: Credentials | undefined, reason: AuthError['reason']): AuthError {
  if (reason === 'required' || credentials === undefined) {
    return new AuthError(node, undefined, 'required', 'the server requires a login and none is configured: set auth (or SHARDCACHE_AUTH_USERNAME and SHARDCACHE_AUTH_PASSWORD)');
  }
  return new AuthError(
    node,
    credentials.username,
    'rejected',
    `refused the login of ${credentials.describeUser()}: wrong password, or the user is unknown or disabled (the server does not say which, by design)`,
  );
}

/**
 * `health.retryTimeoutMs` and `health.maxRetryTimeoutMs` defaults (a unit
 * test keeps them equal; backends do not import config/), for adapters made
 * without them; createCache passes the configured values.
 */
export const DEFAULT_SETUP_RETRY_MS = 30_000;
export const DEFAULT_MAX_SETUP_RETRY_MS = 300_000;

export interface ConnectionSetupOptions {
  readonly tls?: TlsSettings | undefined;
  readonly auth?: Credentials | undefined;
  readonly connectMs: number;
  /** Wait before the wire client's first attempt of its own after a refusal; doubles up to `maxSetupRetryMs`. @default health.retryTimeoutMs's default */
  readonly setupRetryMs?: number | undefined;
  /** @default health.maxRetryTimeoutMs's default */
  readonly maxSetupRetryMs?: number | undefined;
}

/**
 * One node's connection set-up as its adapter sees it: where the current
 * TLS attempt is (`track`), the last refusal (`failure`), and when the wire
 * client may try again on its own (`mayAttempt`): after `setupRetryMs`,
 * doubling up to `maxSetupRetryMs`, paced like a dead node's probes.
 */
export class ConnectionSetup {
  readonly #address: string;
  readonly #options: ConnectionSetupOptions;
  readonly #now: () => number;
  #phase: ConnectPhase | undefined;
  #failure: AuthError | TlsError | undefined;
  #waitMs = 0;
  #nextAttemptAt = 0;
  /** An attempt was made since the last refusal: the next refusal is a new one (one refusal reaches every waiting request). */
  #attempted = true;

  constructor(address: string, options: ConnectionSetupOptions, now: () => number = () => performance.now()) {
    this.#address = address;
    this.#options = options;
    this.#now = now;
  }

  /** For the TLS dialler: where the current attempt is. */
  readonly track = (phase: ConnectPhase): void => {
    this.#phase = phase;
  };

  /** The stored refusal: requests fail with it at once while no attempt is due. */
  get failure(): AuthError | TlsError | undefined {
    return this.#failure;
  }

  /** Records a refused login and returns its `AuthError`. */
  loginRefused(reason: AuthError['reason']): AuthError {
    const failure = loginFailure(this.#address, this.#options.auth, reason);
    this.#failed(failure);
    return failure;
  }

  /** Records `error` when it is a TLS failure (or a timeout during the handshake) and returns its `TlsError`; `undefined` for anything else. */
  tlsFailed(error: unknown): TlsError | undefined {
    if (this.#options.tls === undefined) return undefined;
    const failure = tlsFailureOf(error, this.#address, this.#phase, this.#options.connectMs);
    if (failure !== undefined) this.#failed(failure);
    return failure;
  }

  succeeded(): void {
    this.#failure = undefined;
    this.#waitMs = 0;
    this.#attempted = true;
  }

  /** An attempt that does not wait for its turn (a probe, `createCache`). */
  attempting(): void {
    this.#attempted = true;
  }

  /** A reconnection delay (ioredis's retryStrategy answer) stretched to the current backoff while a refusal stands. */
  pacedRetry(delayMs: number | null | void): number | null | void {
    if (this.#failure === undefined || typeof delayMs !== 'number') return delayMs;
    return Math.max(delayMs, this.#waitMs);
  }

  /** True when there is no refusal, or when the next attempt is due (claimed: the one after waits a full step again). */
  mayAttempt(): boolean {
    if (this.#failure === undefined) return true;
    if (this.#now() < this.#nextAttemptAt) return false;
    this.#nextAttemptAt = this.#now() + this.#waitMs;
    this.#attempted = true;
    return true;
  }

  #failed(failure: AuthError | TlsError): void {
    if (this.#failure === undefined) debug('%s: %s %s', this.#address, failure.code, failure.reason);
    this.#failure = failure;
    if (!this.#attempted) return;
    this.#attempted = false;
    const first = this.#options.setupRetryMs ?? DEFAULT_SETUP_RETRY_MS;
    this.#waitMs = this.#waitMs === 0 ? first : Math.min(this.#waitMs * 2, this.#options.maxSetupRetryMs ?? DEFAULT_MAX_SETUP_RETRY_MS);
    this.#nextAttemptAt = this.#now() + this.#waitMs;
  }
}
