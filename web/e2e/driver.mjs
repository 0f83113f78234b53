// Browser scenarios for the dashboard, driven by tests/e2e/test_web_*.py (one scenario per run).
//
//   BASE_URL=http://127.0.0.1:3001 TOKEN=... SCREENSHOTS=docs/screenshots node e2e/driver.mjs <scenario> [json-args]
//
// Uses playwright-core with the system chromium (no browser download). Prints one line
// `RESULT <json>` on success; exits non-zero with the error (and a failure screenshot) otherwise.
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.BASE_URL ?? "http://127.0.0.1:3001";
const TOKEN = process.env.TOKEN ?? "";
const SHOTS = process.env.SCREENSHOTS ?? "";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const LAPTOP = { width: 1366, height: 900 };
const TABLET = { width: 820, height: 1180 };
const TIMEOUT = 30_000;

const MAX_SHOT_HEIGHT = 2000; // px: the top of long pages is what a reader looks at

async function shot(page, name, dir = SHOTS, { viewport = false } = {}) {
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  if (viewport) {
    await page.screenshot({ path });
    return path;
  }
  const { width, height } = await page.evaluate(() => ({
    width: document.documentElement.clientWidth,
    height: document.documentElement.scrollHeight,
  }));
  await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, MAX_SHOT_HEIGHT) } });
  return path;
}

/** Waits until no section is loading or refreshing. */
async function settle(page) {
  await page.waitForLoadState("networkidle", { timeout: TIMEOUT }).catch(() => {});
  await page.waitForFunction(
    () => document.querySelectorAll('.state.loading, [aria-busy="true"]').length === 0,
    null,
    { timeout: TIMEOUT },
  );
}

/** Does `action`, waits for the API answer whose URL contains `urlPart`, then for the page to settle. */
async function act(page, urlPart, action) {
  const answered = page.waitForResponse((r) => r.url().includes(urlPart), { timeout: TIMEOUT });
  await action();
  await answered;
  await settle(page);
}

async function signedIn(context, page, hash) {
  await context.addInitScript((t) => sessionStorage.setItem("snowwatch.token", t), TOKEN);
  await page.goto(`${BASE}/${hash}`);
  await settle(page);
}

const scenarios = {
  /** Log in through the form and see the security summary. */
  async login({ page }) {
    await page.goto(`${BASE}/`);
    await page.getByLabel("API token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    const summary = page.getByTestId("security-summary");
    await summary.waitFor({ timeout: TIMEOUT });
    await settle(page);
    const cards = {};
    for (const id of ["score", "critical", "high", "medium", "low", "admins", "stale", "failed"]) {
      const card = page.getByTestId(`card-${id}`);
      cards[id] = (await card.count()) ? (await card.locator(".card-value").innerText()).trim() : null;
    }
    const gauge = await page.getByRole("meter").getAttribute("aria-valuetext");
    const whoami = (await page.getByTestId("whoami").innerText()).trim();
    const connector = await page.getByLabel("Connector").inputValue();
    const stored = await page.evaluate(() => sessionStorage.getItem("snowwatch.token") !== null);
    await shot(page, "security");
    return { cards, gauge, whoami, connector, tokenInSessionStorage: stored };
  },

  /** A wrong token is refused on the login form. */
  async bad_login({ page }) {
    await page.goto(`${BASE}/`);
    await page.getByLabel("API token").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: TIMEOUT });
    return { error: (await alert.innerText()).trim() };
  },

  /** Filter the alert list by each given severity and status; report what is shown. */
  async filter_alerts({ context, page }, args) {
    await signedIn(context, page, "#/security");
    const list = page.locator("#security-alerts");
    const read = async () =>
      list.locator("li.alert").evaluateAll((els) =>
        els.map((el) => ({
          id: el.getAttribute("data-alert-id"),
          status: el.getAttribute("data-status"),
          severity: el.querySelector(".badge")?.textContent?.trim(),
        })),
      );
    const out = { initial: await read(), bySeverity: {}, byStatus: {} };
    const status = list.locator("select[name=status]");
    const severity = list.locator("select[name=severity]");
    await act(page, "/alerts", () => status.selectOption(""));
    for (const sev of args.severities ?? []) {
      await act(page, `severity=${sev}`, () => severity.selectOption(sev));
      out.bySeverity[sev] = await read();
    }
    await act(page, "/alerts", () => severity.selectOption(""));
    for (const st of args.statuses ?? []) {
      await act(page, `status=${st}`, () => status.selectOption(st));
      out.byStatus[st] = await read();
    }
    if (args.rule) {
      await act(page, "/alerts", () => status.selectOption(""));
      await list.locator("input[name=rule]").fill(args.rule);
      await act(page, `rule=${encodeURIComponent(args.rule)}`, () => list.getByRole("button", { name: "Apply" }).click());
      out.byRule = await read();
    }
    return out;
  },

  /** Open the first open alert, try to resolve without a note (refused), then with one; see it resolved. */
  async resolve_alert({ context, page }, args) {
    await signedIn(context, page, "#/security");
    const list = page.locator("#security-alerts");
    const item = list.locator('li.alert[data-status="open"]').first();
    await item.waitFor({ timeout: TIMEOUT });
    const id = await item.getAttribute("data-alert-id");
    const target = list.locator(`li.alert[data-alert-id="${id}"]`);
    const severity = (await target.locator(".badge").first().innerText()).trim();
    const card = page.getByTestId(`card-${severity}`).locator(".card-value");
    const countBefore = (await card.count()) ? (await card.innerText()).trim() : null;
    await target.getByRole("button", { name: "Details" }).click();
    await target.getByRole("button", { name: "Resolve alert" }).click();
    const noteRequired = (await target.getByRole("alert").innerText()).trim();
    await target.getByLabel("Resolution note (required)").fill(args.note ?? "resolved by the e2e test");
    await target.getByRole("button", { name: "Resolve alert" }).click();
    await page.locator(`li.alert[data-alert-id="${id}"][data-status="resolved"]`).waitFor({ timeout: TIMEOUT });
    const status = (await target.getByTestId("alert-status").innerText()).trim();
    const details = (await target.locator(".alert-details").innerText()).trim();
    await target.evaluate((el) => el.scrollIntoView({ block: "center" }));
    await shot(page, "security-alert-resolved", SHOTS, { viewport: true });
    const countAfter = countBefore === null ? null : (await card.innerText()).trim();
    return { id, status, noteRequired, details, severity, countBefore, countAfter };
  },

  /** "Extract now": POST extract, then the job's progress until it ends. */
  async extract({ context, page }) {
    await signedIn(context, page, "#/security");
    await page.getByRole("button", { name: "Extract now" }).click();
    const status = page.getByTestId("extract-status");
    await page.waitForFunction(
      () => /succeeded|failed|interrupted/.test(document.querySelector('[data-testid="extract-status"]')?.textContent ?? ""),
      null,
      { timeout: 120_000 },
    );
    return { status: (await status.innerText()).trim() };
  },

  /** Create a budget with custom alert emails through the form; see it listed. */
  async create_budget({ context, page }, args) {
    await signedIn(context, page, "#/budgets");
    const notice = (await page.getByRole("note").innerText()).trim();
    await page.getByRole("button", { name: "New budget" }).click();
    const form = page.getByRole("form", { name: "New budget" });
    await form.locator("input[name=name]").fill(args.name);
    await form.locator("select[name=period]").selectOption("monthly");
    await form.locator("input[name=amount]").fill(String(args.amount ?? 500));
    await form.locator("textarea[name=alert_emails]").fill(args.emails.join(", "));
    const fallback = (await form.locator("#emails-help").innerText()).trim();
    await form.getByRole("button", { name: "Create budget" }).click();
    const item = page.locator(`li.budget[data-budget-name="${args.name}"]`);
    await item.waitFor({ timeout: TIMEOUT });
    await settle(page);
    await item.getByRole("button", { name: "History & alerts" }).click();
    await settle(page);
    const text = (await item.innerText()).trim();
    const progress = await item.getByRole("progressbar").getAttribute("aria-valuetext");
    await shot(page, "budgets");
    return { id: await item.getAttribute("data-budget-id"), text, progress, notice, fallback };
  },

  /** A member sees the data but none of the admin actions. */
  async member_view({ context, page }) {
    await signedIn(context, page, "#/security");
    const count = (name) => page.getByRole("button", { name }).count();
    const out = { extract: await count("Extract now") };
    const first = page.locator("li.alert").first();
    if (await first.count()) {
      await first.getByRole("button", { name: "Details" }).click();
      out.resolve = await count("Resolve alert");
      out.adminsOnly = (await first.locator(".alert-details").innerText()).includes("Only admins");
    }
    await page.goto(`${BASE}/#/budgets`);
    await settle(page);
    out.newBudget = await count("New budget");
    out.editBudget = await count("Edit");
    await page.goto(`${BASE}/#/jobs`);
    await settle(page);
    out.runNow = await page.getByRole("button", { name: /^Run .* now$/ }).count();
    out.whoami = (await page.getByTestId("whoami").innerText()).trim();
    return out;
  },

  /** A screenshot of every page at laptop width, and of the security page at tablet width. */
  async screenshots({ context, page }) {
    await context.addInitScript((t) => sessionStorage.setItem("snowwatch.token", t), TOKEN);
    const taken = [];
    const problems = [];
    for (const name of ["security", "cost", "budgets", "jobs"]) {
      await page.goto(`${BASE}/#/${name}`);
      await settle(page);
      if (name === "budgets") {
        const more = page.getByRole("button", { name: "History & alerts" });
        for (let i = (await more.count()) - 1; i >= 0; i -= 1) await more.nth(i).click();
        await settle(page);
      }
      const errors = await page.locator(".state.error").allInnerTexts();
      if (errors.length) problems.push({ page: name, errors });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      if (overflow) problems.push({ page: name, overflow: true });
      taken.push(await shot(page, name === "security" ? "security-laptop" : name));
    }
    await page.setViewportSize(TABLET);
    for (const name of ["security", "cost"]) {
      await page.goto(`${BASE}/#/${name}`);
      await settle(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      if (overflow) problems.push({ page: `${name}-tablet`, overflow: true });
      taken.push(await shot(page, `${name}-tablet`));
    }
    return { taken, problems };
  },
};

async function main() {
  const [name, rawArgs] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  try {
    const result = await scenario({ browser, context, page }, rawArgs ? JSON.parse(rawArgs) : {});
    console.log(`RESULT ${JSON.stringify({ ...result, pageErrors: consoleErrors })}`);
  } catch (e) {
    console.error(String(e?.stack ?? e));
    if (consoleErrors.length) console.error(`page errors: ${consoleErrors.join("\n")}`);
    const where = await shot(page, `snowwatch-failure-${name}`, process.env.FAILURE_DIR ?? tmpdir()).catch(() => null);
    if (where) console.error(`failure screenshot: ${where}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

await main();
