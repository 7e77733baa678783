// What the browser tests run against: the real `usher` binary on a free
// local port with a fresh data dir (SQLite, embedded object store, photo
// verification on), a fake Discord API, and Debian's Chromium; for the
// sign-in tests also a real OpenID provider (oidc-provider.mjs) and an SMTP
// sink (smtp-sink.mjs), all on loopback.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync, existsSync, mkdirSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { test as nodeTest } from 'node:test';
import { startProvider, CLIENT_ID, AUDIENCE } from './oidc-provider.mjs';
import { startSmtpSink } from './smtp-sink.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, 'screenshots');

/** The binary under test: `USHER_BIN`, else the release build. */
export const USHER_BIN = resolve(process.env.USHER_BIN || join(here, '../../target/release/usher'));
/** Debian's Chromium; never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createNetServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real PNG: `size`×`size`, a disc of colour `[r,g,b]` on a light background. */
export function png([r, g, b], size = 128) {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  const c = size / 2;
  for (let y = 0; y < size; y += 1) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x += 1) {
      const inside = (x - c) ** 2 + (y - c) ** 2 < (size * 0.4) ** 2;
      const at = row + 1 + x * 3;
      raw[at] = inside ? r : 235;
      raw[at + 1] = inside ? g : 238;
      raw[at + 2] = inside ? b : 242;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A fake Discord API: `GET /users/{id}` answers a user with an avatar hash. */
export async function startFakeDiscord(avatarHash) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = req.url.match(/^\/users\/(\d+)$/);
    if (req.method !== 'GET' || !m || !String(req.headers.authorization || '').startsWith('Bot ')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Unknown User', code: 10013 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: m[1], username: 'ada_discord', discriminator: '0', global_name: 'Ada', avatar: avatarHash }));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((ok) => server.close(ok)) };
}

/**
 * Starts `usher` and waits (at most `timeoutMs`) until it logs that it is
 * serving (migrated and listening); one look at `/readyz` confirms it.
 * `settings`: more `USHER_*` variables, over the defaults below (for example
 * `{ USHER_PHOTO_VERIFICATION__REQUIRE_DISCORD: 'false' }`).
 */
export async function startUsher({ discordApi, superusers, settings = {}, port: chosen, timeoutMs = 60_000 }) {
  if (!existsSync(USHER_BIN)) throw new Error(`no usher binary at ${USHER_BIN}: run cargo build --release --bin usher or set USHER_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'usher-browser-'));
  const port = chosen || (await freePort());
  const base = `http://127.0.0.1:${port}`;
  // The caller's USHER_* variables stay out: this run's settings are exactly these.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('USHER_')));
  Object.assign(env, {
    USHER_DATA_DIR: dataDir,
    USHER_SERVER__ADDR: `127.0.0.1:${port}`,
    USHER_SERVER__WORKERS: '2',
    USHER_SERVER__SHUTDOWN_TIMEOUT_SECONDS: '1',
    USHER_FEATURES__PHOTO_VERIFICATION: 'true',
    USHER_PHOTO_VERIFICATION__REQUIRE_DISCORD: 'true',
    USHER_DISCORD__API_BASE: discordApi,
    USHER_DISCORD__BOT_TOKEN: 'fake-bot-token',
    USHER_AUTH__BOOTSTRAP_SUPERUSERS: superusers.join(','),
    // The start-up's info lines say when it serves.
    RUST_LOG: `${process.env.RUST_LOG || 'warn'},usher_api::startup=info`,
  });
  for (const [key, value] of Object.entries(settings)) {
    if (!key.startsWith('USHER_')) throw new Error(`startUsher: ${key} is not a USHER_* setting`);
    env[key] = String(value);
  }
  const logPath = join(dataDir, 'usher.log');
  const log = openSync(logPath, 'a');
  const child = spawn(USHER_BIN, [], { env, stdio: ['ignore', log, 'pipe'] });
  let exited = null;
  // The log goes on to the file as it comes; until the line saying it
  // serves, it is also searched for that line.
  let head = '';
  const serving = new Promise((ok, fail) => {
    child.stderr.on('data', (chunk) => {
      writeSync(log, chunk);
      if (head === null) return;
      head += chunk.toString();
      if (/ serving /.test(head)) {
        head = null;
        ok();
      }
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      fail(new Error(`usher exited early (${JSON.stringify(exited)})`));
    });
  });
  // Never leave the server behind, even when the test run itself is killed (CI's timeout).
  const reap = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      reap();
      process.exit(1);
    });
  }
  let deadline;
  try {
    await Promise.race([
      serving,
      new Promise((_, fail) => {
        deadline = setTimeout(() => fail(new Error(`usher did not become ready in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`usher said it serves, but /readyz answered ${res.status}`);
  } catch (e) {
    reap();
    throw new Error(`${e.message}:\n${readFileSync(logPath, 'utf8')}`);
  } finally {
    clearTimeout(deadline);
  }
  return {
    base,
    dataDir,
    log: () => readFileSync(logPath, 'utf8'),
    /** A token from `usher token`, the way a person gets one; `ttl` in seconds. */
    token(email, name, ttl) {
      const args = ['token', '--email', email];
      if (name) args.push('--name', name);
      if (ttl) args.push('--ttl', String(ttl));
      return execFileSync(USHER_BIN, args, { env, timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless; each launch gets a fresh temporary profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * How long a step may wait for the page. Generous, because the machine is
 * shared: a passing step never waits it out, and a failing one says so.
 */
export const WAIT = Number(process.env.BROWSER_WAIT_MS) || 30_000;

/**
 * One test file's world: a fake Discord, the service and a browser, plus the
 * helpers every test uses. `settings` goes to `startUsher`. `problems` collects CSP violations and uncaught
 * page errors; each file asserts it is empty at the end.
 * With `oidcUsers` (a login → `{email, name}` map) the service signs people
 * in at a real OpenID provider (`world.provider`) instead of `usher token`,
 * and sends invitation e-mails to an SMTP sink (`world.smtp`).
 */
export async function startWorld({ superusers, avatarHash = '8342729096ea3675442027381ff50dfe', settings, oidcUsers }) {
  const discord = await startFakeDiscord(avatarHash);
  let usher;
  let browser;
  let provider;
  let smtp;
  try {
    let port;
    if (oidcUsers) {
      // The provider must know the dashboard's redirect URI, and the service the provider's issuer.
      port = await freePort();
      provider = await startProvider({ dashboardUrl: `http://127.0.0.1:${port}`, users: oidcUsers });
      smtp = await startSmtpSink();
      settings = {
        USHER_SERVER__PUBLIC_URL: `http://127.0.0.1:${port}`,
        USHER_AUTH__ISSUER: provider.issuer,
        USHER_AUTH__OIDC_DISCOVERY: 'true',
        USHER_AUTH__AUDIENCE: AUDIENCE,
        USHER_AUTH__OIDC__ISSUER: provider.issuer,
        USHER_AUTH__OIDC__CLIENT_ID: CLIENT_ID,
        USHER_SMTP__URL: smtp.url,
        USHER_INVITATIONS__OUTBOX_INTERVAL_SECONDS: '1',
        ...settings,
      };
    }
    usher = await startUsher({ discordApi: discord.url, superusers, settings, port });
    browser = await launchBrowser();
  } catch (err) {
    // No world to stop in `after`: stop what started, or it keeps the run waiting for the test timeout.
    await usher?.stop();
    await provider?.stop();
    await smtp?.stop();
    await discord.close();
    throw err;
  }
  const problems = [];
  const contexts = new Set();
  const discordAvatar = png([88, 101, 242]);

  /** A fresh browser context signed in as `person` through the link `usher token` prints. */
  async function openSession(person, viewport = { width: 1280, height: 900 }) {
    const page = await newPage(viewport);
    const token = usher.token(person.email, person.name);
    await page.goto(`${usher.base}/dashboard/#token=${token}`);
    await page.locator('#whoami').filter({ hasText: /\S/ }).waitFor();
    return page;
  }

  /** A fresh browser context (no session) with its page. */
  async function newPage(viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport });
    contexts.add(context);
    context.on('close', () => contexts.delete(context));
    context.setDefaultTimeout(WAIT);
    // The Discord CDN is not reachable from CI: answer its avatar with a local image.
    await context.route('https://cdn.discordapp.com/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: discordAvatar }));
    // The provider's development pages import a web font; nothing leaves the machine.
    await context.route('https://fonts.googleapis.com/**', (route) => route.abort());
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return page;
  }

  return {
    discord,
    usher,
    browser,
    provider,
    smtp,
    problems,
    openSession,
    newPage,
    /**
     * What a failed test leaves behind for whoever reads the CI log: a
     * screenshot of every open page (`FAILED-…` in screenshots/) and the
     * end of the service's log on stderr.
     */
    async evidence(testName) {
      const slug = testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      let n = 0;
      for (const context of contexts) {
        for (const page of context.pages()) {
          n += 1;
          await page.screenshot({ path: join(SCREENSHOTS, `FAILED-${slug}-${n}.png`), fullPage: true }).catch(() => {});
          const alerts = await page.locator('[role="alert"], [role="status"]').allTextContents().catch(() => []);
          if (alerts.length) console.error(`page ${n} (${page.url().replace(/#token=.*/, '#token=…')}) says: ${alerts.join(' | ')}`);
        }
      }
      const lines = usher.log().trimEnd().split('\n');
      console.error(`--- the last ${Math.min(lines.length, 60)} lines of the usher log ---\n${lines.slice(-60).join('\n')}`);
    },
    async stop() {
      await browser.close().catch(() => {});
      await usher.stop();
      await provider?.stop();
      await smtp?.stop();
      await discord.close();
    },
  };
}

/** Saves a full-page screenshot into `screenshots/`. */
export async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Resolves once every <img> inside `locator` has loaded real pixels. */
export async function imagesLoaded(locator) {
  await locator.evaluate((el) =>
    Promise.all(
      [...el.querySelectorAll('img')].map((img) =>
        img.decode().catch(() => {
          throw new Error(`image not loaded: ${img.src}`);
        }),
      ),
    ),
  );
}

/**
 * Waits until `locator` matches exactly `n` elements (the debounced
 * searches answer a little later): Playwright follows the page for each
 * of the two waits, and they run again only if the page changed between them.
 */
export async function countIs(what, locator, n, timeoutMs = WAIT) {
  const deadline = Date.now() + timeoutMs;
  const timeout = () => Math.max(1, deadline - Date.now());
  try {
    while (Date.now() < deadline) {
      if (n > 0) await locator.nth(n - 1).waitFor({ state: 'attached', timeout: timeout() });
      await locator.nth(n).waitFor({ state: 'detached', timeout: timeout() });
      if ((await locator.count()) === n) return;
    }
    throw new Error('the page kept changing');
  } catch (e) {
    throw new Error(`timed out waiting until ${what} (${await locator.count()} found, ${n} wanted): ${e.message}`);
  }
}

/** Follows a main-navigation link and waits for its screen's heading. */
export async function go(page, linkText) {
  await page.getByRole('link', { name: linkText, exact: true }).click();
  await page.locator('main h1', { hasText: linkText }).waitFor();
}

/** Fails when the page scrolls sideways (the 375 px rule). */
export async function noSidewaysScroll(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) throw new Error(`the page scrolls sideways by ${overflow}px`);
}

/**
 * `node:test`'s `test`, plus evidence when a test fails: screenshots of
 * every open page and the end of the service's log (see `evidence`).
 * `getWorld` returns the file's world once `before` has started it.
 */
export function testWithEvidence(getWorld) {
  return (name, fn) =>
    nodeTest(name, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        await getWorld()?.evidence(name);
        throw err;
      }
    });
}
