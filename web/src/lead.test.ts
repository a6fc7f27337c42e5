import { describe, expect, it } from "vitest";
import { cardOf, EMPTY_CARD, fieldOf, looksLikeEmail } from "./lead";

describe("cardOf", () => {
  it("trims every field and leaves empty optional ones out", () => {
    expect(
      cardOf({ ...EMPTY_CARD, name: "  Lina ", email: " lina@example.org ", phone: "  ", note: " Hi\n" }),
    ).toEqual({ name: "Lina", email: "lina@example.org", note: "Hi" });
  });
});

describe("fieldOf", () => {
  it("finds the field a problem names, however the location is written", () => {
    expect(fieldOf("card.email")).toBe("email");
    expect(fieldOf("/card/job_title")).toBe("job_title");
    expect(fieldOf("consent")).toBe("consent");
    expect(fieldOf("card")).toBeNull();
    expect(fieldOf("card.constructor")).toBeNull();
  });
});

describe("looksLikeEmail", () => {
  it("accepts what the node accepts", () => {
    expect(looksLikeEmail("lina@example.org")).toBe(true);
    expect(looksLikeEmail("a.b+c@sub.example.co")).toBe(true);
    for (const bad of [
      "",
      "lina",
      "@example.org",
      "lina@example",
      "lina@.org",
      "lina@org.",
      "li na@x.org",
      "a@b@c.org",
    ]) {
      expect(looksLikeEmail(bad), bad).toBe(false);
    }
  });
});
