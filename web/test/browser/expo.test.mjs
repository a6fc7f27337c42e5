// The exhibition: the hall with live counts, a booth's queue, the exhibitor console, the
// private call, callbacks when nobody is on duty, and contact cards shared with consent.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { chatTexts, eventually, scenario, sendChat } from "./harness.mjs";

const SESSIONS = [{ id: "opening", title: "Opening Ceremony" }];

/** Creates (or replaces) a booth as the node's organiser. */
async function putBooth(node, booth) {
  await node.api("PUT", `/api/booths/${booth.id}`, {
    description: "",
    links: [],
    tags: [],
    staff: [],
    ...booth,
  });
}

/** Opens `path` with a token link and waits for its level-1 heading. */
async function open(page, node, path, token, heading) {
  await page.goto(`${node.url}${path}?token=${token}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

test("a visitor asks to talk, a staff member accepts, and both chat in the private call", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage, errors }) => {
    await putBooth(node, {
      id: "itu",
      organisation: "International Telecommunication Union",
      description: "Connecting the world: standards, spectrum and development.",
      links: ["https://www.itu.int/"],
      track: "main",
      tags: ["C2", "SDG9"],
    });
    await putBooth(node, {
      id: "giga",
      organisation: "Giga",
      description: "Connecting every school to the Internet.",
      tags: ["C2", "Education"],
    });
    // Ana is ITU's staff through an organiser's grant, made before her page connects.
    await node.api("POST", "/api/grants", { user: "staff-ana", role: "exhibitor", scope: "itu" });
    const staff = await newPage();
    await open(
      staff,
      node,
      "/booths/itu",
      node.token("staff-ana", "Ana Exhibitor"),
      "International Telecommunication Union",
    );
    await staff.getByRole("heading", { name: "Exhibitor console" }).waitFor();
    await staff.getByRole("radio", { name: "Available" }).waitFor();
    assert.ok(await staff.getByRole("radio", { name: "Available" }).isChecked(), "staff start available");

    // The hall: both booths, ITU with its staff member on duty; the filters narrow the list.
    const visitor = await newPage();
    await open(visitor, node, "/expo", node.token("kofi", "Kofi Mensah"), "Exhibition hall");
    await visitor.getByRole("article", { name: "Giga" }).waitFor();
    await eventually("ITU's staff member on duty in the hall", async () =>
      (await visitor.getByTestId("counts-itu").textContent())?.includes("1 staff member on duty"),
    );
    assert.match((await visitor.getByTestId("counts-giga").textContent()) ?? "", /No staff on duty/);
    await visitor.getByLabel("Search").fill("school");
    await eventually("only Giga", async () => (await visitor.locator(".booth-card").count()) === 1);
    await visitor.getByLabel("Search").fill("");
    await visitor.getByLabel("Topic", { exact: true }).selectOption("SDG9");
    await eventually("only ITU", async () => (await visitor.locator(".booth-card").count()) === 1);
    // Counts are read out only on request.
    await visitor.getByRole("button", { name: "Read out the live counts" }).click();
    await eventually("the counts announced", async () =>
      (await visitor.getByTestId("expo-announcer").textContent())?.includes("1 staff members on duty"),
    );

    // The booth: ask to talk, see the place in the queue.
    await visitor.getByRole("link", { name: "International Telecommunication Union" }).click();
    await visitor.getByRole("heading", { level: 1, name: "International Telecommunication Union" }).waitFor();
    await visitor.locator(".staff-list", { hasText: "Ana Exhibitor" }).getByText("Available").waitFor();
    await visitor.getByRole("button", { name: "Talk to someone" }).click();
    await visitor.getByText("You are number 1 in the queue.").waitFor();
    await visitor.getByRole("button", { name: "Cancel my request" }).waitFor();

    // A second staff member, Ben, whose page will not hear of Ana's accept in time (the
    // test holds back the booth events on his socket).
    await node.api("POST", "/api/grants", { user: "staff-ben", role: "exhibitor", scope: "itu" });
    const late = await newPage();
    let holdBoothEvents = false;
    await late.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => {
        if (holdBoothEvents && String(message).includes('"type":"booth"')) return;
        ws.send(message);
      });
    });
    await open(late, node, "/booths/itu", node.token("staff-ben", "Ben Exhibitor"), /International/);

    // The console lists the request; Ana accepts it first.
    await staff.getByRole("heading", { name: "Waiting to talk (1)" }).waitFor();
    await late.getByRole("heading", { name: "Waiting to talk (1)" }).waitFor();
    holdBoothEvents = true;
    await staff.getByRole("button", { name: "Accept the request from Kofi Mensah" }).click();
    const staffCall = staff.getByRole("link", { name: "Join the private call with Kofi Mensah" }).first();
    await staffCall.waitFor();
    await late.getByRole("button", { name: "Accept the request from Kofi Mensah" }).click();
    await late.getByText("Another staff member took this request.").waitFor();
    holdBoothEvents = false;
    const visitorCall = visitor.getByRole("link", { name: "Join the private call" });
    await visitorCall.waitFor();
    await visitor.getByText("Ana Exhibitor accepted your request.", { exact: false }).waitFor();
    await eventually("focus on the way into the call", async () =>
      visitor.evaluate(() => document.activeElement?.textContent === "Join the private call"),
    );

    // Both in the private call, chatting.
    await visitorCall.click();
    await staffCall.click();
    await visitor.getByRole("heading", { level: 1, name: "Private call with Ana Exhibitor" }).waitFor();
    await staff.getByRole("heading", { level: 1, name: "Private call with Kofi Mensah" }).waitFor();
    assert.match(visitor.url(), /\/calls\/[0-9a-f]+$/);
    await visitor.getByRole("textbox", { name: "Message", exact: true }).waitFor();
    await sendChat(visitor, "Hello Ana, I would like to know about the standards work.");
    await eventually("Ana to see Kofi's message", async () =>
      (await chatTexts(staff)).includes("Hello Ana, I would like to know about the standards work."),
    );
    await sendChat(staff, "Hi Kofi, happy to help!");
    await eventually("Kofi to see Ana's answer", async () =>
      (await chatTexts(visitor)).includes("Hi Kofi, happy to help!"),
    );

    // Anyone else is refused, in words.
    const outsider = await newPage();
    await open(
      outsider,
      node,
      new URL(visitor.url()).pathname,
      node.token("eve", "Eve"),
      "This call is private.",
    );
    await outsider.goto(`${node.url}/calls/0123456789abcdef0123456789abcdef`);
    await outsider.getByRole("heading", { level: 1, name: "This call does not exist." }).waitFor();

    // Leave goes back to the booth.
    await visitor.getByRole("link", { name: "Leave the call and return to the booth" }).click();
    await visitor.getByRole("heading", { level: 1, name: "International Telecommunication Union" }).waitFor();
    assert.deepEqual(errors, []);
  });
});

test("nobody on duty: a callback, a shared card, and what the staff see of them", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage, errors }) => {
    // Bo is Giga's staff through the booth's own staff list.
    await putBooth(node, {
      id: "giga",
      organisation: "Giga",
      description: "Connecting every school to the Internet.",
      tags: ["Education"],
      staff: ["staff-bo"],
    });
    const visitor = await newPage({ viewport: { width: 390, height: 844 } });
    await open(visitor, node, "/booths/giga", node.token("lina", "Lina Haddad"), "Giga");
    await visitor.getByText("Nobody is available right now.", { exact: false }).waitFor();
    await visitor.getByLabel("Your message").fill("Please call me about school mapping in Jordan.");
    await visitor.getByRole("button", { name: "Ask for a callback" }).click();
    await visitor.getByText("Your callback request was sent.", { exact: false }).waitFor();

    // The card: refused without consent, shared with it.
    await visitor.getByLabel("E-mail").fill("lina@example.org");
    await visitor.getByLabel("Job title (optional)").fill("Teacher");
    await visitor.getByRole("button", { name: "Share my card" }).click();
    await visitor.getByText("Tick the box to agree to share your card with Giga.").waitFor();
    await visitor.getByLabel("Share my contact card with Giga").check();
    await visitor.getByRole("button", { name: "Share my card" }).click();
    await visitor.getByText("Your card is shared with Giga.").waitFor();
    const overflow = await visitor.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow on a phone (${overflow}px)`);

    // Bo's console: the callback with its message, the card, the figures, the CSV.
    const staff = await newPage({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
    await open(staff, node, "/booths/giga", node.token("staff-bo", "Bo Lindqvist"), "Giga");
    await staff.getByRole("heading", { name: "Callback requests (1)" }).waitFor();
    await staff.getByText("Please call me about school mapping in Jordan.").waitFor();
    await staff.getByRole("cell", { name: "lina@example.org" }).waitFor();
    await staff.getByRole("rowheader", { name: "Lina Haddad" }).waitFor();
    await staff.getByText("Callbacks waiting").waitFor();
    const download = staff.waitForEvent("download");
    await staff.getByRole("button", { name: "Download leads (CSV)" }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), "leads-giga.csv");
    assert.match(await readFile(await file.path(), "utf8"), /lina@example\.org/);
    const staffOverflow = await staff.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    assert.ok(staffOverflow <= 0, `no horizontal overflow in the console on a phone (${staffOverflow}px)`);

    // Bo steps away: the visitor reads it in words.
    await staff.getByRole("radio", { name: "Away" }).check();
    await staff.getByText("Your status is now: Away.").waitFor();
    await visitor.locator(".staff-list", { hasText: "Bo Lindqvist" }).getByText("Away").waitFor();

    // Bo edits the booth's profile.
    await staff.getByText("Edit the booth's profile").click();
    await staff.getByLabel("Description").fill("Mapping and connecting every school.");
    await staff.getByRole("textbox", { name: "Topics" }).fill("Education, C2");
    await staff.getByRole("button", { name: "Save the profile" }).click();
    await staff.getByText("Saved. Visitors see the new profile.").waitFor();
    await staff.locator(".booth-profile").getByText("Mapping and connecting every school.").waitFor();
    assert.deepEqual((await node.api("GET", "/api/booths/giga")).tags, ["Education", "C2"]);

    // Withdrawn: the card leaves the booth's list.
    await visitor.getByRole("button", { name: "Withdraw my card" }).click();
    await visitor.getByText("Your card was withdrawn.", { exact: false }).waitFor();
    await staff.getByRole("button", { name: "Refresh the cards" }).click();
    await staff.getByText("No visitor has shared a card yet.").waitFor();
    assert.deepEqual(errors, []);
  });
});
