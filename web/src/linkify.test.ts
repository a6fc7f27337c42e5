import { describe, expect, it } from "vitest";
import { linkify, safeHref } from "./linkify";

describe("linkify", () => {
  it("links absolute http(s) URLs and keeps the rest as text", () => {
    expect(linkify("See https://www.itu.int/wsis, then http://example.org/a?b=1.")).toEqual([
      { kind: "text", text: "See " },
      { kind: "link", text: "https://www.itu.int/wsis", href: "https://www.itu.int/wsis" },
      { kind: "text", text: ", then " },
      { kind: "link", text: "http://example.org/a?b=1", href: "http://example.org/a?b=1" },
      { kind: "text", text: "." },
    ]);
  });

  it("never links other schemes or markup", () => {
    for (const text of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      '<a href="https://evil.example">x</a>',
      "vbscript:msgbox",
      "file:///etc/passwd",
    ]) {
      const links = linkify(text).filter((s) => s.kind === "link");
      for (const link of links)
        expect(link.href.startsWith("https://") || link.href.startsWith("http://")).toBe(true);
      expect(links.every((l) => !l.href.includes("<") && !l.href.includes('"'))).toBe(true);
    }
    expect(linkify("javascript:alert(1)")).toEqual([{ kind: "text", text: "javascript:alert(1)" }]);
  });

  it("refuses URLs with credentials or without a host", () => {
    expect(safeHref("https://user:pw@example.org/")).toBeNull();
    expect(safeHref("https://")).toBeNull();
    expect(safeHref("ftp://example.org/")).toBeNull();
    expect(safeHref("https://example.org/x")).toBe("https://example.org/x");
  });

  it("keeps the text whole: the segments join back to the input", () => {
    const text = "a https://x.org/(b) c http://y.org! <b>d</b>";
    expect(
      linkify(text)
        .map((s) => s.text)
        .join(""),
    ).toBe(text);
  });
});
