import { describe, expect, it } from "vitest";
import { backoffDelay } from "./connection";

describe("backoffDelay", () => {
  it("grows exponentially between half and all of its ceiling", () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 0)).toBe(2_000);
    expect(backoffDelay(3, () => 1)).toBe(4_000);
  });

  it("stops growing at 15 s, even after many attempts", () => {
    expect(backoffDelay(50, () => 1)).toBe(15_000);
    expect(backoffDelay(50, () => 0)).toBe(7_500);
  });
});
