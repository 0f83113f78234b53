// Pure helpers: formatting with units and time zones, CSV, sorting, date ranges, form parsing.

export type Num = number | null | undefined;
const DASH = "—";

export function fmtNumber(n: Num, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtCredits(n: Num): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return `${n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 2 : 1 })} cr`;
}

export function fmtMoney(n: Num, currency = "USD"): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  try {
    return n.toLocaleString("en-US", { style: "currency", currency, maximumFractionDigits: n < 100 ? 2 : 0 });
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

export function fmtPercent(n: Num, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return `${n.toFixed(digits)}%`;
}

/** Signed change, e.g. "+12.5%" / "−3%". */
export function fmtChange(n: Num): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const sign = n > 0 ? "+" : n < 0 ? "−" : "";
  return `${sign}${Math.abs(n).toFixed(1)}%`;
}

export function fmtBytes(n: Num): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A timestamp as "YYYY-MM-DD HH:MM UTC" (every API timestamp is UTC; the zone is always written). */
export function fmtTime(value: string | null | undefined): string {
  if (!value) return DASH;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

export function fmtDuration(ms: Num): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function humanize(key: string): string {
  const s = key.replace(/_/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Today's date (YYYY-MM-DD) in an IANA time zone (the connector's, for its local cost days). */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** The ISO date `days` before `iso` (calendar arithmetic, no time zone involved). */
export function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export interface DateRange {
  start: string; // first day, inclusive
  end: string; // last day, inclusive
  days?: number; // a preset (last N days) rather than fixed dates
}

export const PRESETS = [7, 30, 90] as const;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The page's range from the URL (`days=N` or `from`/`to`), ending today in `timeZone`; default 30 days. */
export function rangeFrom(params: URLSearchParams, timeZone: string, now: Date = new Date()): DateRange {
  const today = todayIn(timeZone, now);
  const from = params.get("from");
  const to = params.get("to");
  if (from && ISO_DAY.test(from) && (!to || ISO_DAY.test(to))) {
    const end = to && to >= from ? to : today;
    return { start: from, end };
  }
  const days = Number(params.get("days"));
  const n = PRESETS.includes(days as (typeof PRESETS)[number]) ? days : 30;
  return { start: addDays(today, -(n - 1)), end: today, days: n };
}

/** A local-day range as UTC instants [start 00:00, day after end 00:00), for timestamp filters (UTC days). */
export function rangeInstants(r: DateRange): { start: string; end: string } {
  return { start: `${r.start}T00:00:00Z`, end: `${addDays(r.end, 1)}T00:00:00Z` };
}

export function inRange(ts: string | null | undefined, r: DateRange): boolean {
  if (!ts) return false;
  const i = rangeInstants(r);
  const t = new Date(ts).getTime();
  return t >= new Date(i.start).getTime() && t < new Date(i.end).getTime();
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

/** Groups rows into chart series: x = day, one series per group, values summed. */
export function toSeries<R>(rows: R[], x: (r: R) => string, group: (r: R) => string, value: (r: R) => number) {
  const xs: string[] = [];
  const byGroup = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const k = x(r).slice(0, 10);
    if (!k) continue;
    const g = group(r) || "total";
    if (!xs.includes(k)) xs.push(k);
    const m = byGroup.get(g) ?? new Map<string, number>();
    m.set(k, (m.get(k) ?? 0) + (value(r) || 0));
    byGroup.set(g, m);
  }
  xs.sort();
  const series = [...byGroup.entries()]
    .map(([name, m]) => ({ name, values: xs.map((d) => m.get(d) ?? 0) }))
    .sort((a, b) => b.values.reduce((s, v) => s + v, 0) - a.values.reduce((s, v) => s + v, 0));
  return { xs, series };
}

/**
 * Counts timestamps per bucket over the whole window [start, end): every bucket is present (zeros
 * included), so the chart spans exactly the window it claims.
 */
export function bucketCounts(times: string[], start: string, end: string, unit: "hour" | "day"): { xs: string[]; values: number[] } {
  const step = unit === "hour" ? 3600_000 : 86400_000;
  const t0 = Math.floor(new Date(start).getTime() / step) * step;
  const t1 = new Date(end).getTime();
  const xs: string[] = [];
  for (let t = t0; t < t1; t += step) xs.push(new Date(t).toISOString().slice(0, unit === "hour" ? 13 : 10));
  const counts = new Map<string, number>();
  for (const t of times) {
    const d = new Date(t);
    if (Number.isNaN(d.getTime()) || d.getTime() < t0 || d.getTime() >= t1) continue;
    const k = d.toISOString().slice(0, unit === "hour" ? 13 : 10);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return { xs, values: xs.map((x) => counts.get(x) ?? 0) };
}

/** One CSV line per row (RFC 4180 quoting); cells starting with = + - @ are prefixed so spreadsheets do not run them. */
export function toCsv(header: string[], rows: string[][]): string {
  const cell = (v: string) => {
    const safe = /^[=+\-@]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

export type SortValue = string | number | null | undefined;

/** Sorts by a value, nulls last, numbers numerically, text case-insensitively. */
export function sortRows<R>(rows: R[], value: (r: R) => SortValue, descending: boolean): R[] {
  const dir = descending ? -1 : 1;
  return rows
    .map((r, i) => ({ r, i, v: value(r) }))
    .sort((a, b) => {
      if (a.v === b.v) return a.i - b.i;
      if (a.v === null || a.v === undefined || a.v === "") return 1;
      if (b.v === null || b.v === undefined || b.v === "") return -1;
      if (typeof a.v === "number" && typeof b.v === "number") return (a.v - b.v) * dir;
      return String(a.v).localeCompare(String(b.v), "en", { numeric: true, sensitivity: "base" }) * dir;
    })
    .map((x) => x.r);
}

/** Whether every word of `query` occurs in one of `texts` (case-insensitive; "attack" finds "attack_tooling"). */
export function matches(query: string, ...texts: (string | null | undefined)[]): boolean {
  const hay = texts.filter(Boolean).join(" ").toLowerCase().replace(/_/g, " ");
  return query
    .toLowerCase()
    .replace(/_/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
