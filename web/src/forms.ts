// Form errors: each 422 detail of the API's error body goes next to its field, in words a person reads
// (never the raw validator text alone, never the input value).

export type Errors = Record<string, string>;

export interface FormWords {
  /** What the form creates, for "Give the <noun> a name." */
  noun: string;
  /** Field key -> its label ("alert_emails" -> "Alert emails"). */
  labels: Record<string, string>;
}

/** A 422 detail's message in words a person reads. */
export function friendly(d: { loc: (string | number)[]; msg: string; type: string }, words: FormWords): string {
  const field = String(d.loc[0] ?? "");
  if (d.type === "string_too_short" || d.type === "missing") {
    return field === "name" ? `Give the ${words.noun} a name.` : `${words.labels[field] ?? "This field"} is required.`;
  }
  if (d.type === "greater_than" || d.type === "greater_than_equal") return "Must be a positive number.";
  const most = /less than(?: or equal to)? ([\d.]+)/.exec(d.msg);
  if (most) return `Must be at most ${Number(most[1]).toLocaleString("en-US")}.`;
  if (d.type === "string_too_long") return "Too long.";
  if (d.type === "string_pattern_mismatch") return `${words.labels[field] ?? "This field"} is not in the expected form.`;
  const m = d.msg.replace(/^Value error, /, "");
  return m.charAt(0).toUpperCase() + m.slice(1) + (m.endsWith(".") ? "" : ".");
}

/** Field errors from a 422 answer, keyed by field ("name", "thresholds.1", …; "form" for the whole body). */
export function fieldErrors(details: unknown, words: FormWords): Errors {
  const out: Errors = {};
  if (!Array.isArray(details)) return out;
  for (const raw of details) {
    const d = raw as { loc?: (string | number)[]; msg?: string; type?: string };
    const loc = (d.loc ?? []).filter((p) => p !== "body");
    const key = loc[0] === "thresholds" && typeof loc[1] === "number" ? `thresholds.${loc[1]}` : String(loc[0] ?? "form");
    out[key] ??= friendly({ loc, msg: d.msg ?? "is not valid", type: d.type ?? "" }, words);
  }
  return out;
}
