import { text } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { readableFromBody } from "./body";
import { UploadError, fileTooLarge } from "./errors";

function source(chunks: string[], onCancel: () => void = () => {}) {
  const queue = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
    cancel: onCancel,
  });
}

describe("readableFromBody", () => {
  it("passes the body through", async () => {
    const readable = readableFromBody(source(["ab", "cd"]), {
      maxBytes: 10,
      onTooLarge: () => fileTooLarge(10),
    });
    expect(await text(readable)).toBe("abcd");
  });

  it("stops at the limit without cancelling the body", async () => {
    let cancelled = false;
    const body = source(["12345", "67890", "x"], () => (cancelled = true));
    const readable = readableFromBody(body, { maxBytes: 10, onTooLarge: () => fileTooLarge(10) });
    const error = await text(readable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).status).toBe(413);
    // Cancelling would reset the client's connection before it sees the 413.
    expect(cancelled).toBe(false);
    expect(body.locked).toBe(false);
  });

  it("does not cancel the body when destroyed by its consumer", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => {}), // a client that stalls
      cancel: () => void (cancelled = true),
    });
    const readable = readableFromBody(body, { maxBytes: 10, onTooLarge: () => fileTooLarge(10) });
    readable.resume();
    await new Promise((r) => setTimeout(r, 5));
    readable.destroy();
    await new Promise((r) => setTimeout(r, 5));
    expect(cancelled).toBe(false);
    expect(body.locked).toBe(false);
  });

  it("reports a failing body as an aborted upload", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.error(new Error("ECONNRESET")),
    });
    const readable = readableFromBody(body, { maxBytes: 10, onTooLarge: () => fileTooLarge(10) });
    const error = await text(readable).catch((e: unknown) => e);
    expect((error as UploadError).reason).toBe("aborted");
    expect(((error as UploadError).cause as Error).message).toBe("ECONNRESET");
  });
});
