// Security: summary cards and MFA gauge, the score trend, the post-login timeline, alerts (filters, text
// search, sort, pages, CSV, the selected alert in the URL, its lifecycle, resolve), incidents, the
// authentication posture, failed logins over the page's range, admins, stale users, users without MFA, login
// history, and "Extract now" with the run's progress (investigation blocks: ./security_investigate.tsx).
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, markChanged, type Schemas } from "../api";
import type { Ctx } from "../app";
import { BarsOverTime, Gauge } from "../charts";
import { Async, Badge, Card, ErrorBox, PageSection, RangePicker, Section, Select, Table, useGet, usePoll, type Col, type Loaded } from "../components";
import { bucketCounts, fmtNumber, fmtTime, humanize, inRange, rangeFrom, rangeInstants, type DateRange } from "../format";
import { useParam, useQuery } from "../router";
import { ProgressText, totalRows } from "./jobs";
import { AlertLifecycle, Incidents, Posture, RANK, SEC, Timeline, TimelineLink, Trend } from "./security_investigate";

type Alert = Schemas["AlertOut"];
type Login = Schemas["LoginEventOut"];
const SEVERITIES = ["critical", "high", "medium", "low"] as const;
const FILTER_SEVERITIES = [...SEVERITIES, "info"] as const;
const STATUS_OPTIONS = [
  { value: "all", label: "All" },
  { value: "open", label: "Open" },
  { value: "acknowledged", label: "Acknowledged" },
  { value: "resolved", label: "Resolved" },
];
const TERMINAL = ["succeeded", "failed", "interrupted", "partial"];

/** An alert answered by a write in this tab (resolve), laid over answers that may predate it. */
interface Override {
  alert: Alert;
  before: Alert;
  at: number;
}

export function SecurityPage({ ctx }: { ctx: Ctx }) {
  const [params] = useQuery();
  const range = rangeFrom(params, "UTC");
  const [overrides, setOverrides] = useState<Override[]>([]);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Security</h1>
        <ExtractNow ctx={ctx} onFinished={() => setOverrides([])} />
      </div>
      <RangePicker range={range} zone="UTC (login and alert times are UTC)" />
      <Summary ctx={ctx} overrides={overrides} />
      <Trend ctx={ctx} />
      <Timeline ctx={ctx} />
      <Alerts ctx={ctx} range={range} overrides={overrides} onResolved={(o) => setOverrides((x) => [...x.filter((y) => y.alert.id !== o.alert.id), o])} />
      <Incidents ctx={ctx} />
      <Posture ctx={ctx} />
      <FailedLogins ctx={ctx} range={range} />
      <Admins ctx={ctx} />
      <div class="grid-2">
        <StaleUsers ctx={ctx} />
        <NoMfa ctx={ctx} />
      </div>
      <LoginHistory ctx={ctx} range={range} />
    </div>
  );
}

/** The summary's open counts with this tab's resolutions applied where the summary predates them. */
export function openCounts(summary: Schemas["SecuritySummary"], overrides: Override[], freshAfter: (ts: number) => boolean) {
  const counts: Record<string, number> = { ...summary.open_alerts };
  for (const o of overrides) {
    if (freshAfter(o.at)) continue;
    const sev = o.alert.severity;
    if (o.before.status !== "resolved" && o.alert.status === "resolved") counts[sev] = Math.max(0, (counts[sev] ?? 0) - 1);
  }
  return counts;
}

function Summary({ ctx, overrides }: { ctx: Ctx; overrides: Override[] }) {
  const res = useGet(`${SEC}/summary`, { path: { connector_id: ctx.connectorId } });
  return (
    <Section title="Overview" id="security-overview" res={res}>
      <Async res={res}>
        {(s) => {
          const counts = openCounts(s, overrides, res.freshAfter);
          const last = s.last_extraction;
          return (
            <>
              <div class="overview" data-testid="security-summary">
                <div class="cards">
                  <Card
                    label="Security score"
                    value={`${fmtNumber(s.security_score)} / 100`}
                    tone={s.security_score >= 80 ? "good" : s.security_score >= 50 ? "warn" : "bad"}
                    hint={
                      <details>
                        <summary>How it is computed</summary>
                        {s.score_formula}
                      </details>
                    }
                    testid="card-score"
                  />
                  {SEVERITIES.map((k) => (
                    <Card
                      key={k}
                      label={`Open ${k}`}
                      value={fmtNumber(counts[k])}
                      tone={(counts[k] ?? 0) > 0 && (k === "critical" || k === "high") ? "bad" : ""}
                      testid={`card-${k}`}
                    />
                  ))}
                  <Card label="Effective admins" value={fmtNumber(s.admins)} testid="card-admins" />
                  <Card label="Stale users" value={fmtNumber(s.stale_users)} testid="card-stale" />
                  <Card label="Failed logins, last 24 h" value={fmtNumber(s.failed_logins_24h)} testid="card-failed" />
                </div>
                <div class="gauge-box">
                  <Gauge value={s.mfa_adoption_percent ?? undefined} label="MFA adoption among password users" />
                  <div class="muted small">
                    MFA adoption · {fmtNumber(s.password_users_with_mfa)} of {fmtNumber(s.password_users)} password users
                  </div>
                </div>
              </div>
              <p class="muted small" data-testid="last-extraction">
                {last ? `Last extraction: ${last.status} ${fmtTime(last.finished_at)}` : "No extraction yet."}
                {last?.skipped?.length ? ` · skipped: ${last.skipped.join(", ")}` : null}
                {Object.keys(last?.failed_rules ?? {}).length ? ` · rules that failed (the others ran): ${Object.keys(last?.failed_rules ?? {}).join(", ")}` : null}
              </p>
            </>
          );
        }}
      </Async>
    </Section>
  );
}

function alertLabel(a: Alert): string {
  return a.subject ? `${a.title} — ${a.subject}` : a.title;
}

function Alerts(props: { ctx: Ctx; range: DateRange; overrides: Override[]; onResolved: (o: Override) => void }) {
  const { ctx, range } = props;
  const [status, setStatus] = useParam("status", "open");
  const [severity, setSeverity] = useParam("severity");
  const [selected, setSelected] = useParam("alert");
  const [rule] = useParam("rule"); // links in notifications name the alert's rule, to find it whatever its status
  const res = useGet(`${SEC}/alerts`, {
    path: { connector_id: ctx.connectorId },
    query: {
      status: status === "all" ? undefined : (status as "open" | "acknowledged" | "resolved"),
      severity: (severity || undefined) as (typeof FILTER_SEVERITIES)[number] | undefined,
      limit: 500,
    },
  });
  const linked = useGet(selected && rule ? `${SEC}/alerts` : null, { path: { connector_id: ctx.connectorId }, query: { rule, limit: 500 } });
  const overlay = (a: Alert, from: Loaded<unknown>) => {
    const o = props.overrides.find((x) => x.alert.id === a.id);
    return o && !from.freshAfter(o.at) ? o.alert : a;
  };
  const items = (res.data?.items ?? []).map((a) => overlay(a, res));
  const inWindow = items.filter((a) => a.id === selected || inRange(a.last_seen_at, range) || inRange(a.first_seen_at, range));
  const linkedAlert = selected && !inWindow.some((a) => a.id === selected) ? linked.data?.items.find((a) => a.id === selected) : undefined;
  const cols: Col<Alert>[] = [
    { id: "severity", label: "Severity", value: (a) => RANK[a.severity] ?? -1 },
    { id: "title", label: "Title", value: (a) => a.title },
    { id: "rule", label: "Rule", value: (a) => a.rule_id },
    { id: "last_seen", label: "Last seen", value: (a) => a.last_seen_at },
    { id: "occurrences", label: "Occurrences", value: (a) => a.occurrences, num: true },
    { id: "status", label: "Status", value: (a) => a.status },
    { id: "subject", label: "Subject", value: (a) => a.subject },
  ];
  const item = (a: Alert) => (
    <AlertItem
      key={a.id}
      alert={a}
      ctx={ctx}
      expanded={selected === a.id}
      onToggle={() => setSelected(selected === a.id ? null : a.id)}
      onResolved={props.onResolved}
    />
  );
  return (
    <Section title="Alerts" id="security-alerts" res={[res, linked]} note="Alerts seen in the range; times in UTC.">
      {linkedAlert && (
        <div class="linked" data-testid="linked-alert">
          <h3>The linked alert</h3>
          <ul class="alert-list" aria-label="The linked alert">
            {item(overlay(linkedAlert, linked))}
          </ul>
        </div>
      )}
      <Async res={res}>
        {(page) => (
          <Table
            id="alerts"
            label="Security alerts"
            rows={inWindow}
            total={page.total > items.length ? page.total : undefined}
            cols={cols}
            rowKey={(a) => a.id}
            defaultSort="-severity"
            search={(a) => [a.rule_id, a.title, a.subject]}
            searchHint="rule id, title or subject"
            emptyText="No alerts match these filters."
            filters={
              <form class="filters" aria-label="Alert filters" onSubmit={(e) => e.preventDefault()}>
                <Select label="Status" name="status" value={status} options={STATUS_OPTIONS} onChange={setStatus} />
                <Select
                  label="Severity"
                  name="severity"
                  value={severity}
                  options={FILTER_SEVERITIES.map((v) => ({ value: v, label: humanize(v) }))}
                  onChange={setSeverity}
                  all
                />
              </form>
            }
            renderRows={(rows) => (
              <ul class="alert-list" aria-label="Security alerts">
                {rows.map(item)}
              </ul>
            )}
          />
        )}
      </Async>
    </Section>
  );
}

function History({ a }: { a: Alert }) {
  if (!a.resolved_at && !a.reopened_count) return null;
  const resolution = a.resolved_at
    ? `${a.status === "open" ? "Last resolved" : "Resolved"} ${fmtTime(a.resolved_at)}${a.resolved_by_email ? ` by ${a.resolved_by_email}` : ""}${a.resolution_note ? `: “${a.resolution_note}”` : ""}`
    : "";
  return (
    <p class="history" data-testid="alert-history">
      {a.reopened_count > 0 && (
        <>
          <Badge text={`reopened ${a.reopened_count}×`} kind="reopened" />{" "}
        </>
      )}
      {resolution}
    </p>
  );
}

function AlertItem(props: { alert: Alert; ctx: Ctx; expanded: boolean; onToggle: () => void; onResolved: (o: Override) => void }) {
  const a = props.alert;
  useEffect(() => {
    if (props.expanded) document.querySelector(`[data-alert-id="${a.id}"]`)?.scrollIntoView({ block: "center" });
  }, []);
  return (
    <li class={`alert ${a.status}`} data-alert-id={a.id} data-status={a.status} data-reopened={a.reopened_count}>
      <div class="alert-row">
        <Badge text={a.severity} />
        <div class="alert-main">
          <div class="alert-title">{a.title}</div>
          <div class="muted small meta">
            <code>{a.rule_id}</code>
            {a.subject && <> · {a.subject}</>} · last seen {fmtTime(a.last_seen_at)}
            {a.occurrences > 1 && <> · seen {fmtNumber(a.occurrences)} times</>}
          </div>
        </div>
        <span class={`status-pill ${a.status}`} data-testid="alert-status">
          {a.status}
        </span>
        <button type="button" aria-expanded={props.expanded} aria-controls={`alert-${a.id}-details`} aria-label={`${props.expanded ? "Hide" : "Details"}: ${alertLabel(a)}`} onClick={props.onToggle}>
          {props.expanded ? "Hide" : "Details"}
        </button>
      </div>
      <History a={a} />
      {props.expanded && (
        <div class="alert-details" id={`alert-${a.id}-details`}>
          {a.description && <p>{a.description}</p>}
          {a.evidence.length > 0 && (
            <>
              <h3>Evidence</h3>
              <pre>{JSON.stringify(a.evidence, null, 2)}</pre>
            </>
          )}
          {a.remediation_sql && (
            <>
              <h3>Remediation (run it yourself; snowwatch never writes to Snowflake)</h3>
              <pre>{a.remediation_sql}</pre>
            </>
          )}
          <AlertLifecycle ctx={props.ctx} alertId={a.id} onChanged={() => undefined} />
          {a.status !== "resolved" &&
            (props.ctx.isAdmin ? <ResolveForm ctx={props.ctx} alert={a} onResolved={props.onResolved} /> : <p class="muted">Only admins can resolve alerts.</p>)}
        </div>
      )}
    </li>
  );
}

function ResolveForm({ ctx, alert, onResolved }: { ctx: Ctx; alert: Alert; onResolved: (o: Override) => void }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const fid = `resolve-${alert.id}`;
  return (
    <form
      class="resolve"
      aria-label={`Resolve ${alertLabel(alert)}`}
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
          const ans = await api.put(`${SEC}/alerts/{alert_id}/resolve`, {
            path: { connector_id: ctx.connectorId, alert_id: alert.id },
            body: { note: note.trim() },
          });
          onResolved({ alert: ans.data, before: alert, at: ans.at });
          markChanged(ctx.connectorId);
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

/** Failed logins over the page's range, all from one source (the login history), so figures agree. */
function FailedLogins({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const window = rangeInstants(range);
  const res = useGet(`${SEC}/login-history`, {
    path: { connector_id: ctx.connectorId },
    query: { success: false, start: window.start, end: window.end, limit: 500 },
  });
  const rows = res.data?.items ?? [];
  const hourly = new Date(window.end).getTime() - new Date(window.start).getTime() <= 2 * 86400_000;
  const b = bucketCounts(
    rows.map((r) => r.event_timestamp),
    window.start,
    window.end,
    hourly ? "hour" : "day",
  );
  /** Failures grouped by `key` (user or IP), counting the distinct `other` (IPs or users) of each. */
  const group = (key: (r: Login) => string | null, other: (r: Login) => string | null) => {
    const m = new Map<string, FailureGroup>();
    for (const r of rows) {
      const k = key(r) ?? "(unknown)";
      const g = m.get(k) ?? { key: k, failures: 0, last: "", others: new Set<string>() };
      g.failures += 1;
      if (r.event_timestamp > g.last) g.last = r.event_timestamp;
      g.others.add(other(r) ?? "");
      m.set(k, g);
    }
    return [...m.values()];
  };
  const user = (r: Login) => r.user_name;
  const ip = (r: Login) => r.client_ip;
  return (
    <Section title="Failed logins" id="failed-logins" res={res}>
      <Async res={res}>
        {(p) => (
          <>
            <p data-testid="failed-total">
              <strong>{fmtNumber(p.total)}</strong> failed logins from {range.start} to {range.end} (UTC days).
              {p.total > rows.length && ` The chart and tables use the latest ${fmtNumber(rows.length)}.`}
            </p>
            {rows.length ? (
              <BarsOverTime xs={b.xs} values={b.values} label="Failed logins over time" unit={hourly ? "failed logins per hour (UTC)" : "failed logins per day (UTC)"} />
            ) : null}
            <div class="grid-2 tight">
              <FailureTable id="fl-users" label="Failed logins by user" what="User" other="IPs" groups={group(user, ip)} />
              <FailureTable id="fl-ips" label="Failed logins by IP address" what="IP address" other="Users" groups={group(ip, user)} />
            </div>
          </>
        )}
      </Async>
    </Section>
  );
}

interface FailureGroup {
  key: string;
  failures: number;
  last: string;
  others: Set<string>;
}

function FailureTable(props: { id: string; label: string; what: string; other: string; groups: FailureGroup[] }) {
  return (
    <Table
      id={props.id}
      label={props.label}
      rows={props.groups}
      rowKey={(g) => g.key}
      pageSize={10}
      defaultSort="-failures"
      emptyText="None."
      cols={[
        { id: "key", label: props.what, value: (g) => g.key },
        { id: "others", label: props.other, num: true, value: (g) => g.others.size },
        { id: "failures", label: "Failures", num: true, value: (g) => g.failures },
        { id: "last", label: "Last", value: (g) => g.last, render: (g) => fmtTime(g.last) },
      ]}
    />
  );
}

function Admins({ ctx }: { ctx: Ctx }) {
  const res = useGet(`${SEC}/admin-access`, { path: { connector_id: ctx.connectorId } });
  return (
    <Section title="Effective admins" id="admins" res={res} note="Current state (not limited to the range).">
      <Async res={res} empty={(d) => d.admins.length === 0} emptyText="No admin holders found.">
        {(d) => (
          <>
            <p class={d.within_recommended_range ? "muted small" : "state warn small"}>
              {fmtNumber(d.total)} users hold ACCOUNTADMIN or SECURITYADMIN
              {d.within_recommended_range ? " (within the recommended 2 to 9)." : ": outside the recommended 2 to 9 (CIS 1.10)."}
            </p>
            <Table
              id="admins"
              label="Users holding ACCOUNTADMIN or SECURITYADMIN, with the grant path"
              rows={d.admins}
              rowKey={(r) => r.user_name}
              defaultSort="user"
              cols={[
                { id: "user", label: "User", value: (r) => r.user_name },
                {
                  id: "path",
                  label: "Grant path",
                  value: (r) => r.grants.map((g) => `${g.admin_role}${g.path.length ? ` via ${g.path.join(" → ")}` : ""}`).join("; "),
                  render: (r) => (
                    <ul class="paths">
                      {r.grants.map((g) => (
                        <li key={g.admin_role + g.path.join()}>
                          {g.admin_role}
                          {g.path.length ? ` via ${g.path.join(" → ")}` : ""}
                        </li>
                      ))}
                    </ul>
                  ),
                },
                { id: "password", label: "Password", value: (r) => (r.has_password ? "yes" : "no") },
                { id: "mfa", label: "MFA", value: (r) => (r.has_mfa ? "yes" : "no") },
                { id: "last", label: "Last login", value: (r) => r.last_success_login ?? "", render: (r) => fmtTime(r.last_success_login) },
              ]}
            />
          </>
        )}
      </Async>
    </Section>
  );
}

function StaleUsers({ ctx }: { ctx: Ctx }) {
  const res = useGet(`${SEC}/stale-users`, { path: { connector_id: ctx.connectorId }, query: { limit: 500 } });
  return (
    <PageSection title="Stale users" id="stale-users" res={res} note="No successful login for 90 days (current state; disabled users excluded)." table={{
      id: "stale",
      label: "Stale users",
      rowKey: (r) => r.user_name,
      pageSize: 10,
      defaultSort: "-days",
      emptyText: "No stale users.",
      cols: [
        { id: "user", label: "User", value: (r) => r.user_name },
        { id: "last", label: "Last login", value: (r) => r.last_success_login ?? "", render: (r) => (r.last_success_login ? fmtTime(r.last_success_login) : "never") },
        { id: "days", label: "Days idle", num: true, value: (r) => r.days_inactive },
        { id: "password", label: "Password", value: (r) => (r.has_password ? "yes" : "no") },
        { id: "role", label: "Default role", value: (r) => r.default_role ?? "" },
      ],
    }} />
  );
}

function NoMfa({ ctx }: { ctx: Ctx }) {
  const res = useGet(`${SEC}/no-mfa`, { path: { connector_id: ctx.connectorId }, query: { limit: 500 } });
  return (
    <PageSection title="Password users without MFA" id="no-mfa" res={res} note="Current state." table={{
      id: "nomfa",
      label: "Password users without MFA",
      rowKey: (r) => r.user_name,
      pageSize: 10,
      defaultSort: "user",
      emptyText: "Every password user has MFA.",
      cols: [
        { id: "user", label: "User", value: (r) => r.user_name },
        { id: "admin", label: "Admin", value: (r) => (r.is_admin ? "yes" : "no") },
        { id: "role", label: "Default role", value: (r) => r.default_role ?? "" },
        { id: "last", label: "Last login", value: (r) => r.last_success_login ?? "", render: (r) => fmtTime(r.last_success_login) },
      ],
    }} />
  );
}

function LoginHistory({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const [user, setUser] = useParam("lh.user");
  const [ip, setIp] = useParam("lh.ip");
  const [outcome, setOutcome] = useParam("lh.outcome");
  const [form, setForm] = useState({ user, ip });
  useEffect(() => setForm({ user, ip }), [user, ip]);
  const window = rangeInstants(range);
  const res = useGet(`${SEC}/login-history`, {
    path: { connector_id: ctx.connectorId },
    query: { user: user || undefined, ip: ip || undefined, success: outcome ? outcome === "success" : undefined, ...window, limit: 500 },
  });
  return (
    <PageSection title="Login history" id="login-history" res={res} note="Newest first; times in UTC." table={{
      id: "logins",
      label: "Login history",
      rowKey: (r) => String(r.event_id),
      defaultSort: "-time",
      emptyText: "No logins match these filters.",
      filters: (
        <form
          class="filters"
          aria-label="Login history filters"
          onSubmit={(e) => {
            e.preventDefault();
            setUser(form.user.trim());
            setIp(form.ip.trim());
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
            <select name="success" value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
              <option value="">All</option>
              <option value="success">Succeeded</option>
              <option value="failed">Failed</option>
            </select>
          </label>
          <button type="submit">Apply</button>
        </form>
      ),
      cols: [
        { id: "time", label: "Time (UTC)", value: (r) => r.event_timestamp, render: (r) => fmtTime(r.event_timestamp) },
        { id: "user", label: "User", value: (r) => r.user_name ?? "" },
        { id: "ip", label: "IP", value: (r) => r.client_ip ?? "" },
        { id: "factor", label: "Factor", value: (r) => r.first_authentication_factor ?? "" },
        { id: "factor2", label: "2nd factor", value: (r) => r.second_authentication_factor ?? "" },
        { id: "client", label: "Client", value: (r) => r.reported_client_type ?? "" },
        {
          id: "outcome",
          label: "Outcome",
          value: (r) => (r.is_success ? "success" : "failed"),
          render: (r) => <Badge text={r.is_success ? "success" : "failed"} kind={r.is_success ? "ok" : "bad"} />,
        },
        { id: "error", label: "Error", value: (r) => r.error_message ?? "" },
        { id: "timeline", label: "After sign-in", value: (r) => (r.is_success ? 1 : 0), render: (r) => (r.is_success ? <TimelineLink eventId={r.event_id} /> : "") },
      ],
    }} />
  );
}

/** "Extract now": POST extract (admin), then follow the run until it ends; then everything re-reads. */
function ExtractNow({ ctx, onFinished }: { ctx: Ctx; onFinished: () => void }) {
  const [run, setRun] = useState<Schemas["JobRun"] | null>(null);
  const [runId, setRunId] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const status = run?.status ?? (runId ? "queued" : "");
  const active = !!runId && !TERMINAL.includes(status) && !error;
  usePoll(
    () => {
      api
        .get("/api/jobs/runs/{run_id}", { path: { run_id: runId } })
        .then((a) => {
          setRun(a.data);
          if (TERMINAL.includes(a.data.status)) {
            onFinished();
            markChanged(ctx.connectorId);
          }
        })
        .catch((e) => setError(e as ApiError));
    },
    1000,
    active,
  );
  if (!ctx.isAdmin) return null;
  return (
    <div class="extract">
      <button
        type="button"
        class="primary"
        disabled={busy || active}
        onClick={async () => {
          setBusy(true);
          setError(null);
          setRun(null);
          try {
            const a = await api.post(`${SEC}/extract`, { path: { connector_id: ctx.connectorId } });
            setRunId(a.data.run_id);
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
        {runId && (
          <>
            <span class={`status-pill ${status}`}>{status}</span>
            {run && active && <ProgressText run={run} />}
            {status === "succeeded" && run && <span class="small"> {fmtNumber(totalRows(run.rows))} rows; every section re-reads.</span>}
            {run?.error && <span class="field-error"> {run.error}</span>}
          </>
        )}
      </div>
      {error && <ErrorBox error={error} />}
    </div>
  );
}
