// Pure helpers: tolerant field access (the API is evolving) and formatting.

export type Row = Record<string, unknown>;

/** The first present (not undefined/null) field among `names`, looked up on `obj`. Dotted names go deeper. */
export function pick<T = unknown>(obj: unknown, ...names: string[]): T | undefined {
  if (!obj || typeof obj !== "object") return undefined;
  for (const name of names) {
    let cur: unknown = obj;
    for (const part of name.split(".")) {
      if (cur && typeof cur === "object" && part in (cur as Row)) cur = (cur as Row)[part];
      else {
        cur = undefined;
        break;
      }
    }
    if (cur !== undefined && cur !== null) return cur as T;
  }
  return undefined;
}

/** A number out of a number or a numeric string; undefined otherwise. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function pickNum(obj: unknown, ...names: string[]): number | undefined {
  for (const n of names) {
    const v = num(pick(obj, n));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Items of a page, a bare list, or a named list inside an object. */
export function itemsOf<T = Row>(data: unknown, ...names: string[]): T[] {
  if (Array.isArray(data)) return data as T[];
  for (const n of ["items", ...names]) {
    const v = pick(data, n);
    if (Array.isArray(v)) return v as T[];
  }
  return [];
}

const DASH = "—";

export function fmtNumber(value: unknown, digits = 0): string {
  const n = num(value);
  if (n === undefined) return DASH;
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtCredits(value: unknown): string {
  const n = num(value);
  if (n === undefined) return DASH;
  return `${n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 2 : 1 })} cr`;
}

export function fmtMoney(value: unknown, currency = "USD"): string {
  const n = num(value);
  if (n === undefined) return DASH;
  try {
    return n.toLocaleString("en-US", { style: "currency", currency, maximumFractionDigits: n < 100 ? 2 : 0 });
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

export function fmtPercent(value: unknown, digits = 0): string {
  const n = num(value);
  if (n === undefined) return DASH;
  return `${n.toFixed(digits)}%`;
}

/** Signed change, e.g. "+12.5%" / "−3%". */
export function fmtChange(value: unknown): string {
  const n = num(value);
  if (n === undefined) return DASH;
  const sign = n > 0 ? "+" : n < 0 ? "−" : "";
  return `${sign}${Math.abs(n).toFixed(1)}%`;
}

export function fmtBytes(value: unknown): string {
  const n = num(value);
  if (n === undefined) return DASH;
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function fmtDate(value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number") return DASH;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return d.toISOString().replace("T", " ").slice(0, 16); // UTC (said once in the page footer)
}

export function fmtDuration(ms: unknown): string {
  const n = num(ms);
  if (n === undefined) return DASH;
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  return `${Math.floor(n / 60_000)} min ${Math.round((n % 60_000) / 1000)} s`;
}

/** Any scalar as display text; objects and arrays are summarised. */
export function fmtAny(value: unknown): string {
  if (value === undefined || value === null || value === "") return DASH;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return fmtNumber(value, Number.isInteger(value) ? 0 : 2);
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  if (/^\d{4}-\d{2}-\d{2}T/.test(String(value))) return fmtDate(value);
  return String(value);
}

export function humanize(key: string): string {
  const s = key.replace(/_/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** ISO date (YYYY-MM-DD) `days` before `from` (UTC). */
export function isoDaysAgo(days: number, from: Date = new Date()): string {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** Splits a free-text list of emails (commas, spaces, new lines) and validates each. */
export function parseEmails(text: string): { emails: string[]; invalid: string[] } {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const emails: string[] = [];
  const invalid: string[] = [];
  for (const p of parts) {
    if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p)) {
      if (!emails.includes(p.toLowerCase())) emails.push(p.toLowerCase());
    } else invalid.push(p);
  }
  return { emails, invalid };
}

/** Parses "50, 80, 100%" into sorted unique percents; invalid tokens are reported. */
export function parseThresholds(text: string): { values: number[]; invalid: string[] } {
  const values: number[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(/[\s,;]+/).filter(Boolean)) {
    const n = Number(raw.replace(/%$/, ""));
    if (!Number.isFinite(n) || n <= 0 || n > 1000) invalid.push(raw);
    else if (!values.includes(n)) values.push(n);
  }
  values.sort((a, b) => a - b);
  return { values, invalid };
}

/** Groups rows into chart series: x = date, one series per key, value summed. */
export function toSeries(
  rows: Row[],
  xKey: string[],
  groupKey: string[],
  valueKey: string[],
): { xs: string[]; series: { name: string; values: number[] }[] } {
  const xs: string[] = [];
  const byGroup = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const x = String(pick(r, ...xKey) ?? "").slice(0, 10);
    if (!x) continue;
    const g = String(pick(r, ...groupKey) ?? "total");
    const v = pickNum(r, ...valueKey) ?? 0;
    if (!xs.includes(x)) xs.push(x);
    const m = byGroup.get(g) ?? new Map<string, number>();
    m.set(x, (m.get(x) ?? 0) + v);
    byGroup.set(g, m);
  }
  xs.sort();
  const series = [...byGroup.entries()]
    .map(([name, m]) => ({ name, values: xs.map((x) => m.get(x) ?? 0) }))
    .sort((a, b) => b.values.reduce((s, v) => s + v, 0) - a.values.reduce((s, v) => s + v, 0));
  return { xs, series };
}

/** Counts timestamps per hour or day bucket (for failed logins over time). */
export function bucketCounts(times: string[], unit: "hour" | "day"): { xs: string[]; values: number[] } {
  const counts = new Map<string, number>();
  for (const t of times) {
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) continue;
    const iso = d.toISOString();
    const key = unit === "hour" ? iso.slice(0, 13) + ":00" : iso.slice(0, 10);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const xs = [...counts.keys()].sort();
  return { xs, values: xs.map((x) => counts.get(x) ?? 0) };
}
