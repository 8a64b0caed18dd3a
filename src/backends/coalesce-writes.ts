/**
 * Coalesces bursts of writes to one socket. The first write of a tick goes
 * out at once, so a lone request pays no delay; a second write in the same
 * tick corks the socket until the next tick, so the rest of a burst (a
 * thousand concurrent gets, say) leaves in one `writev` instead of one
 * syscall each. Node's documentation recommends this pairing of `cork()`
 * with an uncork in `process.nextTick`.
 */
import type { Writable } from 'node:stream';

export class WriteCoalescer {
  #wroteThisTick = false;

  /** Call just before writing a request to `socket`. */
  beforeWrite(socket: Writable): void {
    if (!this.#wroteThisTick) {
      this.#wroteThisTick = true;
      process.nextTick(this.#endTick);
    } else if (socket.writableCorked === 0) {
      socket.cork();
      process.nextTick(uncork, socket);
    }
  }

  readonly #endTick = (): void => {
    this.#wroteThisTick = false;
  };
}

function uncork(socket: Writable): void {
  socket.uncork();
}
