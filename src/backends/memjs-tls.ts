/**
 * TLS for memjs. memjs 1.3.2 has none: `Server.prototype.sock` opens every
 * connection, first and reconnects alike, with `net.connect`. `dialOverTls`
 * replaces `sock` on one Server instance with the same connection state
 * machine over `tls.connect`, so every socket that Server ever opens is TLS,
 * and memjs's own SASL (`listSasl` -> `saslAuth` -> 'authenticated') runs
 * inside the encrypted connection.
 *
 * memjs's contract, kept here (memjs is pinned exactly; the wire-internals
 * test fingerprints the methods this mirrors and fails loudly on a change):
 * - `sock(sasl, go)`: no `_socket` -> open one; connecting and `sasl` false
 *   -> queue `go` in `connectCallbacks` (via `onConnect`); else `go(_socket)`.
 * - data goes to `responseHandler` (looked up per chunk: the reply guard
 *   replaces it on the instance);
 * - after connecting, SASL when `username` and `password` are set, then the
 *   'authenticated' event marks the Server `connected`, cancels the connect
 *   timeout, runs `go` and the queued callbacks;
 * - errors go to `error()`, which fails every waiting request.
 * Two things differ on purpose: the connect timeout destroys the socket (a
 * hung handshake would not finish a polite end) and its error says how far
 * the attempt got, and a socket's late 'close' forgets only itself, never a
 * newer socket.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Server as MemjsServer } from 'memjs';
import type { TlsSettings } from '../secrets.js';
import type { ConnectPhase } from './connection-failure.js';

/** The memjs 1.3.2 Server state `sock` reads and writes. */
interface MemjsConnectionState {
  readonly host: string;
  readonly port: string | number;
  username?: string;
  password?: string;
  _socket?: TLSSocket;
  connected: boolean;
  timeoutSet: boolean;
  connectCallbacks: ((socket: TLSSocket) => void)[];
  readonly options: { readonly conntimeout: number; readonly keepAlive: boolean; readonly keepAliveDelay: number };
  responseHandler(chunk: Buffer): void;
  listSasl(): void;
  onConnect(go: (socket: TLSSocket) => void): void;
  error(error: unknown): void;
  emit(event: 'authenticated'): boolean;
  once(event: 'authenticated', listener: () => void): unknown;
  removeListener(event: 'authenticated', listener: () => void): unknown;
  sock(sasl: boolean, go: (socket: TLSSocket) => void): void;
}

export function dialOverTls(server: MemjsServer, settings: TlsSettings, onPhase: (phase: ConnectPhase) => void): void {
  const state = server as unknown as MemjsConnectionState;
  state.sock = (sasl, go) => {
    const current = state._socket;
    if (current === undefined) open(state, settings, onPhase, go);
    else if (!state.connected && !sasl) state.onConnect(go);
    else go(current);
  };
}

function open(state: MemjsConnectionState, settings: TlsSettings, onPhase: (phase: ConnectPhase) => void, go: (socket: TLSSocket) => void): void {
  state.connected = false;
  const socket = tlsConnect(settings.connectionOptions(state.host, Number(state.port)));
  state._socket = socket;
  let phase: ConnectPhase = 'tcp';
  const report = (next: ConnectPhase) => {
    phase = next;
    onPhase(next);
  };
  report('tcp');
  const authenticated = () => {
    if (state._socket !== socket) return;
    state.connected = true;
    socket.setTimeout(0);
    state.timeoutSet = false;
    go(socket);
    const queued = state.connectCallbacks;
    state.connectCallbacks = [];
    for (const callback of queued) callback(socket);
  };
  socket.once('connect', () => report('handshake'));
  socket.once('secureConnect', () => {
    report('open');
    state.once('authenticated', authenticated);
    socket.on('data', (chunk: Buffer) => state.responseHandler(chunk));
    if (state.username && state.password) state.listSasl();
    else state.emit('authenticated');
  });
  socket.on('error', (error) => state.error(error));
  socket.on('close', () => {
    state.removeListener('authenticated', authenticated);
    if (state._socket !== socket) return;
    state.connected = false;
    if (state.timeoutSet) state.timeoutSet = false;
    state._socket = undefined;
  });
  state.timeoutSet = true;
  socket.setTimeout(state.options.conntimeout * 1000, () => {
    state.timeoutSet = false;
    if (state.connected || state._socket !== socket) return;
    // error() destroys state._socket (this socket) and fails everything waiting.
    state.error(Object.assign(new Error(`timed out connecting (${phase === 'handshake' ? 'TLS handshake' : phase === 'tcp' ? 'TCP connect' : 'login'})`), { code: 'ETIMEDOUT' }));
  });
  socket.setKeepAlive(state.options.keepAlive, state.options.keepAliveDelay * 1000);
}
