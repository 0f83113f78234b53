import { describe, expect, it } from "vitest";
import { queryString, toApiError } from "./api";
import {
  bucketCounts,
  fmtBytes,
  fmtChange,
  fmtCredits,
  fmtMoney,
  itemsOf,
  num,
  parseEmails,
  parseThresholds,
  pick,
  pickNum,
  toSeries,
} from "./format";
import { visibleColumns } from "./components";
import { severityCounts } from "./pages/security";

describe("tolerant field access", () => {
  it("picks the first present field, dotted paths included", () => {
    const o = { a: null, b: { c: 3 }, d: 0 };
    expect(pick(o, "a", "b.c")).toBe(3);
    expect(pick(o, "missing", "d")).toBe(0);
    expect(pick(undefined, "a")).toBeUndefined();
  });
  it("reads numbers from numbers and numeric strings only", () => {
    expect(num("12.5")).toBe(12.5);
    expect(num("")).toBeUndefined();
    expect(num("abc")).toBeUndefined();
    expect(pickNum({ x: "4" }, "y", "x")).toBe(4);
  });
  it("finds the items of a page, a list or a named list", () => {
    expect(itemsOf({ items: [1], total: 1 })).toEqual([1]);
    expect(itemsOf([2])).toEqual([2]);
    expect(itemsOf({ findings: [3] }, "findings")).toEqual([3]);
    expect(itemsOf(null)).toEqual([]);
  });
});

describe("formatting", () => {
  it("formats credits, money, change and bytes; a dash when missing", () => {
    expect(fmtCredits(1234.56)).toBe("1,234.6 cr");
    expect(fmtCredits(undefined)).toBe("—");
    expect(fmtMoney(12.5, "USD")).toBe("$12.50");
    expect(fmtChange(-3)).toBe("−3.0%");
    expect(fmtChange(12.34)).toBe("+12.3%");
    expect(fmtBytes(1536)).toBe("1.5 KB");
  });
});

describe("form parsing", () => {
  it("splits, lower-cases, dedupes and validates emails", () => {
    expect(parseEmails("A@x.io, b@y.org\nA@x.io bad@")).toEqual({ emails: ["a@x.io", "b@y.org"], invalid: ["bad@"] });
  });
  it("parses thresholds as sorted unique percents", () => {
    expect(parseThresholds("100, 50% 80 80 -1 x")).toEqual({ values: [50, 80, 100], invalid: ["-1", "x"] });
  });
});

describe("charts data", () => {
  it("groups daily rows into series ordered by total", () => {
    const rows = [
      { date: "2026-11-02", warehouse_name: "A", credits: 1 },
      { date: "2026-11-01", warehouse_name: "B", credits: 5 },
      { date: "2026-11-02", warehouse_name: "B", credits: "2" },
    ];
    const s = toSeries(rows, ["date"], ["warehouse_name"], ["credits"]);
    expect(s.xs).toEqual(["2026-11-01", "2026-11-02"]);
    expect(s.series).toEqual([
      { name: "B", values: [5, 2] },
      { name: "A", values: [0, 1] },
    ]);
  });
  it("buckets timestamps per hour", () => {
    const b = bucketCounts(["2026-11-01T10:05:00Z", "2026-11-01T10:55:00Z", "2026-11-01T12:00:00Z", "bad"], "hour");
    expect(b).toEqual({ xs: ["2026-11-01T10:00", "2026-11-01T12:00"], values: [2, 1] });
  });
});

describe("security summary", () => {
  it("reads open alerts by severity from a map or a list", () => {
    expect(severityCounts({ open_alerts_by_severity: { critical: 1, high: 2 } })).toMatchObject({ critical: 1, high: 2 });
    expect(severityCounts({ by_severity: [{ severity: "low", count: 4 }] })).toMatchObject({ low: 4 });
    expect(severityCounts({})).toMatchObject({ critical: undefined });
  });
});

describe("api helpers", () => {
  it("builds a stable query string without empty values", () => {
    expect(queryString({ b: 2, a: "x y", c: "", d: undefined })).toBe("?a=x%20y&b=2");
    expect(queryString({})).toBe("");
  });
  it("maps the error body to an ApiError", () => {
    const e = toApiError(422, { error: { code: "validation_failed", message: "bad", details: [{ loc: ["body", "x"] }] } });
    expect([e.status, e.code, e.message]).toEqual([422, "validation_failed", "bad"]);
    expect(toApiError(500, "oops").code).toBe("http_500");
  });
});

describe("table columns", () => {
  const render = () => "x";
  it("keeps declared columns with data or a renderer, drops the rest", () => {
    const rows = [{ a: 1, b: null }];
    const cols = visibleColumns(rows, [{ key: "a" }, { key: "b" }, { key: "c|a" }, { key: "d", render }]);
    expect(cols.map((c) => c.key)).toEqual(["a", "c|a", "d"]);
  });
  it("falls back to the row's scalar fields only when no declared field is in the data", () => {
    const rows = [{ x: 1, y: "s", z: { nested: true } }];
    expect(visibleColumns(rows, [{ key: "gone", render }]).map((c) => c.key)).toEqual(["x", "y", "gone"]);
    expect(visibleColumns([{ x: 1, q: 2 }], [{ key: "q", render }]).map((c) => c.key)).toEqual(["q"]);
  });
});
