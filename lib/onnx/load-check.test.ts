import { describe, expect, it } from "vitest";
import { cleanRuntimeMessage } from "./load-check";

describe("cleanRuntimeMessage", () => {
  it("drops onnxruntime's prefix and the server's file path", () => {
    const file = "/srv/modeldeck/data/tmp/upload-123.onnx";
    expect(
      cleanRuntimeMessage(
        `[ONNXRuntimeError] : 10 : INVALID_GRAPH : Load model from ${file} failed:This is an invalid model. Error in Node:n : No Op registered for Foo`,
        file,
      ),
    ).toBe("This is an invalid model. Error in Node:n : No Op registered for Foo");
    expect(cleanRuntimeMessage(`cannot open ${file}`, file)).toBe("cannot open the file");
    expect(cleanRuntimeMessage("", file)).toBe("no reason given.");
    expect(cleanRuntimeMessage("x".repeat(5000), file)).toHaveLength(1001);
  });
});
