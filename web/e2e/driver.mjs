// Browser scenarios for the dashboard, driven by tests/e2e/test_web_dashboard.py.
//
// One chromium for the whole test module: the driver reads one JSON request a line on stdin,
//   {"id": 1, "scenario": "login", "args": {...}, "token": "...", "base": "http://127.0.0.1:PORT"}
// runs the scenario in a fresh browser context and answers one line on stdout,
//   RESULT {"id": 1, "ok": true, "result": {...}, "pageErrors": []}   (or "ok": false, "error", "screenshot").
// Uses playwright-core with the system chromium (no browser download); axe-core checks accessibility.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const SHOTS = process.env.SCREENSHOTS ?? "";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const LAPTOP = { width: 1366, height: 900 };
const TABLET = { width: 820, height: 1180 };
const PHONE = { width: 390, height: 844 };
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
  await page.waitForFunction(() => document.querySelectorAll('.state.loading, [aria-busy="true"]').length === 0, null, { timeout: TIMEOUT });
}

/** Does `action`, waits for the API answer whose URL contains `urlPart`, then for the page to settle. */
async function act(page, urlPart, action) {
  await Promise.all([page.waitForResponse((r) => r.url().includes(urlPart), { timeout: TIMEOUT }), action()]);
  await settle(page);
}

async function open(ctx, path) {
  await ctx.page.goto(`${ctx.base}${path}`);
  await settle(ctx.page);
}

const pathAndQuery = (page) => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

/** axe-core's serious and critical violations on the current page. */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}

/** WCAG contrast of two computed CSS colours (rgb/rgba). */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
  return Math.round(((x + 0.05) / (y + 0.05)) * 100) / 100;
}

/** The first opaque background colour behind an element. */
async function backgroundOf(locator) {
  return locator.evaluate((el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && !/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) return bg;
    }
    return "rgb(255, 255, 255)";
  });
}

const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** The innermost elements that stick out to the right of the viewport (to say what overflows). */
const overflowing = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(-5)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} ${Math.round(e.getBoundingClientRect().right)}`),
  );

const scenarios = {
  /** Sign in through the token form and see the security summary. */
  async login(ctx) {
    const { page } = ctx;
    await page.goto(`${ctx.base}/`);
    await page.getByLabel("API token").fill(ctx.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Security", exact: true }).click();
    await page.getByTestId("security-summary").waitFor({ timeout: TIMEOUT });
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
    return { cards, gauge, whoami, connector, tokenInSessionStorage: stored, url: pathAndQuery(page) };
  },

  /** A wrong token is refused on the sign-in form. */
  async bad_login(ctx) {
    const { page } = ctx;
    await page.goto(`${ctx.base}/`);
    await page.getByLabel("API token").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: TIMEOUT });
    return { error: (await alert.innerText()).trim() };
  },

  /** Filters, text search, sorting and pages of the alert list, all in the URL and kept over a reload. */
  async filter_alerts(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security`);
    const list = page.locator("#security-alerts");
    const read = async () =>
      list.locator("li.alert").evaluateAll((els) =>
        els.map((el) => ({ id: el.getAttribute("data-alert-id"), status: el.getAttribute("data-status"), severity: el.querySelector(".badge")?.textContent?.trim(), title: el.querySelector(".alert-title")?.textContent, rule: el.querySelector("code")?.textContent })),
      );
    const out = { bySeverity: {}, byStatus: {} };
    const status = list.locator("select[name=status]");
    const severity = list.locator("select[name=severity]");
    await act(page, "/alerts", () => status.selectOption("all"));
    for (const sev of args.severities) {
      await act(page, `severity=${sev}`, () => severity.selectOption(sev));
      out.bySeverity[sev] = await read();
    }
    await act(page, "/alerts", () => severity.selectOption(""));
    await act(page, "status=open", () => status.selectOption("open"));
    out.byStatus.open = await read();
    await list.getByRole("searchbox").fill(args.search);
    await list.getByRole("button", { name: "Search", exact: true }).click();
    await settle(page);
    out.bySearch = await read();
    out.url = pathAndQuery(page);
    await page.reload();
    await settle(page);
    out.afterReload = await read();
    out.searchAfterReload = await list.getByRole("searchbox").inputValue();
    // sort by title, ascending, then read the titles in order
    await list.getByRole("button", { name: /^Title/ }).click();
    out.sortedTitles = (await read()).map((a) => a.title);
    out.sortUrl = pathAndQuery(page);
    return out;
  },

  /** Open a link from a rendered notification; report what the page shows. */
  async open_link(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(null);
    await page.goto(args.link);
    await settle(page);
    const out = { url: pathAndQuery(page), connector: await page.getByLabel("Connector").inputValue(), heading: (await page.locator("h1").innerText()).trim() };
    if (args.alert) {
      const item = page.locator(`li.alert[data-alert-id="${args.alert}"]`);
      await item.locator(".alert-details").waitFor({ timeout: TIMEOUT });
      out.expanded = await item.getByRole("button", { name: /^(Details|Hide): / }).getAttribute("aria-expanded");
      out.title = (await item.locator(".alert-title").innerText()).trim();
      out.inView = await item.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.top < window.innerHeight && r.bottom > 0;
      });
    }
    if (args.budget) {
      const item = page.locator(`li.budget[data-budget-id="${args.budget}"]`);
      await item.locator(".budget-more").waitFor({ timeout: TIMEOUT });
      out.selected = await item.getAttribute("aria-current");
      out.name = await item.getAttribute("data-budget-name");
    }
    await shot(page, args.shot ?? "deep-link", SHOTS, { viewport: true });
    return out;
  },

  /** Resolve an alert (a note is required); the counts follow at once; then extract while the condition still
   * holds: the page re-reads until the server's answer is fresh and shows the alert reopened with its history. */
  async resolve_and_extract(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?alert=${args.alert}&rule=${args.rule}&status=all`);
    const target = page.locator(`li.alert[data-alert-id="${args.alert}"]`).first();
    await target.locator(".alert-details").waitFor({ timeout: TIMEOUT });
    const card = page.getByTestId(`card-${args.severity}`).locator(".card-value");
    const countBefore = (await card.innerText()).trim();
    await target.getByRole("button", { name: "Resolve alert" }).click();
    const noteRequired = (await target.getByRole("alert").innerText()).trim();
    await target.getByLabel("Resolution note (required)").fill(args.note);
    await target.getByRole("button", { name: "Resolve alert" }).click();
    await page.locator(`li.alert[data-alert-id="${args.alert}"][data-status="resolved"]`).first().waitFor({ timeout: TIMEOUT });
    const afterResolve = {
      count: (await card.innerText()).trim(),
      history: (await target.getByTestId("alert-history").innerText()).trim(),
    };
    await shot(page, "security-alert-resolved", SHOTS, { viewport: true });
    await page.getByRole("button", { name: "Extract now" }).click();
    await page.waitForFunction(() => /succeeded|failed|interrupted|partial/.test(document.querySelector('[data-testid="extract-status"]')?.textContent ?? ""), null, { timeout: 120_000 });
    const extract = (await page.getByTestId("extract-status").innerText()).trim();
    // Re-read until fresh: no section is "updating…" any more, and the alert is open again.
    await page.locator(`li.alert[data-alert-id="${args.alert}"][data-status="open"]`).first().waitFor({ timeout: 90_000 });
    await page.waitForFunction(() => !document.querySelector('section[data-stale="true"]'), null, { timeout: 90_000 });
    await settle(page);
    const reopened = page.locator(`li.alert[data-alert-id="${args.alert}"]`).first();
    const out = {
      noteRequired,
      countBefore,
      afterResolve,
      extract,
      status: await reopened.getAttribute("data-status"),
      reopenedCount: await reopened.getAttribute("data-reopened"),
      history: (await reopened.getByTestId("alert-history").innerText()).trim(),
      countAfter: (await card.innerText()).trim(),
    };
    await reopened.evaluate((el) => el.scrollIntoView({ block: "center" }));
    await shot(page, "security-alert-reopened", SHOTS, { viewport: true });
    return out;
  },

  /** From an alert about a login, open the post-login timeline of that sign-in. */
  async timeline_from_alert(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?alert=${args.alert}&rule=${args.rule}&status=all`);
    const target = page.locator(`li.alert[data-alert-id="${args.alert}"]`).first();
    await target.getByTestId("alert-timelines").waitFor({ timeout: TIMEOUT });
    await act(page, "/timeline", () => target.getByRole("button", { name: `Timeline of sign-in ${args.login}` }).click());
    const timeline = page.getByTestId("timeline");
    await timeline.waitFor({ timeout: TIMEOUT });
    const out = {
      url: pathAndQuery(page),
      login: (await page.getByTestId("timeline-login").innerText()).trim(),
      flagged: await timeline.getAttribute("data-flagged"),
      queries: (await page.getByRole("table", { name: "Queries in the sessions of this sign-in" }).locator("tbody tr").allInnerTexts()).map((t) => t.trim()),
      sameIp: (await page.getByTestId("timeline-same-ip").locator("li").allInnerTexts()).map((t) => t.trim()),
      history: (await target.getByTestId("alert-events").innerText()).trim(),
    };
    await page.locator("#login-timeline").evaluate((el) => el.scrollIntoView({ block: "start" }));
    await shot(page, "security-timeline", SHOTS, { viewport: true });
    return out;
  },

  /** Open an incident, see its alerts and history, acknowledge it. */
  async incident(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?incident=${args.incident}&inc.status=all`);
    const item = page.locator(`li[data-incident-id="${args.incident}"]`).first();
    const details = item.getByTestId("incident-details");
    await details.getByTestId("incident-alerts").waitFor({ timeout: TIMEOUT });
    const alerts = (await details.getByTestId("incident-alerts").locator("li").allInnerTexts()).map((t) => t.trim());
    await item.evaluate((el) => el.scrollIntoView({ block: "center" }));
    await shot(page, "security-incident", SHOTS, { viewport: true });
    await act(page, "/acknowledge", () => details.getByRole("button", { name: "Acknowledge incident" }).click());
    await page.waitForFunction(
      (id) => (document.querySelector(`li[data-incident-id="${id}"] [data-testid="incident-history"]`)?.textContent ?? "").includes("Acknowledged"),
      args.incident,
      { timeout: TIMEOUT },
    );
    return { alerts, history: (await details.getByTestId("incident-history").innerText()).trim() };
  },

  /** The authentication posture panel, filtered to the blocked users. */
  async posture(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?posture=blocked`);
    const panel = page.getByTestId("auth-posture");
    await panel.waitFor({ timeout: TIMEOUT });
    const card = async (id) => (await page.getByTestId(id).locator(".card-value").innerText()).trim();
    const out = {
      blocked: await card("posture-blocked"),
      atRisk: await card("posture-at-risk"),
      ready: await card("posture-ready"),
      rows: (await panel.getByRole("table", { name: "Users and their authentication readiness" }).locator("tbody tr").allInnerTexts()).map((t) => t.trim()),
    };
    await panel.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await shot(page, "security-posture", SHOTS, { viewport: true });
    return out;
  },
  /** Create a budget with custom alert emails through the form; see it listed and opened. */
  async create_budget(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/budgets`);
    const notice = (await page.getByRole("note").innerText()).trim();
    await page.getByRole("button", { name: "New budget" }).click();
    const form = page.getByRole("form", { name: "New budget" });
    await form.locator("input[name=name]").fill(args.name);
    await form.locator("select[name=period]").selectOption("monthly");
    await form.locator("input[name=amount]").fill(String(args.amount));
    await form.locator("textarea[name=alert_emails]").fill(args.emails.join(", "));
    const fallback = (await form.locator("#emails-help").innerText()).trim();
    await form.getByRole("button", { name: "Create budget" }).click();
    const item = page.locator(`li.budget[data-budget-name="${args.name}"]`);
    await item.locator(".budget-more").waitFor({ timeout: TIMEOUT });
    await settle(page);
    const text = (await item.innerText()).trim();
    const progress = await item.getByRole("progressbar").getAttribute("aria-valuetext");
    await shot(page, "budgets");
    return { id: await item.getAttribute("data-budget-id"), text, progress, notice, fallback, url: pathAndQuery(page) };
  },

  /** Errors on the budget form: each next to its field, threshold rows named. */
  /** Add a connector: the Snowflake setup follows the form's names; a server 422 sits on its field. */
  async add_connector(ctx, args) {
    const { page } = ctx;
    await ctx.signIn("/");
    await page.getByRole("link", { name: "Add connector" }).click();
    await settle(page);
    const form = page.getByRole("form", { name: "Add a Snowflake account" });
    const setup = page.locator("#snowflake-setup");
    const before = (await setup.innerText()).trim();
    await form.locator("input[name=role_name]").fill(args.role);
    const after = (await setup.innerText()).trim();
    await form.locator("input[name=name]").fill(args.name);
    await form.locator("input[name=account_identifier]").fill("not an account!");
    await form.locator("textarea[name=private_key]").fill(args.key);
    await act(page, "/api/connectors", () => form.getByRole("button", { name: "Add connector" }).click());
    const field = form.locator("input[name=account_identifier]");
    const refused = {
      invalid: await field.getAttribute("aria-invalid"),
      text: (await page.locator("#c-account_identifier-err").innerText()).trim(),
    };
    const copyButtons = await setup.getByRole("button", { name: /^Copy: step / }).count();
    const violations = await axe(page);
    await shot(page, "connector-new");
    await field.fill(args.account);
    await act(page, "/api/connectors", () => form.getByRole("button", { name: "Add connector" }).click());
    await page.locator("#connector-details").waitFor({ timeout: TIMEOUT });
    await settle(page);
    return {
      before,
      after,
      refused,
      copyButtons,
      violations,
      url: pathAndQuery(page),
      details: (await page.locator("#connector-details").innerText()).trim(),
      setup: (await page.locator("#snowflake-setup").innerText()).trim(),
      picker: await page.locator("#connector").inputValue(),
    };
  },

  async budget_form_errors(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/budgets`);
    await page.getByRole("button", { name: "New budget" }).click();
    const form = page.getByRole("form", { name: "New budget" });
    await form.getByRole("button", { name: "Create budget" }).click(); // empty name, no amount: caught here
    const fieldError = async (name) => {
      const field = form.locator(`[name="${name}"]`);
      const ids = (await field.getAttribute("aria-describedby")) ?? "";
      const id = ids.split(" ").find((x) => x.endsWith("-err"));
      return { invalid: await field.getAttribute("aria-invalid"), text: id ? (await page.locator(`#${id}`).innerText()).trim() : null };
    };
    const local = { name: await fieldError("name"), amount: await fieldError("amount") };
    // Only the server rejects these: an amount above its maximum, a percent threshold above 1000.
    await form.locator("input[name=name]").fill(args.name);
    await form.locator("input[name=amount]").fill("2000000000000");
    await form.locator("input[name=threshold-1-value]").fill("5000");
    await act(page, "/budgets", () => form.getByRole("button", { name: "Create budget" }).click());
    // the 422 has arrived; its field messages render after it (read before that, the amount had no message yet)
    await form.locator('input[name=amount][aria-describedby*="-err"]').waitFor({ timeout: TIMEOUT });
    await form.getByTestId("form-errors").waitFor({ timeout: TIMEOUT });
    const server = {
      amount: await fieldError("amount"),
      threshold: (await form.locator('[data-threshold="2"]').innerText()).trim(),
      thresholdInvalid: await form.locator("input[name=threshold-1-value]").getAttribute("aria-invalid"),
      summary: (await form.getByTestId("form-errors").innerText()).trim(),
    };
    await form.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await shot(page, "budget-form-errors", SHOTS, { viewport: true });
    return { local, server };
  },

  /** A member sees the data but none of the admin actions. */
  async member_view(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security`);
    const count = (name) => page.getByRole("button", { name }).count();
    const out = { extract: await count("Extract now") };
    const first = page.locator("li.alert").first();
    if (await first.count()) {
      await first.getByRole("button", { name: /^Details: / }).click();
      out.resolve = await count("Resolve alert");
      out.adminsOnly = (await first.locator(".alert-details").innerText()).includes("Only admins");
    }
    await open(ctx, `/connectors/${args.connector}/budgets`);
    out.newBudget = await count("New budget");
    out.editBudget = await page.getByRole("button", { name: /^Edit/ }).count();
    await open(ctx, "/jobs");
    out.runNow = await page.getByRole("button", { name: /^Run now/ }).count();
    out.whoami = (await page.getByTestId("whoami").innerText()).trim();
    return out;
  },

  /** The jobs page: a run started here is followed until it ends; the summary and the list then agree. */
  async jobs(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/jobs?connector=${args.connector}`);
    const header = await page.locator("#jobs-runs th").allInnerTexts();
    await page.locator("select[name=target]").selectOption(args.connector);
    await page.getByRole("button", { name: `Run now: ${args.job}` }).click();
    await page.getByRole("status").filter({ hasText: "started" }).waitFor();
    const last = page.getByTestId(`last-run-${args.job}`);
    await page.waitForFunction(
      (job) => /succeeded|failed|partial|interrupted/.test(document.querySelector(`[data-testid="last-run-${job}"]`)?.textContent ?? ""),
      args.job,
      { timeout: 120_000 },
    );
    await settle(page);
    const runs = await page.locator("#jobs-runs tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())));
    await shot(page, "jobs");
    return { header, last: (await last.innerText()).trim(), runs, url: pathAndQuery(page) };
  },

  /** A running run's live progress on the jobs page (windows done and left, rows, the date reached), followed by polling. */
  async run_progress(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/jobs?connector=${args.connector}`);
    const progress = page.getByTestId("run-progress").first();
    await progress.waitFor({ timeout: TIMEOUT });
    const during = (await progress.innerText()).trim();
    await shot(page, "jobs-progress");
    await page.waitForFunction(
      (before) => {
        const now = document.querySelector('[data-testid="run-progress"]')?.textContent?.trim();
        return now !== undefined && now !== before;
      },
      during,
      { timeout: TIMEOUT },
    );
    return { during, later: (await progress.innerText()).trim() };
  },

  /** The connector page's access check: per view readable or not, what it powers, the grant that fixes it. */
  async connector_access(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/connector`);
    const section = page.locator("#connector-access");
    await section.locator("tbody tr").first().waitFor({ timeout: TIMEOUT });
    await settle(page);
    const rows = await section.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())));
    await shot(page, "connector-access");
    return { text: (await section.innerText()).trim(), rows };
  },

  /** Failed logins over one day: the chart spans that day hour by hour and sums to the total it states. */
  async failed_logins(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?from=${args.day}&to=${args.day}`);
    const block = page.locator("#failed-logins");
    const total = (await block.getByTestId("failed-total").innerText()).trim();
    const chart = block.locator("svg[role=img]");
    const summary = (await chart.count()) ? await chart.getAttribute("aria-label") : null;
    const unit = (await chart.count()) ? (await block.locator(".axis-unit").innerText()).trim() : null;
    const labels = await block.locator("text.axis").evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { text: e.textContent, left: r.left, right: r.right, top: Math.round(r.top) };
      }),
    );
    const bars = await block.locator("rect").count();
    return { total, summary, unit, labels, bars };
  },

  /** Units and time zones on the cost page; the range picker drives every block (their requests). */
  async units(ctx, args) {
    const { page } = ctx;
    const requests = [];
    page.on("request", (r) => r.url().includes("/cost/") && requests.push(r.url()));
    await ctx.signIn(`/connectors/${args.connector}/cost?from=${args.from}&to=${args.to}`);
    const units = await page.locator(".axis-unit").allInnerTexts();
    const zone = (await page.locator("form.range .zone").innerText()).trim();
    const footer = (await page.locator("footer").innerText()).trim();
    return { units, zone, footer, requests };
  },

  /** The cost page's headline and the rows under it, as the page shows them (exact values in data attributes). */
  async costHeadline(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/cost?from=${args.from}&to=${args.to}`);
    const headline = page.getByTestId("cost-headline");
    await headline.waitFor({ timeout: TIMEOUT });
    const amount = await headline.locator("[data-amount]").getAttribute("data-amount");
    const credits = await headline.locator("[data-credits]").getAttribute("data-credits");
    const text = (await headline.innerText()).trim();
    const rows = async (id) => page.locator(`[data-table="${id}"] [data-amount]`).evaluateAll((xs) => xs.map((x) => x.getAttribute("data-amount")));
    return { amount, credits, text, services: await rows("services"), warehouses: await rows("topwh") };
  },

  /** The org home: its total and the connectors' rows (exact values in data attributes). */
  async orgHome(ctx) {
    const { page } = ctx;
    await ctx.signIn("/");
    const total = page.getByTestId("org-total");
    await total.waitFor({ timeout: TIMEOUT });
    const credits = await total.locator("[data-credits]").getAttribute("data-credits");
    const rows = await page.locator('[data-table="connectors"] tbody [data-credits]').evaluateAll((xs) => xs.map((x) => x.getAttribute("data-credits")));
    const names = await page.locator('[data-table="connectors"] tbody tr td:first-child').allInnerTexts();
    return { credits, rows, names };
  },

  /** Phone width, accessibility (axe), contrast, unique names and dark mode, on every page. */
  async a11y(ctx, args) {
    const { page, context } = ctx;
    const out = { pages: {}, contrast: {} };
    await page.setViewportSize(PHONE);
    const pages = {
      home: "/",
      security: `/connectors/${args.connector}/security?status=all`,
      cost: `/connectors/${args.connector}/cost`,
      budgets: `/connectors/${args.connector}/budgets`,
      jobs: "/jobs",
    };
    await ctx.signIn(null);
    for (const [name, path] of Object.entries(pages)) {
      await open(ctx, path);
      const signOut = await page.getByRole("button", { name: "Sign out" }).boundingBox();
      const over = await overflow(page);
      out.pages[name] = { overflow: over, culprits: over > 0 ? await overflowing(page) : [], signOutRight: signOut ? signOut.x + signOut.width : null, axe: await axe(page) };
      if (name === "security") {
        out.titleWidths = await page.locator(".alert-title").evaluateAll((els) => els.slice(0, 10).map((e) => Math.round(e.getBoundingClientRect().width)));
        out.detailsNames = await page.locator("li.alert button[aria-controls]").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
        await shot(page, "security-phone");
      }
      if (name === "budgets") await shot(page, "budgets-phone");
    }
    await page.setViewportSize(LAPTOP);
    await open(ctx, pages.security);
    out.exportNames = await page.locator("button.export").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
    // contrast: the focus ring against the panel and the top bar, each badge's text against its fill
    const button = page.locator("button.export").first();
    await button.focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const ring = await button.evaluate((el) => getComputedStyle(el).outlineColor);
    out.contrast.focusOnPanel = contrast(ring, await backgroundOf(button));
    const signOut = page.getByRole("button", { name: "Sign out" });
    await signOut.focus();
    out.contrast.focusOnTopbar = contrast(await signOut.evaluate((el) => getComputedStyle(el).outlineColor), await backgroundOf(page.locator(".topbar")));
    for (const kind of ["critical", "high", "medium", "low"]) {
      const badge = page.locator(`.badge.${kind}`).first();
      if (!(await badge.count())) continue;
      const [fg, bg] = await badge.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
      out.contrast[`badge_${kind}`] = contrast(fg, bg);
    }
    // dark mode follows the system setting
    await page.emulateMedia({ colorScheme: "dark" });
    await settle(page);
    out.dark = { background: await page.evaluate(() => getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor), axe: await axe(page) };
    await shot(page, "security-dark");
    await context.close();
    return out;
  },

  /** OIDC sign-in with PKCE against a test IdP; renewal before expiry; an expired session keeps the URL. */
  async oidc(ctx, args) {
    const { page } = ctx;
    await page.route("**/config.json", (route) => route.fulfill({ json: { auth: args.auth } }));
    const target = `/connectors/${args.connector}/cost?days=7`;
    await page.goto(`${ctx.base}${target}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.pathname.endsWith("/cost"), { timeout: TIMEOUT });
    await page.getByTestId("cost-overview").waitFor({ timeout: TIMEOUT });
    const landed = pathAndQuery(page);
    // the IdP's tokens live `args.ttl` seconds: wait past one lifetime, still signed in through a renewal
    await page.waitForTimeout(args.ttl * 1000 + 1500);
    await page.getByRole("link", { name: "Budgets", exact: true }).click();
    await settle(page);
    const afterRenewal = { url: pathAndQuery(page), signedIn: (await page.getByRole("button", { name: "Sign out" }).count()) === 1 };
    // the IdP now refuses renewals: when the token lapses, the page returns to sign-in and keeps its URL
    await fetch(`${args.idp}/refuse-refresh`, { method: "POST" });
    const before = pathAndQuery(page);
    await page.getByText("Your session has expired").waitFor({ timeout: (args.ttl + 10) * 1000 });
    const expired = { url: pathAndQuery(page), before };
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Budget guardrails" }).waitFor({ timeout: TIMEOUT });
    return { landed, afterRenewal, expired, back: pathAndQuery(page) };
  },

  /** A pasted token that lapses returns to sign-in on the same URL; signing in again continues there. */
  async token_expiry(ctx, args) {
    const { page } = ctx;
    await ctx.signIn(`/connectors/${args.connector}/security?severity=high&status=all`);
    const before = pathAndQuery(page);
    await page.getByText("Your session has expired").waitFor({ timeout: 30_000 });
    const message = (await page.getByRole("alert").innerText()).trim();
    const during = pathAndQuery(page);
    await page.getByLabel("API token").fill(args.fresh);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("security-summary").waitFor({ timeout: TIMEOUT });
    await settle(page);
    return { before, during, message, after: pathAndQuery(page), severity: await page.locator("#security-alerts select[name=severity]").inputValue() };
  },

  /** A screenshot of every page at laptop width and the main ones at tablet width; errors and overflow listed. */
  async screenshots(ctx, args) {
    const { page } = ctx;
    const taken = [];
    const problems = [];
    const pages = [
      ["home", "/"],
      ["security-laptop", `/connectors/${args.connector}/security`],
      ["cost", `/connectors/${args.connector}/cost`],
      ["budgets-laptop", `/connectors/${args.connector}/budgets`],
    ];
    await ctx.signIn(null);
    for (const [name, path] of pages) {
      await open(ctx, path);
      const errors = await page.locator(".state.error").allInnerTexts();
      if (errors.length) problems.push({ page: name, errors });
      if ((await overflow(page)) > 1) problems.push({ page: name, overflow: true });
      taken.push(await shot(page, name));
    }
    await page.setViewportSize(TABLET);
    for (const name of ["security", "cost"]) {
      await open(ctx, `/connectors/${args.connector}/${name}`);
      if ((await overflow(page)) > 1) problems.push({ page: `${name}-tablet`, overflow: true });
      taken.push(await shot(page, `${name}-tablet`));
    }
    return { taken, problems };
  },
};

async function run(browser, req) {
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const ctx = {
    browser,
    context,
    page,
    base: req.base,
    token: req.token,
    /** Signed in with the request's token (sessionStorage), then at `path` (null: stay on about:blank). */
    async signIn(path) {
      await context.addInitScript((t) => sessionStorage.setItem("snowwatch.token", t), req.token);
      if (path !== null) await open(ctx, path);
    },
  };
  try {
    const result = await scenarios[req.scenario](ctx, req.args ?? {});
    return { id: req.id, ok: true, result, pageErrors };
  } catch (e) {
    const where = await shot(page, `snowwatch-failure-${req.scenario}`, process.env.FAILURE_DIR ?? tmpdir()).catch(() => null);
    return { id: req.id, ok: false, error: String(e?.stack ?? e), screenshot: where, pageErrors };
  } finally {
    await context.close().catch(() => {});
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
console.log("READY");
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  if (!scenarios[req.scenario]) {
    console.log(`RESULT ${JSON.stringify({ id: req.id, ok: false, error: `unknown scenario ${req.scenario}` })}`);
    continue;
  }
  console.log(`RESULT ${JSON.stringify(await run(browser, req))}`);
}
await browser.close();
