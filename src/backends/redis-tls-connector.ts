/**
 * TLS for ioredis through its public `Connector` option: the same
 * `tls.connect` that ioredis's own standalone connector makes, plus the
 * phase of each attempt (TCP connecting, TLS handshake, open) reported to
 * the adapter. ioredis reports a connect timeout as `ETIMEDOUT` whether TCP
 * or TLS was slow; the phase tells a handshake timeout (often a plain-text
 * port) from an unreachable host.
 *
 * ioredis must also be given a truthy `tls` option: that is how it knows to
 * wait for `secureConnect`, not `connect`, before its handshake commands and
 * to run `connectTimeout` over the TLS handshake.
 */
import { AbstractConnector } from 'ioredis';
import { connect as tlsConnect } from 'node:tls';
import type { TlsSettings } from '../secrets.js';
import type { ConnectPhase } from './connection-failure.js';

/** The constructor ioredis's `Connector` option takes (its own type is not exported). */
export type ConnectorClass = new (options: unknown) => AbstractConnector;
type Stream = Awaited<ReturnType<AbstractConnector['connect']>>;

export function tlsConnector(settings: TlsSettings, host: string, port: number, onPhase: (phase: ConnectPhase) => void): ConnectorClass {
  return class TlsConnector extends AbstractConnector {
    constructor(options: unknown) {
      super((options as { disconnectTimeout: number }).disconnectTimeout);
    }

    connect(): Promise<Stream> {
      this.connecting = true;
      // Dialled on the next tick, as ioredis's connector does: a disconnect() made meanwhile cancels it.
      return new Promise((resolve, reject) => {
        process.nextTick(() => {
          if (!this.connecting) {
            reject(new Error('Connection is closed.'));
            return;
          }
          let socket: Stream;
          try {
            socket = tlsConnect(settings.connectionOptions(host, port));
          } catch (error) {
            reject(error as Error);
            return;
          }
          onPhase('tcp');
          socket.once('connect', () => onPhase('handshake'));
          socket.once('secureConnect', () => onPhase('open'));
          socket.once('error', (error: Error) => {
            this.firstError = error;
          });
          this.stream = socket;
          resolve(socket);
        });
      });
    }
  };
}
