// Security dashboard: summary cards, MFA gauge, alerts (filters + resolve), stale users, failed logins,
// login history, effective admins, and "extract now" with job progress.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, paths, type Page } from "../api";
import type { Ctx } from "../app";
import { BarsOverTime, Gauge } from "../charts";
import { Async, Badge, Card, DataTable, Empty, ErrorBox, Pager, Section, useGet, usePoll } from "../components";
import {
  bucketCounts,
  fmtAny,
  fmtDate,
  fmtNumber,
  humanize,
  itemsOf,
  num,
  pick,
  pickNum,
  type Row,
} from "../format";

const SEVERITIES = ["critical", "high", "medium", "low"] as const;
const FILTER_SEVERITIES = [...SEVERITIES, "info"];
const TERMINAL = ["succeeded", "failed", "interrupted"];

/** An alert resolved in this tab, and when. */
interface Resolution {
  alert: Row;
  at: number;
}

export function SecurityPage({ ctx }: { ctx: Ctx }) {
  // Resolutions made here: the cached summary and lists are corrected with them until they refresh.
  const [resolutions, setResolutions] = useState<Resolution[]>([]);
  const onResolved = (alert: Row) => setResolutions((r) => [...r, { alert, at: Date.now() }]);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Security</h1>
        <ExtractNow ctx={ctx} />
      </div>
      <nav class="jump" aria-label="Sections of this page">
        {[
          ["security-overview", "Overview"],
          ["security-alerts", "Alerts"],
          ["failed-logins", "Failed logins"],
          ["admins", "Admins"],
          ["stale-users", "Stale users"],
          ["no-mfa", "No MFA"],
          ["login-history", "Login history"],
        ].map(([id, label]) => (
          <a
            key={id}
            href={`#/security`}
            onClick={(e) => {
              e.preventDefault();
              document.getElementById(id)?.scrollIntoView({ behavior: "smooth", block: "start" });
            }}
          >
            {label}
          </a>
        ))}
      </nav>
      <Summary ctx={ctx} resolutions={resolutions} />
      <Alerts ctx={ctx} resolutions={resolutions} onResolved={onResolved} />
      <div class="grid-2">
        <FailedLogins ctx={ctx} />
        <Admins ctx={ctx} />
      </div>
      <StaleUsers ctx={ctx} />
      <NoMfa ctx={ctx} />
      <LoginHistory ctx={ctx} />
    </div>
  );
}

/** Open alerts per severity, wherever the summary keeps them. */
export function severityCounts(summary: unknown): Record<string, number | undefined> {
  const container =
    pick<Row>(summary, "open_alerts_by_severity", "alerts_by_severity", "by_severity", "open_alerts", "alerts") ?? {};
  const out: Record<string, number | undefined> = {};
  for (const s of SEVERITIES) {
    out[s] =
      typeof container === "object" && !Array.isArray(container)
        ? pickNum(container, s, `${s}.open`, `open.${s}`)
        : undefined;
    if (out[s] === undefined && Array.isArray(container)) {
      const row = (container as Row[]).find((r) => String(r.severity) === s);
      out[s] = pickNum(row, "count", "open");
    }
    if (out[s] === undefined) out[s] = pickNum(summary, `open_${s}`, `${s}_alerts`);
  }
  return out;
}

function Summary({ ctx, resolutions }: { ctx: Ctx; resolutions: Resolution[] }) {
  const res = useGet<Row>(paths.security(ctx.connectorId, "summary"));
  const [loadedAt, setLoadedAt] = useState(0);
  useEffect(() => setLoadedAt(Date.now()), [res.data]);
  return (
    <Section title="Overview" id="security-overview" cache={res.cache}>
      <Async res={res}>
        {(s) => {
          const sev = severityCounts(s);
          // Alerts resolved here after this summary was read are not in its (cached) counts yet.
          for (const r of resolutions) {
            const k = severityOf(r.alert);
            if (r.at > loadedAt && sev[k] !== undefined) sev[k] = Math.max(0, (sev[k] ?? 0) - 1);
          }
          const score = pickNum(s, "security_score", "score", "security_score.value", "score.value");
          const mfa = pickNum(s, "mfa_adoption_pct", "mfa_adoption_percent", "mfa_adoption", "mfa.adoption_pct", "mfa_percent");
          const admins = pickNum(s, "admins", "admin_count", "effective_admins", "admins.count");
          const stale = pickNum(s, "stale_users", "stale_user_count", "stale_users.count");
          const failed = pickNum(s, "failed_logins_24h", "failed_logins_last_24h", "failed_logins", "failed_logins.count");
          const formula = pick<string>(s, "score_formula", "security_score.formula", "formula");
          const last = pick<Row>(s, "last_extraction");
          const skipped = itemsOf<string>(pick(last, "skipped"));
          return (
            <>
            <div class="overview" data-testid="security-summary">
              <div class="cards">
                <Card
                  label="Security score"
                  value={score === undefined ? "—" : `${fmtNumber(score)} / 100`}
                  tone={score === undefined ? "" : score >= 80 ? "good" : score >= 50 ? "warn" : "bad"}
                  hint={
                    formula ? (
                      <details>
                        <summary>How it is computed</summary>
                        {formula}
                      </details>
                    ) : undefined
                  }
                  testid="card-score"
                />
                {SEVERITIES.map((k) => (
                  <Card
                    key={k}
                    label={`Open ${k}`}
                    value={fmtNumber(sev[k])}
                    tone={(sev[k] ?? 0) > 0 && (k === "critical" || k === "high") ? "bad" : ""}
                    testid={`card-${k}`}
                  />
                ))}
                <Card label="Effective admins" value={fmtNumber(admins)} testid="card-admins" />
                <Card label="Stale users" value={fmtNumber(stale)} testid="card-stale" />
                <Card label="Failed logins (24 h)" value={fmtNumber(failed)} testid="card-failed" />
              </div>
              <div class="gauge-box">
                <Gauge value={mfa} label="MFA adoption among password users" />
                <div class="muted small">
                  MFA adoption
                  {pickNum(s, "password_users") !== undefined &&
                    ` · ${fmtNumber(pickNum(s, "password_users_with_mfa"))} of ${fmtNumber(pickNum(s, "password_users"))} password users`}
                </div>
              </div>
            </div>
            <p class="muted small" data-testid="last-extraction">
              {last
                ? `Last extraction: ${String(pick(last, "status") ?? "")} ${fmtDate(pick(last, "finished_at"))}`
                : "No extraction yet."}
              {skipped.length > 0 && ` · skipped: ${skipped.join(", ")}`}
            </p>
            </>
          );
        }}
      </Async>
    </Section>
  );
}

function severityOf(a: Row): string {
  return String(pick(a, "severity") ?? "unknown").toLowerCase();
}

function Alerts({ ctx, resolutions, onResolved }: { ctx: Ctx; resolutions: Resolution[]; onResolved: (a: Row) => void }) {
  const [status, setStatus] = useState("open");
  const [severity, setSeverity] = useState("");
  const [rule, setRule] = useState("");
  const [ruleInput, setRuleInput] = useState("");
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const limit = 25;
  const res = useGet<Page<Row>>(paths.security(ctx.connectorId, "alerts"), {
    status,
    severity,
    rule,
    limit,
    offset,
  });
  const items = itemsOf<Row>(res.data);
  // Rules seen so far, to offer as suggestions for the rule filter.
  const [rules, setRules] = useState<string[]>([]);
  useEffect(() => {
    const seen = items.map((a) => String(pick(a, "rule_id", "rule") ?? "")).filter(Boolean);
    if (seen.some((r) => !rules.includes(r))) setRules([...new Set([...rules, ...seen])].sort());
  }, [res.data]);

  // The alert lists are cached by the gateway (per token and filters) for minutes: a re-read after a
  // resolve can be stale, so resolutions made here are kept and laid over every list shown.
  const resolved: Record<string, Row> = {};
  for (const r of resolutions) resolved[String(r.alert.id)] = r.alert;
  const shown = items.map((a) => (resolved[String(a.id)] ? { ...a, ...resolved[String(a.id)] } : a));

  return (
    <Section title="Alerts" id="security-alerts" cache={res.cache}>
      <form
        class="filters"
        aria-label="Alert filters"
        onSubmit={(e) => {
          e.preventDefault();
          setRule(ruleInput.trim());
          setOffset(0);
        }}
      >
        <label>
          Status
          <select
            name="status"
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value);
              setOffset(0);
            }}
          >
            <option value="">All</option>
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
          </select>
        </label>
        <label>
          Severity
          <select
            name="severity"
            value={severity}
            onChange={(e) => {
              setSeverity((e.target as HTMLSelectElement).value);
              setOffset(0);
            }}
          >
            <option value="">All</option>
            {FILTER_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rule
          <input
            name="rule"
            list="rule-options"
            value={ruleInput}
            placeholder="any rule"
            onInput={(e) => setRuleInput((e.target as HTMLInputElement).value)}
          />
          <datalist id="rule-options">
            {rules.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </label>
        <button type="submit">Apply</button>
        {(rule || severity || status !== "open") && (
          <button
            type="button"
            class="link"
            onClick={() => {
              setStatus("open");
              setSeverity("");
              setRule("");
              setRuleInput("");
              setOffset(0);
            }}
          >
            Reset
          </button>
        )}
      </form>
      <Async res={res} empty={() => items.length === 0} emptyText="No alerts match these filters.">
        {(page) => (
          <>
            <ul class="alert-list" aria-label="Security alerts">
              {shown.map((a) => (
                <AlertItem
                  key={String(a.id)}
                  alert={a}
                  ctx={ctx}
                  expanded={open === String(a.id)}
                  onToggle={() => setOpen(open === String(a.id) ? null : String(a.id))}
                  onResolved={onResolved}
                />
              ))}
            </ul>
            <Pager total={page.total ?? items.length} limit={limit} offset={offset} onChange={setOffset} label="Alerts" />
          </>
        )}
      </Async>
    </Section>
  );
}

function AlertItem(props: { alert: Row; ctx: Ctx; expanded: boolean; onToggle: () => void; onResolved: (a: Row) => void }) {
  const a = props.alert;
  const id = String(a.id);
  const st = String(pick(a, "status") ?? "open");
  const title = String(pick(a, "title", "summary", "message") ?? pick(a, "rule_id", "rule") ?? "Alert");
  const description = pick<string>(a, "description");
  const subject = pick(a, "subject", "user_name", "target");
  const evidence = pick(a, "evidence", "details");
  const remediation = pick<string>(a, "remediation_sql", "remediation");
  return (
    <li class={`alert ${st}`} data-alert-id={id} data-status={st}>
      <div class="alert-row">
        <Badge text={severityOf(a)} />
        <div class="alert-main">
          <div class="alert-title">{title}</div>
          <div class="muted small">
            <code>{String(pick(a, "rule_id", "rule") ?? "")}</code>
            {subject !== undefined && <> · {fmtAny(subject)}</>}
            {pick(a, "last_seen_at", "last_seen") !== undefined && <> · last seen {fmtDate(pick(a, "last_seen_at", "last_seen"))}</>}
            {(pickNum(a, "occurrences") ?? 0) > 1 && <> · seen {fmtNumber(pickNum(a, "occurrences"))} times</>}
          </div>
        </div>
        <span class={`status-pill ${st}`} data-testid="alert-status">
          {st}
        </span>
        <button type="button" aria-expanded={props.expanded} aria-controls={`alert-${id}-details`} onClick={props.onToggle}>
          {props.expanded ? "Hide" : "Details"}
        </button>
      </div>
      {props.expanded && (
        <div class="alert-details" id={`alert-${id}-details`}>
          {description && <p>{description}</p>}
          {evidence !== undefined && (
            <>
              <h3>Evidence</h3>
              {Array.isArray(evidence) && evidence.length && typeof evidence[0] === "object" ? (
                <DataTable rows={evidence as Row[]} caption="Evidence rows" />
              ) : (
                <pre>{typeof evidence === "string" ? evidence : JSON.stringify(evidence, null, 2)}</pre>
              )}
            </>
          )}
          {remediation && (
            <>
              <h3>Remediation (run it yourself; snowwatch never writes to Snowflake)</h3>
              <pre>{remediation}</pre>
            </>
          )}
          {st === "resolved" ? (
            <p class="muted">
              Resolved {pick(a, "resolved_at") ? fmtDate(pick(a, "resolved_at")) : ""}{" "}
              {pick(a, "resolved_by", "resolved_by_email") ? `by ${fmtAny(pick(a, "resolved_by_email", "resolved_by"))}` : ""}
              {pick(a, "resolution_note", "note") ? ` — “${String(pick(a, "resolution_note", "note"))}”` : ""}
            </p>
          ) : props.ctx.isAdmin ? (
            <ResolveForm ctx={props.ctx} alertId={id} onResolved={props.onResolved} />
          ) : (
            <p class="muted">Only admins can resolve alerts.</p>
          )}
        </div>
      )}
    </li>
  );
}

function ResolveForm({ ctx, alertId, onResolved }: { ctx: Ctx; alertId: string; onResolved: (a: Row) => void }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const fid = `resolve-${alertId}`;
  return (
    <form
      class="resolve"
      aria-label="Resolve alert"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        if (!note.trim()) {
          setError("A note is required: say why this is resolved.");
          return;
        }
        setBusy(true);
        setError(undefined);
        try {
          const ans = await api.put<Row>(paths.resolve(ctx.connectorId, alertId), { note: note.trim() });
          onResolved({ id: alertId, status: "resolved", resolution_note: note.trim(), ...(ans.data ?? {}) });
        } catch (err) {
          setError((err as ApiError).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={fid}>Resolution note (required)</label>
      <textarea
        id={fid}
        name="note"
        rows={2}
        required
        value={note}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${fid}-err` : undefined}
        onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
      />
      {error && (
        <p id={`${fid}-err`} class="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Resolving…" : "Resolve alert"}
      </button>
    </form>
  );
}

function FailedLogins({ ctx }: { ctx: Ctx }) {
  const [hours, setHours] = useState(168);
  const res = useGet<Row>(paths.security(ctx.connectorId, "failed-logins"), { window_hours: hours });
  // Without a time series in the answer, bucket failed logins from the login history.
  const series = pick<Row[]>(res.data, "timeline", "by_hour", "series", "over_time", "by_day");
  const fallback = useGet<Page<Row>>(
    res.data && !Array.isArray(series) ? paths.security(ctx.connectorId, "login-history") : null,
    { success: "false", limit: 500 },
  );
  let xs: string[] = [];
  let values: number[] = [];
  if (Array.isArray(series)) {
    for (const p of series) {
      xs.push(String(pick(p, "hour", "bucket", "date", "day", "time", "ts") ?? ""));
      values.push(pickNum(p, "failures", "failed", "count", "value") ?? 0);
    }
  } else if (fallback.data) {
    const b = bucketCounts(
      itemsOf<Row>(fallback.data).map((r) => String(pick(r, "event_timestamp", "login_at", "timestamp", "time") ?? "")),
      hours <= 48 ? "hour" : "day",
    );
    xs = b.xs;
    values = b.values;
  }
  const byUser = itemsOf<Row>(pick(res.data, "by_user", "users"));
  const byIp = itemsOf<Row>(pick(res.data, "by_ip", "ips"));
  return (
    <Section
      title="Failed logins"
      id="failed-logins"
      cache={res.cache}
      actions={
        <label>
          Window{" "}
          <select name="window_hours" value={hours} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))}>
            <option value={24}>24 hours</option>
            <option value={168}>7 days</option>
            <option value={720}>30 days</option>
          </select>
        </label>
      }
    >
      <Async res={res}>
        {(d) => (
          <>
            {pickNum(d, "total") !== undefined && (
              <p>
                <strong>{fmtNumber(pickNum(d, "total"))}</strong> failed logins in the window.
              </p>
            )}
            {xs.length ? (
              <BarsOverTime xs={xs} values={values} label="Failed logins over time" unit="failures" />
            ) : fallback.loading ? null : (
              <Empty>No failed logins in this window.</Empty>
            )}
            <div class="grid-2 tight">
              <div>
                <h3>By user</h3>
                {byUser.length ? (
                  <DataTable
                    rows={byUser.slice(0, 10)}
                    caption="Failed logins by user"
                    columns={[
                      { key: "user_name|user", label: "User", render: (r) => String(pick(r, "user_name", "user") ?? "(unknown user)") },
                      { key: "distinct_ips", label: "IPs", num: true },
                      { key: "failures|failed|count", label: "Failures", num: true },
                      { key: "last_failure", label: "Last", render: (r) => fmtDate(pick(r, "last_failure")) },
                    ]}
                  />
                ) : (
                  <Empty>None.</Empty>
                )}
              </div>
              <div>
                <h3>By IP</h3>
                {byIp.length ? (
                  <DataTable
                    rows={byIp.slice(0, 10)}
                    caption="Failed logins by IP address"
                    columns={[
                      { key: "client_ip|ip" },
                      { key: "users|distinct_users", label: "Users", num: true },
                      { key: "failures|failed|count", label: "Failures", num: true },
                      { key: "last_failure", label: "Last", render: (r) => fmtDate(pick(r, "last_failure")) },
                    ]}
                  />
                ) : (
                  <Empty>None.</Empty>
                )}
              </div>
            </div>
          </>
        )}
      </Async>
    </Section>
  );
}

/** "ACCOUNTADMIN via DBA → SYSADMIN → ACCOUNTADMIN" lines, from `grants` (or a flat path). */
function grantPaths(a: Row): string[] {
  const grants = itemsOf<Row>(pick(a, "grants"));
  if (grants.length) {
    return grants.map((g) => {
      const path = itemsOf<string>(pick(g, "path"));
      return `${String(pick(g, "admin_role") ?? "")}${path.length ? ` via ${path.join(" → ")}` : ""}`;
    });
  }
  const p = pick(a, "grant_path", "path");
  return Array.isArray(p) ? [p.map(String).join(" → ")] : p === undefined ? [] : [String(p)];
}

function Admins({ ctx }: { ctx: Ctx }) {
  const res = useGet<unknown>(paths.security(ctx.connectorId, "admin-access"));
  const rows = itemsOf<Row>(res.data, "admins", "holders");
  const ok = pick<boolean>(res.data, "within_recommended_range");
  return (
    <Section title="Effective admins" id="admins" cache={res.cache}>
      <Async res={res} empty={() => rows.length === 0} emptyText="No admin holders found.">
        {() => (
          <>
            {ok !== undefined && (
              <p class={ok ? "muted small" : "state warn small"}>
                {fmtNumber(rows.length)} users hold ACCOUNTADMIN or SECURITYADMIN
                {ok ? " (within the recommended 2 to 9)." : ": outside the recommended 2 to 9 (CIS 1.10)."}
              </p>
            )}
            <DataTable
              rows={rows}
              caption="Users holding ACCOUNTADMIN or SECURITYADMIN, with the grant path"
              rowKey={(r, i) => String(pick(r, "user_name") ?? i)}
              columns={[
                { key: "user_name|grantee|user", label: "User" },
                {
                  key: "grants",
                  label: "Grant path",
                  render: (r) => (
                    <ul class="paths">
                      {grantPaths(r).map((p) => (
                        <li key={p}>{p}</li>
                      ))}
                    </ul>
                  ),
                },
                { key: "has_password", label: "Password" },
                { key: "has_mfa", label: "MFA" },
                { key: "last_success_login", label: "Last login", render: (r) => fmtDate(pick(r, "last_success_login")) },
              ]}
            />
          </>
        )}
      </Async>
    </Section>
  );
}

function StaleUsers({ ctx }: { ctx: Ctx }) {
  const [offset, setOffset] = useState(0);
  const res = useGet<Page<Row>>(paths.security(ctx.connectorId, "stale-users"), { limit: 25, offset });
  const rows = itemsOf<Row>(res.data);
  return (
    <Section title="Stale users" id="stale-users" cache={res.cache}>
      <p class="muted small">No successful login for 90 days (never-logged-in users count from creation; disabled users excluded).</p>
      <Async res={res} empty={() => rows.length === 0} emptyText="No stale users.">
        {(p) => (
          <>
            <DataTable
              rows={rows}
              caption="Stale users"
              columns={[
                { key: "user_name|name" },
                { key: "email" },
                { key: "last_success_login|last_login_at|last_login", label: "Last login", render: (r) => (pick(r, "last_success_login", "last_login_at", "last_login") === undefined ? "never" : fmtDate(pick(r, "last_success_login", "last_login_at", "last_login"))) },
                { key: "days_idle|days_inactive|idle_days", label: "Days idle", num: true },
                { key: "created_on|created_at", label: "Created", render: (r) => fmtDate(pick(r, "created_on", "created_at")) },
                { key: "has_password" },
                { key: "default_role" },
              ]}
            />
            <Pager total={p.total ?? rows.length} limit={25} offset={offset} onChange={setOffset} label="Stale users" />
          </>
        )}
      </Async>
    </Section>
  );
}

function NoMfa({ ctx }: { ctx: Ctx }) {
  const res = useGet<Page<Row>>(paths.security(ctx.connectorId, "no-mfa"), { limit: 50 });
  const rows = itemsOf<Row>(res.data);
  return (
    <Section title="Password users without MFA" id="no-mfa" cache={res.cache}>
      <Async res={res} empty={() => rows.length === 0} emptyText="Every password user has MFA.">
        {() => (
          <DataTable
            rows={rows}
            caption="Password users without MFA"
            columns={[
              { key: "user_name|name" },
              { key: "email" },
              { key: "is_admin|admin", label: "Admin" },
              { key: "default_role" },
              { key: "last_success_login|last_login_at", label: "Last login", render: (r) => fmtDate(pick(r, "last_success_login", "last_login_at")) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}

function LoginHistory({ ctx }: { ctx: Ctx }) {
  const [form, setForm] = useState({ user: "", ip: "", success: "" });
  const [applied, setApplied] = useState(form);
  const [offset, setOffset] = useState(0);
  const limit = 25;
  const res = useGet<Page<Row>>(paths.security(ctx.connectorId, "login-history"), { ...applied, limit, offset });
  const rows = itemsOf<Row>(res.data);
  return (
    <Section title="Login history" id="login-history" cache={res.cache}>
      <form
        class="filters"
        aria-label="Login history filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...form });
          setOffset(0);
        }}
      >
        <label>
          User
          <input name="user" value={form.user} onInput={(e) => setForm({ ...form, user: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          IP address
          <input name="ip" value={form.ip} onInput={(e) => setForm({ ...form, ip: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          Outcome
          <select name="success" value={form.success} onChange={(e) => setForm({ ...form, success: (e.target as HTMLSelectElement).value })}>
            <option value="">All</option>
            <option value="true">Succeeded</option>
            <option value="false">Failed</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <Async res={res} empty={() => rows.length === 0} emptyText="No logins match these filters.">
        {(p) => (
          <>
            <DataTable
              rows={rows}
              caption="Login history"
              rowKey={(r, i) => String(pick(r, "event_id", "id") ?? i)}
              columns={[
                { key: "event_timestamp|login_at|timestamp", label: "Time", render: (r) => fmtDate(pick(r, "event_timestamp", "login_at", "timestamp")) },
                { key: "user_name|user", label: "User" },
                { key: "client_ip|ip", label: "IP" },
                { key: "first_authentication_factor|auth_factor", label: "Factor" },
                { key: "second_authentication_factor", label: "2nd factor" },
                { key: "reported_client_type|client_type", label: "Client" },
                {
                  key: "is_success|success",
                  label: "Outcome",
                  render: (r) => {
                    const ok = pick(r, "is_success", "success");
                    const yes = ok === true || ok === "YES" || ok === "yes";
                    return <Badge text={yes ? "success" : "failed"} kind={yes ? "ok" : "bad"} />;
                  },
                },
                { key: "error_message|error_code", label: "Error" },
              ]}
            />
            <Pager total={p.total ?? rows.length} limit={limit} offset={offset} onChange={setOffset} label="Login history" />
          </>
        )}
      </Async>
    </Section>
  );
}

/** "Extract now": POST extract (admin), then poll the job run until it ends, showing its progress. */
function ExtractNow({ ctx }: { ctx: Ctx }) {
  const [run, setRun] = useState<Row | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const runId = run ? String(pick(run, "run_id", "id") ?? "") : "";
  const status = run ? String(pick(run, "status") ?? "queued") : "";
  const active = !!runId && !TERMINAL.includes(status) && !error; // stop polling on an error
  usePoll(
    () => {
      api
        .get<Row>(paths.run(runId))
        .then((a) => setRun({ ...a.data, run_id: runId }))
        .catch((e) => setError(e as ApiError));
    },
    1000,
    active,
  );
  if (!ctx.isAdmin) return null;
  const rows = pick<Row>(run, "rows");
  const total = rows ? Object.values(rows).reduce<number>((s, v) => s + (num(v) ?? 0), 0) : 0;
  return (
    <div class="extract">
      <button
        type="button"
        class="primary"
        disabled={busy || active}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const a = await api.post<Row>(paths.security(ctx.connectorId, "extract"), {});
            setRun(a.data);
          } catch (e) {
            setError(e as ApiError);
          } finally {
            setBusy(false);
          }
        }}
      >
        {active ? "Extracting…" : "Extract now"}
      </button>
      <div class="extract-status" role="status" aria-live="polite" data-testid="extract-status">
        {run && (
          <>
            <progress
              max={1}
              value={TERMINAL.includes(status) ? 1 : undefined}
              aria-label="Extraction progress"
            />{" "}
            <span class={`status-pill ${status}`}>{status}</span>
            {status === "succeeded" && <span class="muted small"> {fmtNumber(total)} rows. Cached views refresh within minutes.</span>}
            {pick(run, "error") !== undefined && <span class="field-error"> {String(pick(run, "error"))}</span>}
          </>
        )}
      </div>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

