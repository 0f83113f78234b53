// Budget guardrails: list with progress against thresholds, create/edit, history chart, alerts with delivery.
import { useState } from "preact/hooks";
import { ApiError, api, paths, type Page } from "../api";
import type { Ctx } from "../app";
import { BudgetBar, LineChart } from "../charts";
import { Async, Badge, DataTable, Section, useGet } from "../components";
import { fmtCredits, fmtDate, fmtMoney, fmtNumber, fmtPercent, isoDaysAgo, itemsOf, parseEmails, pick, pickNum, type Row } from "../format";

const PERIODS = ["daily", "weekly", "monthly", "quarterly", "yearly"];

interface ThresholdIn {
  type: "percent" | "absolute";
  value: string;
  basis: "actual" | "forecast";
}

function amountText(b: Row, v: unknown): string {
  return b.amount_unit === "currency" ? fmtMoney(v, String(b.currency ?? "USD")) : fmtCredits(v);
}

function thresholdText(t: Row, b: Row): string {
  const value = t.type === "absolute" ? amountText(b, t.value) : `${fmtNumber(t.value)}%`;
  return `${value}${t.basis === "forecast" ? " (forecast)" : ""}`;
}

/** Threshold positions as percent of the amount, for the progress bar markers. */
function thresholdPercents(b: Row): number[] {
  const amount = pickNum(b, "amount") ?? 0;
  return itemsOf<Row>(b.thresholds)
    .map((t) => (t.type === "absolute" ? (amount ? ((pickNum(t, "value") ?? 0) / amount) * 100 : NaN) : pickNum(t, "value") ?? NaN))
    .filter((x) => Number.isFinite(x));
}

export function BudgetsPage({ ctx }: { ctx: Ctx }) {
  const res = useGet<Page<Row>>(paths.budgets(ctx.connectorId), { limit: 200 });
  const [editing, setEditing] = useState<Row | "new" | null>(null);
  const rows = itemsOf<Row>(res.data);
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
          onSaved={() => {
            setEditing(null);
            res.reload(); // budgets are not cached: the list reads back at once
          }}
        />
      )}
      <Section title="Budgets" id="budgets-list">
        <Async res={res} empty={() => rows.length === 0} emptyText={ctx.isAdmin ? "No budgets yet. Create one to get alerts." : "No budgets yet."}>
          {() => (
            <ul class="budget-list" aria-label="Budgets">
              {rows.map((b) => (
                <BudgetItem key={String(b.id)} b={b} ctx={ctx} onEdit={() => setEditing(b)} onDeleted={res.reload} />
              ))}
            </ul>
          )}
        </Async>
      </Section>
    </div>
  );
}

function BudgetItem({ b, ctx, onEdit, onDeleted }: { b: Row; ctx: Ctx; onEdit: () => void; onDeleted: () => void }) {
  const [open, setOpen] = useState(false);
  const status = pick<Row>(b, "status");
  const percent = pickNum(status, "percent");
  const fpercent = pickNum(status, "forecast_percent");
  const emails = itemsOf<string>(b.alert_emails);
  const slack = pick<Row>(b, "slack");
  const id = String(b.id);
  return (
    <li class="budget" data-budget-id={id} data-budget-name={String(b.name)}>
      <div class="budget-head">
        <div>
          <h3 class="budget-name">{String(b.name)}</h3>
          <div class="muted small">
            {String(b.period ?? "")} · {amountText(b, b.amount)} ·{" "}
            {b.scope_type === "warehouses"
              ? `warehouses: ${itemsOf<string>(b.warehouses).join(", ")}`
              : b.scope_type === "query_tag"
                ? `query tag: ${String(b.query_tag)}`
                : "whole account"}
            {b.active === false && <> · <Badge text="inactive" kind="muted" /></>}
          </div>
        </div>
        <div class="budget-actions">
          <button type="button" aria-expanded={open} aria-controls={`budget-${id}-more`} onClick={() => setOpen(!open)}>
            {open ? "Hide history" : "History & alerts"}
          </button>
          {ctx.isAdmin && (
            <>
              <button type="button" onClick={onEdit}>
                Edit
              </button>
              <button
                type="button"
                class="danger"
                onClick={async () => {
                  if (!confirm(`Delete budget “${String(b.name)}”?`)) return;
                  try {
                    await api.del(paths.budget(ctx.connectorId, id));
                    onDeleted();
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
      <BudgetBar percent={percent} thresholds={thresholdPercents(b)} label={`Spend of budget ${String(b.name)}`} />
      <div class="muted small budget-figures">
        {status ? (
          <>
            Spent {amountText(b, status.spend)} ({fmtPercent(percent, 1)}) · forecast {amountText(b, status.forecast)} (
            {fmtPercent(fpercent, 0)}) · period {fmtDate(status.period_start)} – {fmtDate(status.period_end)}
          </>
        ) : (
          "No spend computed yet for this period."
        )}
      </div>
      <div class="small">
        Thresholds:{" "}
        {itemsOf<Row>(b.thresholds).length
          ? itemsOf<Row>(b.thresholds)
              .slice()
              .sort((x, y) => String(x.basis).localeCompare(String(y.basis)) || (pickNum(x, "value") ?? 0) - (pickNum(y, "value") ?? 0))
              .map((t) => thresholdText(t, b))
              .join(", ")
          : "none"}
        {" · "}Email: {emails.length ? emails.join(", ") : <em>the organization's admins</em>}
        {" · "}Slack: {slack ? `${String(slack.kind)}${slack.channel ? ` ${String(slack.channel)}` : ""}` : "none"}
      </div>
      {open && (
        <div id={`budget-${id}-more`} class="budget-more">
          <BudgetHistory ctx={ctx} b={b} />
          <BudgetAlerts ctx={ctx} b={b} />
        </div>
      )}
    </li>
  );
}

function BudgetHistory({ ctx, b }: { ctx: Ctx; b: Row }) {
  const res = useGet<unknown>(`${paths.budget(ctx.connectorId, String(b.id))}/history`, { start: isoDaysAgo(90), end: isoDaysAgo(0) });
  const rows = itemsOf<Row>(res.data).slice().sort((x, y) => String(x.snapshot_date).localeCompare(String(y.snapshot_date)));
  return (
    <div>
      <h4>History</h4>
      <Async res={res} empty={() => rows.length === 0} emptyText="No daily snapshots yet (written at 00:00).">
        {() => (
          <LineChart
            xs={rows.map((r) => String(r.snapshot_date))}
            series={[
              { name: "spend", values: rows.map((r) => pickNum(r, "spend") ?? 0) },
              { name: "forecast", values: rows.map((r) => pickNum(r, "forecast") ?? 0) },
            ]}
            refs={[{ value: pickNum(b, "amount") ?? 0, label: "budget" }]}
            label={`Spend history of ${String(b.name)}`}
            unit={b.amount_unit === "currency" ? String(b.currency ?? "") : "credits"}
          />
        )}
      </Async>
    </div>
  );
}

function BudgetAlerts({ ctx, b }: { ctx: Ctx; b: Row }) {
  const res = useGet<Page<Row>>(`${paths.budget(ctx.connectorId, String(b.id))}/alerts`, { limit: 50 });
  const rows = itemsOf<Row>(res.data);
  return (
    <div>
      <h4>Alerts</h4>
      <Async res={res} empty={() => rows.length === 0} emptyText="No alerts fired.">
        {() => (
          <DataTable
            rows={rows}
            caption={`Alerts of ${String(b.name)}`}
            columns={[
              { key: "fired_at", label: "Fired", render: (r) => fmtDate(r.fired_at) },
              { key: "threshold", label: "Threshold", render: (r) => thresholdText((r.threshold as Row) ?? {}, b) },
              { key: "kind", label: "On" },
              { key: "percent", label: "Spend", num: true, render: (r) => fmtPercent(r.percent, 1) },
              {
                key: "deliveries",
                label: "Delivery",
                render: (r) => {
                  const d = itemsOf<Row>(r.deliveries);
                  if (!d.length) return "—";
                  return (
                    <ul class="deliveries">
                      {d.map((x) => (
                        <li key={String(x.id)}>
                          {String(x.channel)}: <Badge text={String(x.status)} />
                          {x.status === "failed" && x.last_error ? <span class="muted small"> {String(x.last_error)}</span> : null}
                          {Number(x.attempts) > 1 ? <span class="muted small"> ({String(x.attempts)} attempts)</span> : null}
                        </li>
                      ))}
                    </ul>
                  );
                },
              },
            ]}
          />
        )}
      </Async>
    </div>
  );
}

/** Field errors from a 422 answer's details, keyed by the last path element (best effort). */
function fieldErrors(e: ApiError): string[] {
  const d = e.details;
  if (Array.isArray(d)) {
    return d.map((x) => {
      const loc = pick<unknown[]>(x, "loc");
      const where = Array.isArray(loc) ? loc.filter((p) => p !== "body").join(".") : "";
      return `${where ? `${where}: ` : ""}${String(pick(x, "msg", "message") ?? JSON.stringify(x))}`;
    });
  }
  return [];
}

function BudgetForm({ ctx, budget, onCancel, onSaved }: { ctx: Ctx; budget?: Row; onCancel: () => void; onSaved: () => void }) {
  const editing = !!budget;
  const [name, setName] = useState(String(budget?.name ?? ""));
  const [period, setPeriod] = useState(String(budget?.period ?? "monthly"));
  const [amount, setAmount] = useState(budget?.amount !== undefined ? String(budget.amount) : "");
  const [unit, setUnit] = useState(String(budget?.amount_unit ?? "credits"));
  const [scope, setScope] = useState(String(budget?.scope_type ?? "account"));
  const [warehouses, setWarehouses] = useState(itemsOf<string>(budget?.warehouses).join(", "));
  const [tag, setTag] = useState(String(budget?.query_tag ?? ""));
  const [thresholds, setThresholds] = useState<ThresholdIn[]>(
    budget
      ? itemsOf<Row>(budget.thresholds).map((t) => ({ type: t.type as ThresholdIn["type"], value: String(t.value), basis: t.basis as ThresholdIn["basis"] }))
      : [
          { type: "percent", value: "80", basis: "actual" },
          { type: "percent", value: "100", basis: "forecast" },
        ],
  );
  const [emails, setEmails] = useState(itemsOf<string>(budget?.alert_emails).join(", "));
  const hadSlack = !!budget?.slack;
  const [slackMode, setSlackMode] = useState(hadSlack ? "keep" : "none");
  const [channel, setChannel] = useState("");
  const [secret, setSecret] = useState("");
  const [active, setActive] = useState(budget?.active !== false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: string[] = [];
    const parsed = parseEmails(emails);
    if (parsed.invalid.length) errs.push(`Not an email address: ${parsed.invalid.join(", ")}`);
    const amt = Number(amount);
    if (!(amt > 0)) errs.push("Amount must be a positive number.");
    const ths = thresholds.map((t) => ({ ...t, num: Number(t.value) }));
    if (ths.some((t) => !(t.num > 0))) errs.push("Each threshold needs a positive value.");
    const keys = ths.map((t) => `${t.type}:${t.num}:${t.basis}`);
    if (new Set(keys).size !== keys.length) errs.push("Thresholds must be unique.");
    if (errs.length) {
      setErrors(errs);
      return;
    }
    const body: Record<string, unknown> = {
      name: name.trim(),
      period,
      amount: amt,
      amount_unit: unit,
      scope_type: scope,
      warehouses: scope === "warehouses" ? warehouses.split(/[\s,]+/).filter(Boolean) : [],
      query_tag: scope === "query_tag" ? tag.trim() : null,
      thresholds: ths.map((t) => ({ type: t.type, value: t.num, basis: t.basis })),
      alert_emails: parsed.emails,
      active,
    };
    if (slackMode === "webhook") body.slack = { webhook_url: secret.trim() };
    else if (slackMode === "bot") body.slack = { channel: channel.trim(), bot_token: secret.trim() };
    else if (slackMode === "none") body.slack = null;
    // "keep": omit slack, the stored target stays.
    setBusy(true);
    setErrors([]);
    try {
      if (editing) await api.put(paths.budget(ctx.connectorId, String(budget!.id)), body);
      else await api.post(paths.budgets(ctx.connectorId), body);
      onSaved();
    } catch (err) {
      const ae = err as ApiError;
      setErrors([ae.message, ...fieldErrors(ae)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title={editing ? `Edit budget “${String(budget!.name)}”` : "New budget"} id="budget-form">
      <form class="form" onSubmit={submit} aria-label={editing ? "Edit budget" : "New budget"} noValidate>
        <div class="form-grid">
          <label>
            Name
            <input name="name" required maxLength={100} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Period
            <select name="period" value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}>
              {PERIODS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            Amount
            <input name="amount" type="number" min="0" step="any" required value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Unit
            <select name="amount_unit" value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
              <option value="credits">credits</option>
              <option value="currency">{ctx.currency}</option>
            </select>
          </label>
          <label>
            Scope
            <select name="scope_type" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value)}>
              <option value="account">Whole account</option>
              <option value="warehouses">Warehouses</option>
              <option value="query_tag">Query tag</option>
            </select>
          </label>
          {scope === "warehouses" && (
            <label>
              Warehouses (comma-separated)
              <input name="warehouses" required value={warehouses} onInput={(e) => setWarehouses((e.target as HTMLInputElement).value)} />
            </label>
          )}
          {scope === "query_tag" && (
            <label>
              Query tag
              <input name="query_tag" required value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
            </label>
          )}
        </div>

        <fieldset>
          <legend>Thresholds (up to 10)</legend>
          {thresholds.map((t, i) => (
            <div class="threshold-row" key={i}>
              <label>
                <span class="sr-only">Threshold {i + 1} value</span>
                <input
                  type="number"
                  min="0"
                  step="any"
                  name={`threshold-${i}-value`}
                  value={t.value}
                  onInput={(e) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, value: (e.target as HTMLInputElement).value } : x)))}
                />
              </label>
              <label>
                <span class="sr-only">Threshold {i + 1} kind</span>
                <select
                  name={`threshold-${i}-type`}
                  value={t.type}
                  onChange={(e) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, type: (e.target as HTMLSelectElement).value as ThresholdIn["type"] } : x)))}
                >
                  <option value="percent">% of amount</option>
                  <option value="absolute">{unit === "currency" ? ctx.currency : "credits"} (absolute)</option>
                </select>
              </label>
              <label>
                <span class="sr-only">Threshold {i + 1} basis</span>
                <select
                  name={`threshold-${i}-basis`}
                  value={t.basis}
                  onChange={(e) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, basis: (e.target as HTMLSelectElement).value as ThresholdIn["basis"] } : x)))}
                >
                  <option value="actual">of actual spend</option>
                  <option value="forecast">of forecast to period end</option>
                </select>
              </label>
              <button type="button" class="link" aria-label={`Remove threshold ${i + 1}`} onClick={() => setThresholds(thresholds.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
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
            aria-describedby="emails-help"
            onInput={(e) => setEmails((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <p id="emails-help" class="muted small">
          Comma or space separated. Leave empty to send alerts to the organization's admins.
        </p>

        <fieldset>
          <legend>Slack</legend>
          <label>
            Slack target
            <select name="slack_mode" value={slackMode} onChange={(e) => setSlackMode((e.target as HTMLSelectElement).value)}>
              {hadSlack && <option value="keep">Keep the current target ({String((budget!.slack as Row).kind)})</option>}
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
              <input
                name="slack_secret"
                type="password"
                autoComplete="off"
                value={secret}
                aria-describedby="slack-help"
                onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
              />
            </label>
          )}
          <p id="slack-help" class="muted small">
            Stored in the secret store; never shown again.
          </p>
        </fieldset>

        <label class="check">
          <input type="checkbox" name="active" checked={active} onChange={(e) => setActive((e.target as HTMLInputElement).checked)} /> Active
        </label>

        {errors.length > 0 && (
          <div class="state error" role="alert">
            <ul>
              {errors.map((x) => (
                <li key={x}>{x}</li>
              ))}
            </ul>
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

