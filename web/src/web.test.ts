// Unit tests of the pure parts: URL routes, ranges and buckets, tables (sort, search, CSV), form errors,
// chart labels, PKCE and token renewal, counts corrected by this tab's resolutions.
import { describe, expect, it } from "vitest";
import { pkceChallenge, refreshAt } from "./auth";
import { labelStep, shortLabel } from "./charts";
import { addDays, bucketCounts, matches, rangeFrom, rangeInstants, sortRows, toCsv, todayIn } from "./format";
import { fieldErrors, fieldLabel } from "./pages/budgets";
import { setupSteps } from "./setup";
import { totalRows } from "./pages/jobs";
import { openCounts } from "./pages/security";
import { connectorHref, legacyHashTarget, parseRoute } from "./router";

describe("routes", () => {
  it("parses every page and the selected budget", () => {
    expect(parseRoute("/")).toEqual({ page: "home" });
    expect(parseRoute("/jobs")).toEqual({ page: "jobs" });
    expect(parseRoute("/connectors/c1/security")).toEqual({ page: "security", connectorId: "c1" });
    expect(parseRoute("/connectors/c1")).toEqual({ page: "security", connectorId: "c1" });
    expect(parseRoute("/connectors/c1/budgets/b9")).toEqual({ page: "budgets", connectorId: "c1", budgetId: "b9" });
    expect(parseRoute("/connectors/c1/nope")).toEqual({ page: "notfound" });
    expect(parseRoute("/signin/callback")).toEqual({ page: "callback" });
  });
  it("builds links and maps old hash routes", () => {
    expect(connectorHref("c 1", "cost", { days: "7" })).toBe("/connectors/c%201/cost?days=7");
    expect(legacyHashTarget("#/budgets", "c1")).toBe("/connectors/c1/budgets");
    expect(legacyHashTarget("#/jobs", null)).toBe("/jobs");
    expect(legacyHashTarget("#main", "c1")).toBeNull();
  });
});

describe("date ranges", () => {
  const now = new Date("2026-11-29T23:30:00Z");
  it("ends today in the connector's time zone", () => {
    expect(todayIn("Asia/Tokyo", now)).toBe("2026-11-30");
    expect(todayIn("America/Los_Angeles", now)).toBe("2026-11-29");
    expect(rangeFrom(new URLSearchParams("days=7"), "Asia/Tokyo", now)).toEqual({ start: "2026-11-24", end: "2026-11-30", days: 7 });
  });
  it("takes a custom from/to and ignores junk", () => {
    expect(rangeFrom(new URLSearchParams("from=2026-10-01&to=2026-10-31"), "UTC", now)).toEqual({ start: "2026-10-01", end: "2026-10-31" });
    expect(rangeFrom(new URLSearchParams("days=13"), "UTC", now).days).toBe(30);
    expect(rangeInstants({ start: "2026-10-01", end: "2026-10-31" })).toEqual({ start: "2026-10-01T00:00:00Z", end: "2026-11-01T00:00:00Z" });
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });
  it("buckets only inside the window, with every bucket present", () => {
    const b = bucketCounts(["2026-11-29T10:05:00Z", "2026-11-29T10:59:00Z", "2026-09-01T00:00:00Z"], "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", "hour");
    expect(b.xs.length).toBe(24);
    expect(b.values.reduce((s, v) => s + v, 0)).toBe(2);
    expect(b.values[10]).toBe(2);
  });
});

describe("tables", () => {
  it("sorts numbers numerically and nulls last, both ways", () => {
    const rows = [{ v: 10 }, { v: null }, { v: 9 }, { v: 100 }];
    expect(sortRows(rows, (r) => r.v, false).map((r) => r.v)).toEqual([9, 10, 100, null]);
    expect(sortRows(rows, (r) => r.v, true).map((r) => r.v)).toEqual([100, 10, 9, null]);
  });
  it("searches words across rule ids and titles", () => {
    expect(matches("attack", "login_attack_tooling", "Attack tooling used")).toBe(true);
    expect(matches("tooling attack", "login_attack_tooling")).toBe(true);
    expect(matches("mfa", "login_attack_tooling", "Attack tooling")).toBe(false);
  });
  it("writes CSV with quoting and neutralised formulas", () => {
    expect(toCsv(["a", "b"], [["x,y", '"q"'], ["=SUM(A1)", "-3"]])).toBe('a,b\r\n"x,y","""q"""\r\n\'=SUM(A1),-3\r\n');
  });
});

describe("forms", () => {
  it("puts each 422 detail on its field, naming threshold rows", () => {
    const errs = fieldErrors([
      { loc: ["body", "name"], msg: "String should have at least 1 character", type: "string_too_short" },
      { loc: ["body", "thresholds", 1, "value"], msg: "Input should be greater than 0", type: "greater_than" },
    ]);
    expect(errs).toEqual({ name: "Give the budget a name.", "thresholds.1": "Must be a positive number." });
    expect(fieldLabel("thresholds.1")).toBe("Threshold 2");
    const big = fieldErrors([{ loc: ["body", "amount"], msg: "Input should be less than or equal to 1000000000000", type: "less_than_equal" }]);
    expect(big.amount).toBe("Must be at most 1,000,000,000,000.");
  });
});

describe("charts", () => {
  it("thins labels so they never overlap", () => {
    const labels = Array.from({ length: 24 }, (_, i) => shortLabel(`2026-11-29T${String(i).padStart(2, "0")}`));
    expect(labels[3]).toBe("11-29 03h");
    const step = labelStep(labels, 320);
    const widest = 9 * 7 + 12;
    expect(Math.ceil(24 / step) * widest).toBeLessThanOrEqual(320 + widest);
  });
});

describe("sign-in", () => {
  it("derives the S256 PKCE challenge (RFC 7636 appendix B)", async () => {
    expect(await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
  it("renews a minute early, or at three quarters of a short life", () => {
    expect(refreshAt(0, 3600_000)).toBe(3540_000);
    expect(refreshAt(0, 20_000)).toBe(15_000);
  });
});

describe("state after actions", () => {
  const summary = { open_alerts: { critical: 5, high: 2, medium: 0, low: 0, info: 0 } } as never;
  const alert = (status: string) => ({ id: "a", severity: "critical", status }) as never;
  it("takes a resolution off the counts until the summary is fresher than it", () => {
    const o = [{ alert: alert("resolved"), before: alert("open"), at: 100 }];
    expect(openCounts(summary, o, () => false).critical).toBe(4);
    expect(openCounts(summary, o, (ts) => ts <= 100).critical).toBe(5);
  });
  it("sums a run's row counts", () => {
    expect(totalRows({ a: 2, b: 3, rules: { x: 1 } })).toBe(5);
  });
});

describe("snowflake setup", () => {
  it("shows every numbered step of docs/snowflake-setup.md with the form's names", () => {
    const steps = setupSteps({ role: "FINOPS_READER", warehouse: "FINOPS_WH", user: "FINOPS_SVC" });
    expect(steps.map((s) => s.title.slice(0, 2))).toEqual(["1.", "2.", "3.", "4.", "5."]);
    const sql = steps.map((s) => s.code).join("\n");
    expect(sql).toContain("GRANT DATABASE ROLE SNOWFLAKE.USAGE_VIEWER      TO ROLE FINOPS_READER;");
    expect(sql).toContain("GRANT USAGE ON WAREHOUSE FINOPS_WH TO ROLE FINOPS_READER;");
    expect(sql).toContain("CREATE USER IF NOT EXISTS FINOPS_SVC");
    expect(sql).toContain("ALTER USER FINOPS_SVC SET NETWORK_POLICY = SNOWWATCH_EGRESS;");
    expect(sql).not.toMatch(/SNOWWATCH_READER|SNOWWATCH_WH/);
  });
});
