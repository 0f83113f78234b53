// Security investigations: the score trend, the post-login timeline (reached from an alert or a login),
// incidents with their lifecycle, the authentication posture under the password deprecation, and an
// alert's own lifecycle (history, acknowledge, snooze, links to timelines).
import { useState } from "preact/hooks";
import { ApiError, api, markChanged, type Schemas } from "../api";
import type { Ctx } from "../app";
import { LineChart } from "../charts";
import { Async, Badge, Card, CodeBlock, ErrorBox, PageSection, Section, Select, Table, useGet } from "../components";
import { fmtNumber, fmtTime, humanize } from "../format";
import { useParam } from "../router";

export const SEC = "/api/connectors/{connector_id}/security/snowflake";
type Incident = Schemas["IncidentOut"];
type PostureUser = Schemas["PostureUser"];
export const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/** The daily snapshots of the score and the open counts as a line chart. */
export function Trend({ ctx }: { ctx: Ctx }) {
  const res = useGet(`${SEC}/trend`, { path: { connector_id: ctx.connectorId }, query: { days: 90 } });
  return (
    <Section title="Security score trend" id="security-trend" res={res} note="One snapshot a day (UTC), written by each security run.">
      <Async res={res} empty={(t) => t.points.length === 0} emptyText="No snapshot yet: the first security run writes one.">
        {(t) => (
          <div data-testid="security-trend" data-points={t.points.length}>
            <LineChart
              xs={t.points.map((p) => p.day)}
              series={[
                { name: "Score", values: t.points.map((p) => p.score) },
                { name: "Open critical + high", values: t.points.map((p) => p.critical + p.high) },
              ]}
              label="Security score and open critical and high alerts per day"
              unit="score (0 to 100) and open alerts"
              height={160}
            />
          </div>
        )}
      </Async>
    </Section>
  );
}

/** The post-login timeline of the login in the URL (`login=<event id>`). */
export function Timeline({ ctx }: { ctx: Ctx }) {
  const [login, setLogin] = useParam("login");
  const res = useGet(login ? `${SEC}/logins/{event_id}/timeline` : null, { path: { connector_id: ctx.connectorId, event_id: login } });
  if (!login) return null;
  return (
    <Section
      title={`What sign-in ${login} led to`}
      id="login-timeline"
      res={res}
      actions={
        <button type="button" onClick={() => setLogin(null)}>
          Close timeline
        </button>
      }
      note="From the stored login, sessions, queries and access history; times in UTC."
    >
      <Async res={res}>
        {(t) => (
          <div data-testid="timeline" data-flagged={t.flagged_steps}>
            <p data-testid="timeline-login">
              <Badge text={t.login.is_success ? "success" : "failed"} kind={t.login.is_success ? "ok" : "bad"} /> {fmtTime(t.login.event_timestamp)} ·{" "}
              <strong>{t.login.user_name ?? "(unidentified)"}</strong> from {t.login.client_ip ?? "?"} · {t.login.reported_client_type ?? "?"}{" "}
              {t.login.reported_client_version ?? ""} · {t.login.first_authentication_factor ?? "?"}
              {t.login.second_authentication_factor ? ` + ${t.login.second_authentication_factor}` : " (single factor)"}
              {t.login.error_message ? ` · ${t.login.error_message}` : ""}
            </p>
            <h3>Sessions ({fmtNumber(t.sessions.length)})</h3>
            <ul class="plain" data-testid="timeline-sessions">
              {t.sessions.map((s) => (
                <li key={s.session_id}>
                  {fmtTime(s.created_on)} · session {s.session_id} · {s.authentication_method ?? "?"} ·{" "}
                  {String((s.client_environment as Record<string, unknown> | null)?.APPLICATION ?? s.client_application_id ?? "?")}
                </li>
              ))}
            </ul>
            <h3>
              Queries ({fmtNumber(t.queries.length)}
              {t.queries_truncated ? ", the first only" : ""}) · {fmtNumber(t.flagged_steps)} flagged
            </h3>
            <Table
              id="timeline-queries"
              label="Queries in the sessions of this sign-in"
              rows={t.queries}
              rowKey={(q) => q.query_id}
              defaultSort="time"
              emptyText="No queries recorded in these sessions."
              cols={[
                { id: "time", label: "Time (UTC)", value: (q) => q.start_time, render: (q) => fmtTime(q.start_time) },
                { id: "type", label: "Type", value: (q) => q.query_type ?? "" },
                { id: "flag", label: "Flag", value: (q) => q.flag ?? "", render: (q) => (q.flag ? <Badge text={q.flag} kind="bad" /> : "") },
                { id: "text", label: "Text (excerpt)", value: (q) => q.text_excerpt ?? "", render: (q) => <code>{q.text_excerpt}</code> },
                { id: "wh", label: "Warehouse", value: (q) => q.warehouse_name ?? "" },
                { id: "rows", label: "Rows", num: true, value: (q) => q.rows_produced ?? 0 },
                { id: "bytes", label: "Bytes scanned", num: true, value: (q) => q.bytes_scanned ?? 0 },
              ]}
            />
            <h3>Objects read and written ({fmtNumber(t.objects.length)})</h3>
            {t.objects.length ? (
              <ul class="plain" data-testid="timeline-objects">
                {t.objects.map((o) => (
                  <li key={o.query_id + o.access + o.object_name}>
                    {o.access} {o.object_domain ?? ""} <code>{o.object_name}</code> · {fmtTime(o.at)}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted small">None recorded (ACCESS_HISTORY is Enterprise edition only).</p>
            )}
            <h3>Other logins from {t.login.client_ip ?? "this IP"} within 24 h ({fmtNumber(t.same_ip_logins.length)})</h3>
            <ul class="plain" data-testid="timeline-same-ip">
              {t.same_ip_logins.map((l) => (
                <li key={l.event_id}>
                  {fmtTime(l.event_timestamp)} · {l.user_name ?? "(unidentified)"} · {l.is_success ? "success" : `failed${l.error_code ? ` (${l.error_code})` : ""}`}
                  {l.is_success && (
                    <>
                      {" "}
                      · <TimelineLink eventId={l.event_id} />
                    </>
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
      </Async>
    </Section>
  );
}

/** A button that opens the timeline of a login (sets `login` in the URL and scrolls to it). */
export function TimelineLink({ eventId }: { eventId: number }) {
  const [, setLogin] = useParam("login");
  return (
    <button
      type="button"
      class="link"
      onClick={() => {
        setLogin(String(eventId));
        setTimeout(() => document.getElementById("login-timeline")?.scrollIntoView({ block: "start" }), 50);
      }}
    >
      Timeline of sign-in {eventId}
    </button>
  );
}

/** A change to an alert or incident: run it, then re-read `res`, mark the connector changed and tell the parent;
 * a refusal is kept as `error` for an ErrorBox. */
function useChange(ctx: Ctx, res: { reload: () => void }, onChanged: () => void) {
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (change: () => Promise<unknown>) => {
    setError(null);
    try {
      await change();
      res.reload();
      markChanged(ctx.connectorId);
      onChanged();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return { error, run };
}

/** An alert's lifecycle: its history, the timelines it links to, and (admins) acknowledge and snooze. */
export function AlertLifecycle({ ctx, alertId, onChanged }: { ctx: Ctx; alertId: string; onChanged: () => void }) {
  const res = useGet(`${SEC}/alerts/{alert_id}`, { path: { connector_id: ctx.connectorId, alert_id: alertId } });
  const [until, setUntil] = useState("");
  const { error, run } = useChange(ctx, res, onChanged);
  const path = { connector_id: ctx.connectorId, alert_id: alertId };
  return (
    <Async res={res}>
      {(a) => (
        <div class="lifecycle" data-testid="alert-lifecycle">
          {(a.timeline_event_ids ?? []).length > 0 && (
            <p data-testid="alert-timelines">
              What the sign-ins led to:{" "}
              {(a.timeline_event_ids ?? []).map((id) => (
                <span key={id}>
                  <TimelineLink eventId={id} />{" "}
                </span>
              ))}
            </p>
          )}
          <h3>History</h3>
          <ol class="plain" data-testid="alert-events">
            {a.history.map((e, i) => (
              <li key={i}>
                {fmtTime(e.at)} · <strong>{e.kind}</strong>
                {e.actor_email ? ` by ${e.actor_email}` : ""}
                {e.until ? ` until ${fmtTime(e.until)}` : ""}
                {e.note ? `: “${e.note}”` : ""}
              </li>
            ))}
          </ol>
          {a.snoozed_until && <p class="muted small">Snoozed until {fmtTime(a.snoozed_until)}.</p>}
          {ctx.isAdmin && a.status !== "resolved" && (
            <form class="filters" aria-label="Acknowledge or snooze" onSubmit={(e) => e.preventDefault()}>
              {a.status === "open" && (
                <button type="button" onClick={() => run(() => api.put(`${SEC}/alerts/{alert_id}/acknowledge`, { path, body: {} }))}>
                  Acknowledge
                </button>
              )}
              <label>
                Snooze until
                <input type="date" name="until" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
              </label>
              <button type="button" disabled={!until} onClick={() => run(() => api.put(`${SEC}/alerts/{alert_id}/snooze`, { path, body: { until } }))}>
                Snooze
              </button>
            </form>
          )}
          {error && <ErrorBox error={error} />}
        </div>
      )}
    </Async>
  );
}

/** Incidents: related alerts grouped by user or IP, with their alerts, history and lifecycle. */
export function Incidents({ ctx }: { ctx: Ctx }) {
  const [status, setStatus] = useParam("inc.status", "open");
  const [selected, setSelected] = useParam("incident");
  const res = useGet(`${SEC}/incidents`, {
    path: { connector_id: ctx.connectorId },
    query: { status: status === "all" ? undefined : (status as "open" | "acknowledged" | "resolved"), limit: 200 },
  });
  return (
    <PageSection title="Incidents" id="security-incidents" res={res} note="Alerts about the same user or IP within 24 hours, handled together; one notification per incident." table={{
      id: "incidents",
      label: "Security incidents",
      rowKey: (i) => i.id,
      defaultSort: "-severity",
      emptyText: "No incidents match.",
      filters: (
        <form class="filters" aria-label="Incident filters" onSubmit={(e) => e.preventDefault()}>
          <Select
            label="Status"
            name="inc-status"
            value={status}
            options={[{ value: "all", label: "All" }, ...["open", "acknowledged", "resolved"].map((v) => ({ value: v, label: humanize(v) }))]}
            onChange={setStatus}
          />
        </form>
      ),
      cols: [
        { id: "severity", label: "Severity", value: (i) => RANK[i.severity] ?? -1 },
        { id: "title", label: "Title", value: (i) => i.title },
        { id: "alerts", label: "Alerts", num: true, value: (i) => i.alert_count },
        { id: "last", label: "Last seen", value: (i) => i.last_seen_at },
      ],
      renderRows: (rows) => (
        <ul class="alert-list" aria-label="Security incidents">
          {rows.map((i) => (
            <IncidentItem key={i.id} ctx={ctx} incident={i} expanded={selected === i.id} onToggle={() => setSelected(selected === i.id ? null : i.id)} onChanged={res.reload} />
          ))}
        </ul>
      ),
    }} />
  );
}

function IncidentItem(props: { ctx: Ctx; incident: Incident; expanded: boolean; onToggle: () => void; onChanged: () => void }) {
  const i = props.incident;
  return (
    <li class={`alert ${i.status}`} data-incident-id={i.id} data-status={i.status}>
      <div class="alert-row">
        <Badge text={i.severity} />
        <div class="alert-main">
          <div class="alert-title">{i.title}</div>
          <div class="muted small meta">
            {fmtNumber(i.alert_count)} alerts · {i.keys.join(", ")} · last seen {fmtTime(i.last_seen_at)}
            {i.reopened_count > 0 && <> · reopened {i.reopened_count}×</>}
          </div>
        </div>
        <span class={`status-pill ${i.status}`}>{i.status}</span>
        <button type="button" aria-expanded={props.expanded} aria-label={`${props.expanded ? "Hide" : "Details"}: incident ${i.title}`} onClick={props.onToggle}>
          {props.expanded ? "Hide" : "Details"}
        </button>
      </div>
      {props.expanded && <IncidentDetails ctx={props.ctx} id={i.id} onChanged={props.onChanged} />}
    </li>
  );
}

function IncidentDetails({ ctx, id, onChanged }: { ctx: Ctx; id: string; onChanged: () => void }) {
  const res = useGet(`${SEC}/incidents/{incident_id}`, { path: { connector_id: ctx.connectorId, incident_id: id } });
  const [note, setNote] = useState("");
  const { error, run } = useChange(ctx, res, onChanged);
  const path = { connector_id: ctx.connectorId, incident_id: id };
  return (
    <div class="alert-details" data-testid="incident-details">
      <Async res={res}>
        {(d) => (
          <>
            <h3>Alerts ({fmtNumber(d.alerts.length)})</h3>
            <ul class="plain" data-testid="incident-alerts">
              {d.alerts.map((a) => (
                <li key={a.id}>
                  <Badge text={a.severity} /> <code>{a.rule_id}</code> {a.title} · {a.status}
                </li>
              ))}
            </ul>
            <h3>History</h3>
            <ol class="plain" data-testid="incident-history">
              {d.history.map((e, n) => (
                <li key={n}>
                  {fmtTime(e.at)} · <strong>{humanize(e.kind)}</strong>
                  {e.actor_email ? ` by ${e.actor_email}` : ""}
                  {e.note ? `: ${e.note}` : ""}
                </li>
              ))}
            </ol>
            {ctx.isAdmin && d.status !== "resolved" && (
              <form class="resolve" aria-label="Handle the incident" onSubmit={(e) => e.preventDefault()}>
                {d.status === "open" && (
                  <button type="button" onClick={() => run(() => api.put(`${SEC}/incidents/{incident_id}/acknowledge`, { path, body: {} }))}>
                    Acknowledge incident
                  </button>
                )}
                <label for={`inc-note-${id}`}>Resolution note (required)</label>
                <textarea id={`inc-note-${id}`} rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
                <button type="button" class="primary" disabled={!note.trim()} onClick={() => run(() => api.put(`${SEC}/incidents/{incident_id}/resolve`, { path, body: { note } }))}>
                  Resolve incident and its alerts
                </button>
              </form>
            )}
          </>
        )}
      </Async>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

const VERDICT_KIND: Record<string, string> = { ready: "ok", at_risk: "warnish", blocked: "bad" };

/** Every user's readiness for the end of single-factor password sign-ins, with the fix. */
export function Posture({ ctx }: { ctx: Ctx }) {
  const [verdict, setVerdict] = useParam("posture");
  const res = useGet(`${SEC}/authentication-posture`, {
    path: { connector_id: ctx.connectorId },
    query: { verdict: (verdict || undefined) as PostureUser["verdict"] | undefined, limit: 500 },
  });
  return (
    <Section
      title="Authentication posture"
      id="auth-posture"
      res={res}
      note="Snowflake refuses single-factor password sign-ins since October 2026. Sign-in methods are the last 90 days'."
    >
      <Async res={res}>
        {(p) => (
          <div data-testid="auth-posture">
            <div class="cards">
              <Card label="Blocked" value={fmtNumber(p.counts.blocked)} tone={p.counts.blocked ? "bad" : "good"} testid="posture-blocked" />
              <Card label="At risk" value={fmtNumber(p.counts.at_risk)} tone={p.counts.at_risk ? "warn" : "good"} testid="posture-at-risk" />
              <Card label="Ready" value={fmtNumber(p.counts.ready)} tone="good" testid="posture-ready" />
            </div>
            <Table
              id="posture"
              label="Users and their authentication readiness"
              rows={p.users}
              total={p.total > p.users.length ? p.total : undefined}
              rowKey={(u) => u.user_name}
              pageSize={15}
              defaultSort="verdict"
              emptyText="No users match."
              filters={
                <form class="filters" aria-label="Posture filters" onSubmit={(e) => e.preventDefault()}>
                  <Select
                    label="Verdict"
                    name="verdict"
                    value={verdict}
                    options={["blocked", "at_risk", "ready"].map((v) => ({ value: v, label: humanize(v) }))}
                    onChange={setVerdict}
                    all
                  />
                </form>
              }
              cols={[
                { id: "verdict", label: "Verdict", value: (u) => ({ blocked: 0, at_risk: 1, ready: 2 })[u.verdict], render: (u) => <Badge text={humanize(u.verdict)} kind={VERDICT_KIND[u.verdict]} /> },
                { id: "user", label: "User", value: (u) => u.user_name },
                { id: "type", label: "Type", value: (u) => u.type ?? "(unset)" },
                {
                  id: "creds",
                  label: "Credentials",
                  value: (u) =>
                    [u.has_password && "password", u.has_mfa && "MFA", u.has_rsa_public_key && "key pair", u.has_pat && "PAT", u.has_workload_identity && "workload identity"]
                      .filter(Boolean)
                      .join(", ") || "none",
                },
                { id: "methods", label: "Sign-ins (90 d)", value: (u) => u.sign_in_methods.map((m) => `${m.method} ×${m.logins}`).join(", ") || "none" },
                {
                  id: "fix",
                  label: "Why, and the fix",
                  value: (u) => u.reasons.join("; "),
                  render: (u) => (
                    <>
                      {u.reasons.join("; ")}
                      {u.fix_sql && <CodeBlock code={u.fix_sql} label={`Fix for ${u.user_name}`} />}
                    </>
                  ),
                },
              ]}
            />
          </div>
        )}
      </Async>
    </Section>
  );
}
