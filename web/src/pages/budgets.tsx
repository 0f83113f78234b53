// Budget guardrails: list with progress against thresholds, the selected budget in the URL
// (/connectors/{id}/budgets/{budget}), create/edit with every error next to its field, history chart,
// alerts with delivery status.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type Schemas } from "../api";
import type { Ctx } from "../app";
import { BudgetBar, LineChart } from "../charts";
import { Async, Badge, FieldError, RangePicker, Section, Table, useGet } from "../components";
import { fmtCredits, fmtMoney, fmtNumber, fmtPercent, fmtTime, parseEmails, rangeFrom, type DateRange } from "../format";
import { fieldErrors as formErrors, type Errors, type FormWords } from "../forms";
import { connectorHref, navigate, useQuery } from "../router";

type Budget = Schemas["BudgetOut"];
type Threshold = Schemas["Threshold-Output"];
const PERIODS = ["daily", "weekly", "monthly", "quarterly", "yearly"] as const;
const B = "/api/connectors/{connector_id}/budgets";

interface ThresholdIn {
  type: "percent" | "absolute";
  value: string;
  basis: "actual" | "forecast";
}

function amountText(b: Budget, v: number | null | undefined): string {
  return b.amount_unit === "currency" ? fmtMoney(v, b.currency) : fmtCredits(v);
}

function thresholdText(t: Threshold, b: Budget): string {
  const value = t.type === "absolute" ? amountText(b, t.value) : `${fmtNumber(t.value)}%`;
  return `${value}${t.basis === "forecast" ? " (forecast)" : ""}`;
}

/** Threshold positions as percent of the amount, for the progress bar markers. */
function thresholdPercents(b: Budget): number[] {
  return b.thresholds.map((t) => (t.type === "absolute" ? (b.amount ? (t.value / b.amount) * 100 : NaN) : t.value)).filter((x) => Number.isFinite(x));
}

export function BudgetsPage({ ctx, budgetId }: { ctx: Ctx; budgetId?: string }) {
  const [params] = useQuery();
  const range = rangeFrom(params, ctx.connector.timezone);
  const res = useGet(B, { path: { connector_id: ctx.connectorId }, query: { limit: 200 } });
  const [editing, setEditing] = useState<Budget | "new" | null>(null);
  const rows = res.data?.items ?? [];
  const base = connectorHref(ctx.connectorId, "budgets");
  const open = (id: string | null) => navigate(`${base}${id ? `/${encodeURIComponent(id)}` : ""}${location.search}`);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Budget guardrails</h1>
        {ctx.isAdmin && editing === null && (
          <button type="button" class="primary" onClick={() => setEditing("new")}>
            New budget
          </button>
        )}
      </div>
      <p class="notice" role="note">
        <strong>Alerts only.</strong> snowwatch never suspends, resizes or otherwise changes your warehouses or any
        other object in Snowflake: a budget sends email and Slack alerts when spend or its forecast crosses a threshold.
      </p>
      {editing !== null && (
        <BudgetForm
          ctx={ctx}
          budget={editing === "new" ? undefined : editing}
          onCancel={() => setEditing(null)}
          onSaved={(b) => {
            setEditing(null);
            res.reload(); // budgets are not cached: the list reads back at once
            open(b.id);
          }}
        />
      )}
      <RangePicker range={range} zone={`${ctx.connector.timezone} (the connector's time zone)`} />
      <Section title="Budgets" id="budgets-list" res={res}>
        <Async res={res}>
          {(p) => (
            <Table
              id="budgets"
              label="Budgets"
              rows={rows}
              total={p.total}
              rowKey={(b) => b.id}
              defaultSort="name"
              search={(b) => [b.name, b.period, b.scope_type, b.query_tag, ...b.warehouses]}
              searchHint="name, period, scope or warehouse"
              emptyText={ctx.isAdmin ? "No budgets yet. Create one to get alerts." : "No budgets yet."}
              cols={[
                { id: "name", label: "Name", value: (b) => b.name },
                { id: "period", label: "Period", value: (b) => b.period },
                { id: "used", label: "Spent", num: true, value: (b) => b.status?.percent },
                { id: "forecast", label: "Forecast", num: true, value: (b) => b.status?.forecast_percent },
                { id: "amount", label: "Amount", num: true, value: (b) => b.amount },
              ]}
              renderRows={(shown) => (
                <ul class="budget-list" aria-label="Budgets">
                  {shown.map((b) => (
                    <BudgetItem
                      key={b.id}
                      b={b}
                      ctx={ctx}
                      range={range}
                      open={b.id === budgetId}
                      onToggle={() => open(b.id === budgetId ? null : b.id)}
                      onEdit={() => setEditing(b)}
                      onDeleted={res.reload}
                    />
                  ))}
                </ul>
              )}
            />
          )}
        </Async>
        {budgetId && res.data && !rows.some((b) => b.id === budgetId) && (
          <p class="state error" role="alert">
            This budget does not exist on this connector (it may have been deleted).
          </p>
        )}
      </Section>
    </div>
  );
}

function BudgetItem(props: { b: Budget; ctx: Ctx; range: DateRange; open: boolean; onToggle: () => void; onEdit: () => void; onDeleted: () => void }) {
  const { b, ctx } = props;
  const status = b.status;
  useEffect(() => {
    if (props.open) document.querySelector(`[data-budget-id="${b.id}"]`)?.scrollIntoView({ block: "start" });
  }, [props.open]);
  return (
    <li class={`budget${props.open ? " selected" : ""}`} data-budget-id={b.id} data-budget-name={b.name} aria-current={props.open ? "true" : undefined}>
      <div class="budget-head">
        <div>
          <h3 class="budget-name">{b.name}</h3>
          <div class="muted small">
            {b.period} · {amountText(b, b.amount)} ·{" "}
            {b.scope_type === "warehouses" ? `warehouses: ${b.warehouses.join(", ")}` : b.scope_type === "query_tag" ? `query tag: ${b.query_tag}` : "whole account"}
            {!b.active && (
              <>
                {" "}
                · <Badge text="inactive" kind="muted" />
              </>
            )}
          </div>
        </div>
        <div class="budget-actions">
          <button type="button" aria-expanded={props.open} aria-controls={`budget-${b.id}-more`} aria-label={`${props.open ? "Hide history" : "History & alerts"}: ${b.name}`} onClick={props.onToggle}>
            {props.open ? "Hide history" : "History & alerts"}
          </button>
          {ctx.isAdmin && (
            <>
              <button type="button" onClick={props.onEdit} aria-label={`Edit: ${b.name}`}>
                Edit
              </button>
              <button
                type="button"
                class="danger"
                aria-label={`Delete: ${b.name}`}
                onClick={async () => {
                  if (!confirm(`Delete budget “${b.name}”?`)) return;
                  try {
                    await api.del(`${B}/{budget_id}`, { path: { connector_id: ctx.connectorId, budget_id: b.id } });
                    props.onDeleted();
                  } catch (e) {
                    alert((e as ApiError).message);
                  }
                }}
              >
                Delete
              </button>
            </>
          )}
        </div>
      </div>
      <BudgetBar percent={status?.percent} thresholds={thresholdPercents(b)} label={`Spend of budget ${b.name}`} />
      <div class="small budget-figures">
        {status ? (
          <>
            Spent {amountText(b, status.spend)} ({fmtPercent(status.percent, 1)}) · forecast {amountText(b, status.forecast)} ({fmtPercent(status.forecast_percent, 0)}) · period{" "}
            {status.period_start} – {status.period_end} ({ctx.connector.timezone} days)
          </>
        ) : (
          "No spend computed yet for this period."
        )}
      </div>
      <div class="small">
        Thresholds:{" "}
        {b.thresholds.length
          ? b.thresholds
              .slice()
              .sort((x, y) => x.basis.localeCompare(y.basis) || x.value - y.value)
              .map((t) => thresholdText(t, b))
              .join(", ")
          : "none"}
        {" · "}Email: {b.alert_emails.length ? b.alert_emails.join(", ") : <em>the organization's admins</em>}
        {" · "}Slack: {b.slack ? `${b.slack.kind}${b.slack.channel ? ` ${b.slack.channel}` : ""}` : "none"}
      </div>
      {props.open && (
        <div id={`budget-${b.id}-more`} class="budget-more">
          <BudgetHistory ctx={ctx} b={b} range={props.range} />
          <BudgetAlerts ctx={ctx} b={b} />
        </div>
      )}
    </li>
  );
}

function BudgetHistory({ ctx, b, range }: { ctx: Ctx; b: Budget; range: DateRange }) {
  const res = useGet(`${B}/{budget_id}/history`, {
    path: { connector_id: ctx.connectorId, budget_id: b.id },
    query: { start: range.start, end: range.end },
  });
  const rows = (res.data ?? []).slice().sort((x, y) => x.snapshot_date.localeCompare(y.snapshot_date));
  const unit = b.amount_unit === "currency" ? b.currency : "credits";
  return (
    <div>
      <h4>History</h4>
      <Async res={res} empty={() => rows.length === 0} emptyText="No daily snapshots in this range (written at 00:00).">
        {() => (
          <LineChart
            xs={rows.map((r) => r.snapshot_date)}
            series={[
              { name: "spend", values: rows.map((r) => r.spend) },
              { name: "forecast", values: rows.map((r) => r.forecast ?? 0) },
            ]}
            refs={[{ value: b.amount, label: "budget" }]}
            label={`Spend history of ${b.name}`}
            unit={`${unit} per period to date, by day (${ctx.connector.timezone})`}
          />
        )}
      </Async>
    </div>
  );
}

function BudgetAlerts({ ctx, b }: { ctx: Ctx; b: Budget }) {
  const res = useGet(`${B}/{budget_id}/alerts`, { path: { connector_id: ctx.connectorId, budget_id: b.id }, query: { limit: 200 } });
  return (
    <div>
      <h4>Alerts</h4>
      <Async res={res}>
        {(p) => (
          <Table
            id={`balerts-${b.id.slice(0, 8)}`}
            label={`Alerts of ${b.name}`}
            rows={p.items}
            total={p.total}
            rowKey={(r) => r.id}
            pageSize={10}
            defaultSort="-fired"
            emptyText="No alerts fired."
            cols={[
              { id: "fired", label: "Fired (UTC)", value: (r) => r.fired_at, render: (r) => fmtTime(r.fired_at) },
              { id: "threshold", label: "Threshold", value: (r) => thresholdText(r.threshold, b) },
              { id: "kind", label: "On", value: (r) => r.kind },
              { id: "percent", label: "Spend", num: true, value: (r) => r.percent, render: (r) => fmtPercent(r.percent, 1) },
              {
                id: "delivery",
                label: "Delivery",
                value: (r) => r.deliveries.map((d) => `${d.channel}: ${d.status}`).join("; "),
                render: (r) =>
                  r.deliveries.length ? (
                    <ul class="deliveries">
                      {r.deliveries.map((x) => (
                        <li key={x.id}>
                          {x.channel}: <Badge text={x.status} />
                          {x.status === "failed" && x.last_error ? <span class="small"> {x.last_error}</span> : null}
                          {x.attempts > 1 ? <span class="small"> ({x.attempts} attempts)</span> : null}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    "—"
                  ),
              },
            ]}
          />
        )}
      </Async>
    </div>
  );
}

// ---------------------------------------------------------------- the form

const FIELD_NAMES: Record<string, string> = {
  name: "Name",
  period: "Period",
  amount: "Amount",
  amount_unit: "Unit",
  scope_type: "Scope",
  warehouses: "Warehouses",
  query_tag: "Query tag",
  thresholds: "Thresholds",
  alert_emails: "Alert emails",
  slack: "Slack",
  active: "Active",
};

const WORDS: FormWords = { noun: "budget", labels: FIELD_NAMES };

/** Field errors of the budget form, keyed by field ("name", "thresholds.1", "alert_emails", "slack"…). */
export function fieldErrors(details: unknown): Errors {
  return formErrors(details, WORDS);
}

/** Where an error key is shown, in words ("Threshold 2", "Name"). */
export function fieldLabel(key: string): string {
  const m = /^thresholds\.(\d+)$/.exec(key);
  return m ? `Threshold ${Number(m[1]) + 1}` : (FIELD_NAMES[key] ?? "The budget");
}

function BudgetForm({ ctx, budget, onCancel, onSaved }: { ctx: Ctx; budget?: Budget; onCancel: () => void; onSaved: (b: Budget) => void }) {
  const editing = !!budget;
  const [name, setName] = useState(budget?.name ?? "");
  const [period, setPeriod] = useState<string>(budget?.period ?? "monthly");
  const [amount, setAmount] = useState(budget ? String(budget.amount) : "");
  const [unit, setUnit] = useState<string>(budget?.amount_unit ?? "credits");
  const [scope, setScope] = useState<string>(budget?.scope_type ?? "account");
  const [warehouses, setWarehouses] = useState((budget?.warehouses ?? []).join(", "));
  const [tag, setTag] = useState(budget?.query_tag ?? "");
  const [thresholds, setThresholds] = useState<ThresholdIn[]>(
    budget
      ? budget.thresholds.map((t) => ({ type: t.type as ThresholdIn["type"], value: String(t.value), basis: t.basis as ThresholdIn["basis"] }))
      : [
          { type: "percent", value: "80", basis: "actual" },
          { type: "percent", value: "100", basis: "forecast" },
        ],
  );
  const [emails, setEmails] = useState((budget?.alert_emails ?? []).join(", "));
  const hadSlack = !!budget?.slack;
  const [slackMode, setSlackMode] = useState(hadSlack ? "keep" : "none");
  const [channel, setChannel] = useState("");
  const [secret, setSecret] = useState("");
  const [active, setActive] = useState(budget?.active !== false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | undefined>();
  const inv = (k: string) => (errors[k] ? { "aria-invalid": true as const, "aria-describedby": `f-${k.replace(".", "-")}-err` } : {});
  const err = (k: string) => <FieldError id={`f-${k.replace(".", "-")}`} text={errors[k]} />;
  const setRow = (i: number, patch: Partial<ThresholdIn>) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, ...patch } : x)));

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Errors = {};
    const parsed = parseEmails(emails);
    if (!name.trim()) errs.name = "Give the budget a name.";
    if (parsed.invalid.length) errs.alert_emails = `Not an email address: ${parsed.invalid.join(", ")}.`;
    const amt = Number(amount);
    if (!(amt > 0)) errs.amount = "Must be a positive number.";
    const seen = new Set<string>();
    thresholds.forEach((t, i) => {
      const n = Number(t.value);
      if (!(n > 0)) errs[`thresholds.${i}`] = "Needs a positive value.";
      const k = `${t.type}:${n}:${t.basis}`;
      if (seen.has(k)) errs[`thresholds.${i}`] = "Repeats an earlier threshold.";
      seen.add(k);
    });
    setErrors(errs);
    setFormError(undefined);
    if (Object.keys(errs).length) return;
    const body: Schemas["BudgetIn"] = {
      name: name.trim(),
      period: period as Schemas["BudgetIn"]["period"],
      amount: amt,
      amount_unit: unit as Schemas["BudgetIn"]["amount_unit"],
      scope_type: scope as Schemas["BudgetIn"]["scope_type"],
      warehouses: scope === "warehouses" ? warehouses.split(/[\s,]+/).filter(Boolean) : [],
      query_tag: scope === "query_tag" ? tag.trim() : null,
      thresholds: thresholds.map((t) => ({ type: t.type, value: Number(t.value), basis: t.basis })),
      alert_emails: parsed.emails,
      active,
    };
    if (slackMode === "webhook") body.slack = { webhook_url: secret.trim() };
    else if (slackMode === "bot") body.slack = { channel: channel.trim(), bot_token: secret.trim() };
    else if (slackMode === "none") body.slack = null;
    // "keep": no slack key, the stored target stays.
    setBusy(true);
    try {
      const a = editing
        ? await api.put(`${B}/{budget_id}`, { path: { connector_id: ctx.connectorId, budget_id: budget!.id }, body })
        : await api.post(B, { path: { connector_id: ctx.connectorId }, body });
      onSaved(a.data);
    } catch (x) {
      const ae = x as ApiError;
      const fe = fieldErrors(ae.details);
      setErrors(fe);
      setFormError(Object.keys(fe).length ? undefined : ae.message);
    } finally {
      setBusy(false);
    }
  };
  const listed = Object.entries(errors);

  return (
    <Section title={editing ? `Edit budget “${budget!.name}”` : "New budget"} id="budget-form">
      <form class="form" onSubmit={submit} aria-label={editing ? "Edit budget" : "New budget"} noValidate>
        <div class="form-grid">
          <label>
            Name
            <input name="name" required maxLength={100} value={name} {...inv("name")} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            {err("name")}
          </label>
          <label>
            Period
            <select name="period" value={period} {...inv("period")} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}>
              {PERIODS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            {err("period")}
          </label>
          <label>
            Amount
            <input name="amount" type="number" min="0" step="any" required value={amount} {...inv("amount")} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
            {err("amount")}
          </label>
          <label>
            Unit
            <select name="amount_unit" value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
              <option value="credits">credits</option>
              <option value="currency">{ctx.connector.currency}</option>
            </select>
          </label>
          <label>
            Scope
            <select name="scope_type" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value)}>
              <option value="account">Whole account</option>
              <option value="warehouses">Warehouses</option>
              <option value="query_tag">Query tag</option>
            </select>
            {err("scope_type")}
          </label>
          {scope === "warehouses" && (
            <label>
              Warehouses (comma-separated)
              <input name="warehouses" required value={warehouses} {...inv("warehouses")} onInput={(e) => setWarehouses((e.target as HTMLInputElement).value)} />
              {err("warehouses")}
            </label>
          )}
          {scope === "query_tag" && (
            <label>
              Query tag
              <input name="query_tag" required value={tag} {...inv("query_tag")} onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
              {err("query_tag")}
            </label>
          )}
        </div>

        <fieldset>
          <legend>Thresholds (up to 10)</legend>
          {err("thresholds")}
          {thresholds.map((t, i) => {
            const k = `thresholds.${i}`;
            return (
              <div class={`threshold-row${errors[k] ? " invalid" : ""}`} key={i} role="group" aria-labelledby={`th-${i}`} data-threshold={i + 1}>
                <span id={`th-${i}`} class="row-name">
                  Threshold {i + 1}
                </span>
                <label>
                  <span class="sr-only">Threshold {i + 1} value</span>
                  <input type="number" min="0" step="any" name={`threshold-${i}-value`} value={t.value} {...inv(k)} onInput={(e) => setRow(i, { value: (e.target as HTMLInputElement).value })} />
                </label>
                <label>
                  <span class="sr-only">Threshold {i + 1} kind</span>
                  <select name={`threshold-${i}-type`} value={t.type} onChange={(e) => setRow(i, { type: (e.target as HTMLSelectElement).value as ThresholdIn["type"] })}>
                    <option value="percent">% of amount</option>
                    <option value="absolute">{unit === "currency" ? ctx.connector.currency : "credits"} (absolute)</option>
                  </select>
                </label>
                <label>
                  <span class="sr-only">Threshold {i + 1} basis</span>
                  <select name={`threshold-${i}-basis`} value={t.basis} onChange={(e) => setRow(i, { basis: (e.target as HTMLSelectElement).value as ThresholdIn["basis"] })}>
                    <option value="actual">of actual spend</option>
                    <option value="forecast">of forecast to period end</option>
                  </select>
                </label>
                <button type="button" class="link" aria-label={`Remove threshold ${i + 1}`} onClick={() => setThresholds(thresholds.filter((_, j) => j !== i))}>
                  Remove
                </button>
                {err(k)}
              </div>
            );
          })}
          {thresholds.length < 10 && (
            <button type="button" onClick={() => setThresholds([...thresholds, { type: "percent", value: "", basis: "actual" }])}>
              Add threshold
            </button>
          )}
        </fieldset>

        <label>
          Alert emails
          <textarea
            name="alert_emails"
            rows={2}
            placeholder="finops@example.com, lead@example.com"
            value={emails}
            {...inv("alert_emails")}
            aria-describedby={errors.alert_emails ? "f-alert_emails-err emails-help" : "emails-help"}
            onInput={(e) => setEmails((e.target as HTMLTextAreaElement).value)}
          />
          {err("alert_emails")}
        </label>
        <p id="emails-help" class="muted small">
          Comma or space separated. Leave empty to send alerts to the organization's admins.
        </p>

        <fieldset>
          <legend>Slack</legend>
          {err("slack")}
          <label>
            Slack target
            <select name="slack_mode" value={slackMode} onChange={(e) => setSlackMode((e.target as HTMLSelectElement).value)}>
              {hadSlack && <option value="keep">Keep the current target ({budget!.slack!.kind})</option>}
              <option value="none">No Slack</option>
              <option value="webhook">Incoming webhook</option>
              <option value="bot">Bot token and channel</option>
            </select>
          </label>
          {slackMode === "bot" && (
            <label>
              Channel
              <input name="slack_channel" placeholder="#finops" value={channel} onInput={(e) => setChannel((e.target as HTMLInputElement).value)} />
            </label>
          )}
          {(slackMode === "bot" || slackMode === "webhook") && (
            <label>
              {slackMode === "bot" ? "Bot token" : "Webhook URL"}
              <input name="slack_secret" type="password" autoComplete="off" value={secret} aria-describedby="slack-help" onInput={(e) => setSecret((e.target as HTMLInputElement).value)} />
            </label>
          )}
          <p id="slack-help" class="muted small">
            Stored in the secret store; never shown again.
          </p>
        </fieldset>

        <label class="check">
          <input type="checkbox" name="active" checked={active} onChange={(e) => setActive((e.target as HTMLInputElement).checked)} /> Active
        </label>

        {(listed.length > 0 || formError) && (
          <div class="state error" role="alert" data-testid="form-errors">
            {formError ?? "Fix the marked fields:"}
            {listed.length > 0 && (
              <ul>
                {listed.map(([k, v]) => (
                  <li key={k}>
                    {fieldLabel(k)}: {v}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Saving…" : editing ? "Save budget" : "Create budget"}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}
