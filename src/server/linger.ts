/**
 * Closing a connection whose request body was not read to its end (an upload refused at a limit)
 * without losing the answer. Closing a socket with unread data makes the kernel send a reset,
 * and a client still uploading may then never see the 413. So, as web servers do ("lingering
 * close"), the answer is sent, the write side shut, and what the client still sends is read and
 * discarded for a bounded time and number of bytes before the socket is destroyed. An endless
 * upload thus costs at most its limit plus LINGER_BYTES.
 */
import type { Socket } from 'node:net';

export const LINGER_BYTES = 2 * 1024 * 1024;
export const LINGER_MS = 2000;

/** Makes Node's close after a `Connection: close` answer linger (see above). */
export function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    let discarded = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) socket.destroy();
    });
    socket.end();
    socket.resume();
  };
}
