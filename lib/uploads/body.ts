import { Readable } from "node:stream";
import { UploadError, uploadAborted } from "./errors";

const BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * A Node stream over a request's web body that pulls one chunk per `read()` (so disk speed
 * throttles the socket) and stops at `maxBytes`.
 *
 * Unlike `Readable.fromWeb`, destroying it only releases the reader and never cancels the
 * body. In Next.js (and any server that wraps Node's IncomingMessage the same way),
 * cancelling the body destroys the socket, and the client then sees a connection reset
 * instead of our 413/400. Left alone, the unread rest of the body stays in the kernel's
 * buffers, the client receives the error response and closes the connection itself.
 */
export function readableFromBody(
  body: ReadableStream<Uint8Array>,
  options: { maxBytes: number; onTooLarge: () => UploadError },
): Readable {
  const reader = body.getReader();
  let received = 0;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    reader.releaseLock();
  };
  return new Readable({
    highWaterMark: BODY_HIGH_WATER_MARK,
    read() {
      reader.read().then(
        ({ done, value }) => {
          if (done) {
            release();
            this.push(null);
            return;
          }
          received += value.byteLength;
          if (received > options.maxBytes) {
            this.destroy(options.onTooLarge());
            return;
          }
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        },
        (error: unknown) => {
          // After release() the pending read rejects by design: that is not the client.
          if (!released) this.destroy(uploadAborted(error));
        },
      );
    },
    destroy(error, callback) {
      release();
      callback(error);
    },
  });
}
