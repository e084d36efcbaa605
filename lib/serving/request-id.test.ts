import { describe, expect, it } from "vitest";
import { newRequestId, requestIdTime } from "./request-id";

describe("newRequestId", () => {
  it("is a version 7 UUID whose first 48 bits are the time in milliseconds", () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const id = newRequestId(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it("orders ids of different milliseconds by time, and ids never repeat", () => {
    const ids = [newRequestId(1_000), newRequestId(2_000), newRequestId(1_700_000_000_000)];
    expect([...ids].sort()).toEqual(ids);
    const many = new Set(Array.from({ length: 10_000 }, () => newRequestId(5)));
    expect(many.size).toBe(10_000);
  });
});

describe("requestIdTime", () => {
  it("reads the millisecond of a UUIDv7 and refuses any other id", () => {
    const now = Date.UTC(2026, 11, 7, 9, 30, 0, 456);
    expect(requestIdTime(newRequestId(now))).toBe(now);
    expect(requestIdTime(newRequestId(now).toUpperCase())).toBe(now);
    expect(requestIdTime("0193a5f2-8d1c-4c3e-9b1a-2f4e5d6c7b8a")).toBeNull(); // v4
    expect(requestIdTime("0193a5f2-8d1c-7c3e-cb1a-2f4e5d6c7b8a")).toBeNull(); // wrong variant
    expect(requestIdTime("not-an-id")).toBeNull();
  });
});
