// Shared by the browser tests: a real `plenary` node (the binary cargo built) on a
// loopback port with its own data directory, Debian's Chromium driven by playwright-core,
// helpers to wait on page state (never on time), and screenshots of every open page when a
// test fails (web/test-results/).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = resolve(here, "../..");
const REPO = resolve(WEB_DIR, "..");
const BINARY = process.env.PLENARY_BIN ?? join(REPO, "target/debug/plenary");
const RESULTS = join(WEB_DIR, "test-results");
export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Waits for `check` to return a truthy value, polling; fails after `timeoutMs`. */
export async function eventually(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running node. `restart()` stops it and starts it again on the same port and data. */
export class Node {
  static async start(env = {}) {
    const dir = mkdtempSync(join(tmpdir(), "plenary-browser-"));
    const node = new Node(dir, env);
    await node.#spawn("127.0.0.1:0");
    return node;
  }

  constructor(dir, env) {
    this.dir = dir;
    this.env = env;
    this.url = "";
    this.adminToken = "";
    this.child = null;
    this.log = [];
  }

  get environment() {
    return {
      ...process.env,
      PLENARY_DATA_DIR: this.dir,
      PLENARY_WEB_DIR: join(WEB_DIR, "dist"),
      PLENARY_DEMO_EVENT: "false",
      PLENARY_LOG: "warn",
      PLENARY_SHUTDOWN_GRACE_MS: "2000",
      ...this.env,
    };
  }

  async #spawn(listen) {
    const child = spawn(BINARY, ["serve"], {
      env: { ...this.environment, PLENARY_LISTEN: listen },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr.on("data", (chunk) => {
      this.log.push(String(chunk));
      if (this.log.length > 200) this.log.shift();
    });
    const exited = new Promise((_, reject) =>
      child.once("exit", (code) => reject(new Error(`plenary exited with ${code}:\n${this.log.join("")}`))),
    );
    const lines = createInterface({ input: child.stdout });
    const ready = (async () => {
      for await (const line of lines) {
        const serving = /^Plenary is serving on (\S+)/.exec(line);
        if (serving) this.url = serving[1];
        const link = /^Moderator and organiser link \(12 h\): \S+\?token=(\S+)$/.exec(line);
        if (link) {
          this.adminToken = link[1];
          return;
        }
      }
    })();
    exited.catch(() => undefined);
    await Promise.race([ready, exited, timeout(20_000, "the node to start")]);
    // Keep draining stdout so the node never blocks on a full pipe.
    child.stdout.resume();
  }

  get port() {
    return new URL(this.url).port;
  }

  /** Stops the node with SIGTERM (a graceful shutdown) and waits for it to exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exit = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exit, timeout(10_000, "the node to stop")]).catch(() => child.kill("SIGKILL"));
    this.child = null;
  }

  async startAgain() {
    await this.#spawn(`127.0.0.1:${this.port}`);
  }

  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A token signed by this node, minted with `plenary token` (with `scopes` such as `speak:opening`). */
  token(sub, name, roles = ["attendee"], scopes = []) {
    const args = [
      "token",
      "--sub",
      sub,
      "--name",
      name,
      ...roles.flatMap((r) => ["--role", r]),
      ...scopes.flatMap((s) => ["--scope", s]),
    ];
    const out = spawnSync(BINARY, args, { env: this.environment, encoding: "utf8" });
    if (out.status !== 0) throw new Error(`plenary token failed: ${out.stderr}`);
    return out.stdout.trim();
  }

  /** Calls the REST API as the node's development organiser. */
  async api(method, path, body) {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  }

  /**
   * An event with one session per entry of `sessions` ({id, title, stage?, kind?}), all
   * happening now; `kind` is the programme's session kind, `workshop` unless said.
   */
  async seed(sessions) {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    await this.api("PUT", "/api/event", {
      name: "Browser Test Forum",
      time_zone: "Europe/Zurich",
      starts_on: day,
      ends_on: day,
    });
    await this.api("PUT", "/api/tracks/main", { id: "main", name: "Main track" });
    for (const s of sessions) {
      await this.api("PUT", `/api/sessions/${s.id}`, {
        id: s.id,
        title: s.title,
        description: s.description ?? "",
        kind: s.kind ?? "workshop",
        starts_at: new Date(now - 10 * 60_000).toISOString(),
        ends_at: new Date(now + 50 * 60_000).toISOString(),
        track: "main",
        languages: ["en", "fr"],
        tags: ["C3", "SDG4"],
        speakers: [],
        stage: s.stage ?? { kind: "none" },
      });
    }
  }
}

function timeout(ms, what) {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref(),
  );
}

/** Flags for a test with a camera and microphone: fake devices, permission granted without a prompt. */
export const FAKE_MEDIA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

/** Debian's Chromium with the required flags, plus `args` (for example FAKE_MEDIA_FLAGS). */
export async function launchBrowser({ args = [] } = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...args] });
}

/**
 * Runs `body` with a browser and a node; on failure saves a screenshot of every open page
 * to web/test-results/, then closes everything either way. Options: `sessions` to seed,
 * `env` for the node, `chromiumArgs` added to the browser's flags.
 */
export async function scenario(t, options, body) {
  const node = await Node.start(options.env ?? {});
  const browser = await launchBrowser({ args: options.chromiumArgs ?? [] });
  const errors = [];
  const contexts = [];
  const newPage = async (contextOptions = {}) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
    return page;
  };
  try {
    if (options.sessions) await node.seed(options.sessions);
    await body({ node, browser, newPage, errors });
  } catch (e) {
    mkdirSync(RESULTS, { recursive: true });
    const name = t.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    let n = 0;
    for (const context of contexts) {
      for (const page of context.pages()) {
        n += 1;
        await page
          .screenshot({ path: join(RESULTS, `${name}-${n}.png`), fullPage: true })
          .catch(() => undefined);
      }
    }
    if (errors.length) console.error(`page errors:\n${errors.join("\n")}`);
    console.error(`node log:\n${node.log.join("")}`);
    throw e;
  } finally {
    await browser.close().catch(() => undefined);
    await node.close();
  }
}

/** A free loopback TCP port (for a private redis-server). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private redis-server on `port`, keeping nothing on disk; resolves once it listens. */
export async function startRedis(port) {
  const child = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  child.on("error", (e) => {
    throw new Error(`redis-server could not start (apt-get install redis-server): ${e.message}`);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redis-server did not start")), 10_000);
    child.stdout.on("data", (chunk) => {
      if (String(chunk).includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout.resume();
  return child;
}

/** Kills a child process (redis-server) and waits for it to exit. */
/**
 * Debian's coturn on `port` (loopback), with TURN REST credentials from `secret` (the scheme
 * `deploy/coturn/turnserver.conf` uses); resolves once it serves.
 */
export async function startTurn(port, secret) {
  const child = spawn(
    "turnserver",
    [
      "-n",
      "--listening-ip=127.0.0.1",
      "--relay-ip=127.0.0.1",
      `--listening-port=${port}`,
      `--min-port=${port + 1}`,
      `--max-port=${port + 60}`,
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--realm=plenary.test",
      "--fingerprint",
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--allow-loopback-peers",
      "--log-file=stdout",
      "--simple-log",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  child.on("error", (e) => {
    throw new Error(`turnserver could not start (apt-get install coturn): ${e.message}`);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("turnserver did not start")), 10_000);
    child.stdout.on("data", (chunk) => {
      if (String(chunk).includes("Total General servers")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout.resume();
  return child;
}

export async function stopProcess(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Signs in as a guest through the form and waits for the programme. */
export async function signInAsGuest(page, url, name, country = "") {
  await page.goto(url);
  await page.getByLabel("Your name").fill(name);
  if (country) await page.getByLabel("Country (optional)").selectOption(country);
  await page.getByRole("button", { name: "Join the event" }).click();
  await page.getByRole("heading", { level: 1, name: "Browser Test Forum" }).waitFor();
}

/** Opens a session room with a token link and waits until the chat is ready. */
export async function openRoomWithToken(page, url, token, session) {
  await page.goto(`${url}/sessions/${session}?token=${token}`);
  await page.getByRole("textbox", { name: "Message", exact: true }).waitFor();
}

/** Sends a chat message through the composer. */
export async function sendChat(page, text) {
  await page.getByRole("textbox", { name: "Message", exact: true }).fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await eventually(
    "the composer to clear",
    async () => (await page.getByRole("textbox", { name: "Message", exact: true }).inputValue()) === "",
  );
}

/** The texts of the chat messages on the page, oldest first. */
export async function chatTexts(page) {
  return page.locator(".messages .message .text").allTextContents();
}
