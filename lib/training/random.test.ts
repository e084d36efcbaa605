import { describe, expect, it } from "vitest";
import { seededRandom, shuffleInPlace } from "./random";

describe("seededRandom", () => {
  it("repeats for a seed, differs between seeds, stays in [0, 1)", () => {
    const a = Array.from({ length: 1000 }, seededRandom(1));
    expect(Array.from({ length: 1000 }, seededRandom(1))).toEqual(a);
    expect(Array.from({ length: 1000 }, seededRandom(2))).not.toEqual(a);
    expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
    // Roughly uniform: the mean of 1000 draws is near 0.5.
    expect(Math.abs(a.reduce((s, v) => s + v, 0) / a.length - 0.5)).toBeLessThan(0.05);
  });

  it("shuffles deterministically and keeps every element", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const once = shuffleInPlace([...items], seededRandom(9));
    expect(shuffleInPlace([...items], seededRandom(9))).toEqual(once);
    expect(once).not.toEqual(items);
    expect([...once].sort((x, y) => x - y)).toEqual(items);
  });
});
