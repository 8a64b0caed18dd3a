/**
 * How a refused login or TLS set-up is classified and paced: TLS error codes
 * map to TlsError reasons, a timeout counts as a handshake timeout only once
 * TCP connected, and the wire client's own attempts after a refusal back off
 * like a dead node's probes (doubling, capped), one step per attempt however
 * many requests a refusal fails.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionSetup, DEFAULT_MAX_SETUP_RETRY_MS, DEFAULT_SETUP_RETRY_MS, tlsFailureOf } from '../../../src/backends/connection-failure.js';
import { DEFAULTS } from '../../../src/config/options.js';
import { AuthError, TlsError } from '../../../src/errors.js';
import { Credentials, TlsSettings } from '../../../src/secrets.js';

const coded = (code: string) => Object.assign(new Error('x'), { code });

describe('tlsFailureOf', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'open', 'untrusted-certificate'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'handshake', 'untrusted-certificate'],
    ['CERT_HAS_EXPIRED', 'handshake', 'untrusted-certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'handshake', 'hostname-mismatch'],
    ['ETIMEDOUT', 'handshake', 'handshake-timeout'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'handshake', 'handshake-failed'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'handshake', 'handshake-failed'],
    ['ECONNRESET', 'handshake', 'handshake-failed'],
  ] as const)('%s during %s is %s', (code, phase, reason) => {
    const failure = tlsFailureOf(coded(code), '10.0.0.1:6379', phase, 500);
    expect(failure).toBeInstanceOf(TlsError);
    expect(failure).toMatchObject({ reason, node: '10.0.0.1:6379', code: 'SHARDCACHE_TLS' });
  });

  it.each([
    ['ETIMEDOUT', 'tcp'],
    ['ECONNREFUSED', 'tcp'],
    ['ECONNRESET', 'open'],
    ['EPIPE', 'open'],
  ] as const)('%s during %s is not a TLS failure', (code, phase) => {
    expect(tlsFailureOf(coded(code), 'n:1', phase, 500)).toBeUndefined();
  });

  it('plain TCP (no phase) is never a TLS failure', () => {
    expect(tlsFailureOf(coded('SELF_SIGNED_CERT_IN_CHAIN'), 'n:1', undefined, 500)).toBeUndefined();
  });
});

describe('ConnectionSetup', () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('paces its own attempts after a refusal: first wait, then doubling up to the cap; one step per attempt, not per failed request', () => {
    const time = clock();
    const setup = new ConnectionSetup('n:1', { connectMs: 100, auth: new Credentials('app', 'pw'), setupRetryMs: 100, maxSetupRetryMs: 350 }, time.now);
    expect(setup.mayAttempt()).toBe(true);
    const first = setup.loginRefused('rejected');
    expect(first).toBeInstanceOf(AuthError);
    setup.loginRefused('rejected'); // the same refusal reaching a second waiting request
    expect(setup.failure).toBeDefined();
    const waits: number[] = [];
    for (let step = 0; step < 4; step++) {
      let waited = 0;
      while (!setup.mayAttempt() && waited < 10_000) waited += time.advance(10) && 10;
      waits.push(waited);
      setup.loginRefused('rejected');
      setup.loginRefused('rejected');
    }
    expect(waits).toEqual([100, 200, 350, 350]);
    setup.succeeded();
    expect(setup.failure).toBeUndefined();
    expect(setup.mayAttempt()).toBe(true);
  });

  it('records TLS failures only when TLS is on, by the phase the dialler reported', () => {
    const plain = new ConnectionSetup('n:1', { connectMs: 100 });
    expect(plain.tlsFailed(coded('ETIMEDOUT'))).toBeUndefined();
    const secure = new ConnectionSetup('n:1', { connectMs: 100, tls: new TlsSettings({}) });
    secure.track('tcp');
    expect(secure.tlsFailed(coded('ETIMEDOUT'))).toBeUndefined();
    secure.track('handshake');
    expect(secure.tlsFailed(coded('ETIMEDOUT'))).toMatchObject({ reason: 'handshake-timeout' });
    expect(secure.failure).toMatchObject({ reason: 'handshake-timeout' });
  });

  it('waits as long as a dead node by default (health.retryTimeoutMs, health.maxRetryTimeoutMs)', () => {
    expect([DEFAULT_SETUP_RETRY_MS, DEFAULT_MAX_SETUP_RETRY_MS]).toEqual([DEFAULTS.health.retryTimeoutMs, DEFAULTS.health.maxRetryTimeoutMs]);
  });
});
