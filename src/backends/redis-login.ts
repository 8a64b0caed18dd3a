/**
 * What the Redis adapter does for logins, apart from sending them (ioredis
 * sends AUTH itself on every new connection, probes and replacements
 * included):
 *
 * - `hideHandshakeSecrets`: ioredis attaches `command.args` to the error of a
 *   failed command, and publishes that error object on its own
 *   `ioredis:command` tracing channel and its `error` event. For AUTH (and
 *   HELLO ... AUTH) those arguments are the user and the password. Once the
 *   handshake commands are written (they are queued and sent before
 *   ioredis's `connect` event) the arguments are no longer needed: they are
 *   overwritten in place with `[redacted]`, so no later error can carry them.
 *   Relies on ioredis's `commandQueue` entries `{ command: { name, args } }`
 *   (test/integration/wire-internals.test.ts checks it).
 * - `loginReplyReason`: whether an error reply is about the login.
 */
import type { Redis } from 'ioredis';
import { REDACTED } from '../secrets.js';

const HANDSHAKE_WITH_SECRETS = new Set(['auth', 'hello']);

interface QueuedCommand {
  readonly command?: { readonly name?: string; args?: unknown[] };
}

export function hideHandshakeSecrets(client: Redis): void {
  client.on('connect', () => {
    const queue = client.commandQueue as unknown as { readonly length: number; peekAt(index: number): QueuedCommand | undefined };
    for (let i = 0; i < queue.length; i++) {
      const command = queue.peekAt(i)?.command;
      if (command?.args !== undefined && HANDSHAKE_WITH_SECRETS.has(String(command.name).toLowerCase())) command.args.fill(REDACTED);
    }
  });
}

/**
 * `rejected`: Redis 6+ `WRONGPASS` (wrong password, unknown or disabled
 * user: one reply for all three), Redis < 6 `ERR invalid password`.
 * `required`: `NOAUTH`, a command sent without a login the server requires.
 * The first word of the reply is its code; nothing else is read.
 */
export function loginReplyReason(message: string): 'rejected' | 'required' | undefined {
  if (message.startsWith('WRONGPASS') || message.startsWith('ERR invalid password') || message.startsWith('ERR invalid username-password')) return 'rejected';
  if (message.startsWith('NOAUTH')) return 'required';
  return undefined;
}
