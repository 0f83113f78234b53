// Cost: month-to-date overview with forecast and change, daily spend by warehouse or service type,
// warehouses with idle cost, storage, waste findings with savings, top queries and users.
import { useState } from "preact/hooks";
import { paths } from "../api";
import type { Ctx } from "../app";
import { LineChart, StackedBars } from "../charts";
import { Async, Card, DataTable, Empty, Pager, Section, useGet } from "../components";
import {
  fmtBytes,
  fmtChange,
  fmtCredits,
  fmtDate,
  fmtMoney,
  fmtNumber,
  fmtPercent,
  isoDaysAgo,
  itemsOf,
  pick,
  pickNum,
  toSeries,
  type Row,
} from "../format";

export function CostPage({ ctx }: { ctx: Ctx }) {
  const [days, setDays] = useState(30);
  const range = { start: isoDaysAgo(days), end: isoDaysAgo(0) };
  return (
    <div class="page">
      <div class="page-head">
        <h1>Cost</h1>
        <label>
          Range{" "}
          <select name="range" value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
          </select>
        </label>
      </div>
      <Overview ctx={ctx} />
      <Daily ctx={ctx} range={range} />
      <Warehouses ctx={ctx} range={range} />
      <Waste ctx={ctx} range={range} />
      <Storage ctx={ctx} range={range} />
      <div class="grid-2">
        <TopQueries ctx={ctx} range={range} />
        <TopUsers ctx={ctx} range={range} />
      </div>
    </div>
  );
}

type Range = { start: string; end: string };

function money(ctx: Ctx, row: unknown, ...names: string[]): string {
  const v = pickNum(row, ...names);
  return v === undefined ? "" : fmtMoney(v, String(pick(row, "currency") ?? ctx.currency));
}

function Overview({ ctx }: { ctx: Ctx }) {
  const res = useGet<Row>(paths.cost(ctx.connectorId, "overview"), { period: "mtd" });
  const fc = useGet<Row>(paths.cost(ctx.connectorId, "forecast"));
  return (
    <Section title="Month to date" id="cost-overview" cache={res.cache}>
      {res.error && fc.data && <ForecastOnly ctx={ctx} fc={fc.data} />}
      <Async res={res}>
        {(o) => {
          const credits = pickNum(o, "credits", "total_credits", "totals.credits", "current.credits", "mtd_credits");
          const cost = pickNum(o, "amount", "cost", "total_cost", "totals.cost", "totals.amount", "current.cost", "mtd_cost");
          const change = pickNum(o, "change_pct", "change_percent", "change.percent", "change.pct", "change");
          const prevCredits = pickNum(o, "previous_credits", "previous.credits", "change.previous_credits");
          const forecast = pick<Row>(o, "forecast") ?? pick<Row>(fc.data, "month") ?? fc.data;
          const fCredits = pickNum(forecast, "month_end_credits", "forecast_credits", "credits", "projected_credits");
          const fCost = pickNum(forecast, "forecast_amount", "month_end_cost", "forecast_cost", "cost", "amount", "projected_cost");
          const currencyNote = pick<string>(o, "money.currency_source", "currency_note", "currency_source");
          const price = pickNum(o, "money.credit_price");
          const services = itemsOf<Row>(pick(o, "by_service_type", "by_service", "services"));
          const top = itemsOf<Row>(pick(o, "top_warehouses", "warehouses"));
          return (
            <>
              <div class="cards" data-testid="cost-overview">
                <Card label="Credits, month to date" value={fmtCredits(credits)} hint={cost !== undefined ? fmtMoney(cost, ctx.currency) : undefined} />
                <Card
                  label="Change vs previous period"
                  value={fmtChange(change)}
                  tone={change === undefined ? "" : change > 20 ? "bad" : change < 0 ? "good" : ""}
                  hint={prevCredits !== undefined ? `previous: ${fmtCredits(prevCredits)}` : undefined}
                />
                <Card
                  label="Month-end forecast"
                  value={fmtCredits(fCredits)}
                  hint={fCost !== undefined ? fmtMoney(fCost, ctx.currency) : pick<string>(forecast, "method")}
                />
              </div>
              {currencyNote && (
                <p class="muted small" data-testid="pricing">
                  {currencyNote === "organization_usage"
                    ? "Amounts in currency from your organization's usage in currency."
                    : `Credits only from Snowflake; amounts use the connector's configured price${price !== undefined ? ` (${fmtMoney(price, ctx.currency)} per credit)` : ""}.`}
                </p>
              )}
              <div class="grid-2 tight">
                <div>
                  <h3>By service type</h3>
                  {services.length ? (
                    <DataTable
                      rows={services}
                      caption="Credits by service type"
                      columns={[
                        { key: "key|service_type|name", label: "Service" },
                        { key: "credits", num: true, render: (r) => fmtCredits(pick(r, "credits")) },
                        { key: "cost|amount", label: "Cost", num: true, render: (r) => money(ctx, r, "cost", "amount") },
                      ]}
                    />
                  ) : (
                    <Empty>No service breakdown.</Empty>
                  )}
                </div>
                <div>
                  <h3>Top warehouses</h3>
                  {top.length ? (
                    <DataTable
                      rows={top.slice(0, 8)}
                      caption="Top warehouses by credits"
                      columns={[
                        { key: "key|warehouse_name|name", label: "Warehouse" },
                        { key: "credits", num: true, render: (r) => fmtCredits(pick(r, "credits")) },
                        { key: "cost|amount", label: "Cost", num: true, render: (r) => money(ctx, r, "cost", "amount") },
                      ]}
                    />
                  ) : (
                    <Empty>No warehouse spend.</Empty>
                  )}
                </div>
              </div>
            </>
          );
        }}
      </Async>
    </Section>
  );
}

/** When the overview cannot be read, the forecast endpoint still gives month to date and month end. */
function ForecastOnly({ ctx, fc }: { ctx: Ctx; fc: Row }) {
  const m = pick<Row>(fc, "month") ?? fc;
  return (
    <div class="cards" data-testid="cost-forecast-only">
      <Card label="Credits, month to date" value={fmtCredits(pick(m, "month_to_date_credits"))} />
      <Card
        label="Month-end forecast"
        value={fmtCredits(pick(m, "forecast_credits"))}
        hint={pickNum(m, "forecast_amount") !== undefined ? fmtMoney(pick(m, "forecast_amount"), ctx.currency) : undefined}
      />
      <Card label="Daily run rate" value={fmtCredits(pick(fc, "daily_run_rate_credits"))} />
    </div>
  );
}

function Daily({ ctx, range }: { ctx: Ctx; range: Range }) {
  const [groupBy, setGroupBy] = useState("warehouse");
  const res = useGet<unknown>(paths.cost(ctx.connectorId, "daily"), { ...range, group_by: groupBy });
  const rows = itemsOf<Row>(res.data, "days", "rows", "series");
  const { xs, series } = toSeries(
    rows,
    ["day", "date", "usage_date"],
    ["key", "group", "warehouse_name", "warehouse", "service_type", "name"],
    ["credits", "credits_used", "value"],
  );
  return (
    <Section
      title="Daily spend"
      id="cost-daily"
      cache={res.cache}
      actions={
        <label>
          Group by{" "}
          <select name="group_by" value={groupBy} onChange={(e) => setGroupBy((e.target as HTMLSelectElement).value)}>
            <option value="warehouse">Warehouse</option>
            <option value="service_type">Service type</option>
          </select>
        </label>
      }
    >
      <Async res={res} empty={() => xs.length === 0} emptyText="No spend in this range yet.">
        {() => <StackedBars xs={xs} series={series} label={`Daily credits by ${groupBy.replace("_", " ")}`} unit="credits" />}
      </Async>
      <Anomalies ctx={ctx} range={range} />
    </Section>
  );
}

/** Days far outside the robust baseline of the previous 28 days (GET cost/anomalies). */
function Anomalies({ ctx, range }: { ctx: Ctx; range: Range }) {
  const res = useGet<Row>(paths.cost(ctx.connectorId, "anomalies"), range);
  const rows = itemsOf<Row>(res.data);
  if (res.error || (!res.loading && !rows.length)) return null; // optional extra: stay quiet
  return (
    <div>
      <h3>Unusual days</h3>
      <Async res={res}>
        {(d) => (
          <>
            <DataTable
              rows={rows}
              caption="Days with unusual spend"
              rowKey={(r, i) => String(pick(r, "day") ?? i)}
              columns={[
                { key: "day", label: "Day" },
                { key: "credits", num: true, render: (r) => fmtCredits(pick(r, "credits")) },
                { key: "baseline_median", label: "Usual (median)", num: true, render: (r) => fmtCredits(pick(r, "baseline_median")) },
                { key: "direction", label: "Direction" },
                { key: "score", label: "Score", num: true, render: (r) => fmtNumber(pick(r, "score"), 1) },
                { key: "amount", label: "Cost", num: true, render: (r) => money(ctx, r, "amount") },
              ]}
            />
            {pick(d, "method") !== undefined && <p class="muted small">{String(pick(d, "method"))}</p>}
          </>
        )}
      </Async>
    </div>
  );
}

function Warehouses({ ctx, range }: { ctx: Ctx; range: Range }) {
  const [offset, setOffset] = useState(0);
  const res = useGet<Row>(paths.cost(ctx.connectorId, "warehouses"), { ...range, limit: 20, offset });
  const rows = itemsOf<Row>(res.data, "page.items");
  return (
    <Section title="Warehouses and idle cost" id="cost-warehouses" cache={res.cache}>
      <p class="muted small">Idle cost = compute credits minus the credits attributed to queries.</p>
      <Async res={res} empty={() => rows.length === 0} emptyText="No warehouses yet.">
        {(p) => (
          <>
            <DataTable
              rows={rows}
              caption="Warehouses with credits and idle cost"
              rowKey={(r, i) => String(pick(r, "warehouse_name", "name") ?? i)}
              columns={[
                { key: "warehouse_name|warehouse|name", label: "Warehouse" },
                { key: "size|warehouse_size", label: "Size", render: (r) => String(pick(r, "size", "warehouse_size", "config.size") ?? "—") },
                { key: "credits", num: true, render: (r) => fmtCredits(pick(r, "credits", "compute_credits")) },
                { key: "idle_credits", label: "Idle credits", num: true, render: (r) => fmtCredits(pick(r, "idle_credits")) },
                {
                  key: "idle_share|idle_pct|idle_percent",
                  label: "Idle share",
                  num: true,
                  render: (r) => {
                    const share = pickNum(r, "idle_pct", "idle_percent");
                    const frac = pickNum(r, "idle_share");
                    return fmtPercent(share ?? (frac !== undefined ? frac * 100 : undefined));
                  },
                },
                { key: "idle_amount|idle_cost", label: "Idle cost", num: true, render: (r) => money(ctx, r, "idle_amount", "idle_cost") },
                { key: "utilisation|utilization", label: "Avg running load", num: true, render: (r) => fmtNumber(pick(r, "utilisation", "utilization"), 2) },
                { key: "avg_queued_load", label: "Avg queued load", num: true, render: (r) => fmtNumber(pick(r, "avg_queued_load"), 2) },
                { key: "resource_monitor", label: "Resource monitor" },
                { key: "auto_suspend", label: "Auto-suspend (s)", num: true, render: (r) => fmtNumber(pick(r, "auto_suspend", "config.auto_suspend")) },
              ]}
            />
            <Pager total={pickNum(p, "page.total", "total") ?? rows.length} limit={20} offset={offset} onChange={setOffset} label="Warehouses" />
          </>
        )}
      </Async>
    </Section>
  );
}

function Storage({ ctx, range }: { ctx: Ctx; range: Range }) {
  const res = useGet<Row>(paths.cost(ctx.connectorId, "storage"), { ...range, limit: 20 });
  const trend = itemsOf<Row>(pick(res.data, "trend", "account", "daily", "account_trend"));
  const dbs = itemsOf<Row>(pick(res.data, "databases", "by_database"));
  const tables = itemsOf<Row>(pick(res.data, "tables.items", "tables", "top_tables"));
  const xs = trend.map((r) => String(pick(r, "day", "date", "usage_date") ?? "").slice(0, 10));
  const tb = (r: Row, ...k: string[]) => (pickNum(r, ...k) ?? 0) / 1024 ** 4;
  return (
    <Section title="Storage" id="cost-storage" cache={res.cache}>
      <Async res={res} empty={() => !trend.length && !dbs.length && !tables.length} emptyText="No storage data yet.">
        {(s) => (
          <>
            {pickNum(s, "monthly_amount", "monthly_cost") !== undefined && (
              <p>
                Storage cost per month: <strong>{money(ctx, s, "monthly_amount", "monthly_cost")}</strong>
              </p>
            )}
            {trend.length > 0 && (
              <LineChart
                xs={xs}
                series={[
                  { name: "storage", values: trend.map((r) => tb(r, "storage_bytes", "average_bytes", "bytes")) },
                  { name: "stage", values: trend.map((r) => tb(r, "stage_bytes")) },
                  { name: "fail-safe", values: trend.map((r) => tb(r, "failsafe_bytes")) },
                ].filter((x) => x.values.some((v) => v > 0))}
                label="Account storage over time"
                unit="TB"
              />
            )}
            <div class="grid-2 tight">
              <div>
                <h3>Databases</h3>
                {dbs.length ? (
                  <DataTable
                    rows={dbs}
                    caption="Storage by database"
                    columns={[
                      { key: "database_name|name", label: "Database" },
                      { key: "bytes|average_database_bytes|database_bytes", label: "Size", num: true, render: (r) => fmtBytes(pick(r, "bytes", "average_database_bytes", "database_bytes")) },
                      { key: "failsafe_bytes|average_failsafe_bytes", label: "Fail-safe", num: true, render: (r) => fmtBytes(pick(r, "failsafe_bytes", "average_failsafe_bytes")) },
                      { key: "monthly_amount|monthly_cost", label: "Cost / month", num: true, render: (r) => money(ctx, r, "monthly_amount", "monthly_cost") },
                    ]}
                  />
                ) : (
                  <Empty>No databases.</Empty>
                )}
              </div>
              <div>
                <h3>Largest tables</h3>
                {tables.length ? (
                  <DataTable
                    rows={tables.slice(0, 10)}
                    caption="Largest tables"
                    columns={[
                      { key: "table|table_name", label: "Table", render: (r) => String(pick(r, "table") ?? [pick(r, "table_catalog"), pick(r, "table_schema"), pick(r, "table_name")].filter(Boolean).join(".")) },
                      { key: "active_bytes", label: "Active", num: true, render: (r) => fmtBytes(pick(r, "active_bytes")) },
                      { key: "time_travel_bytes", label: "Time travel", num: true, render: (r) => fmtBytes(pick(r, "time_travel_bytes")) },
                      { key: "failsafe_bytes", label: "Fail-safe", num: true, render: (r) => fmtBytes(pick(r, "failsafe_bytes")) },
                      { key: "monthly_amount", label: "Cost / month", num: true, render: (r) => money(ctx, r, "monthly_amount") },
                      { key: "last_read_at", label: "Last read", render: (r) => fmtDate(pick(r, "last_read_at")) },
                    ]}
                  />
                ) : (
                  <Empty>No tables.</Empty>
                )}
              </div>
            </div>
          </>
        )}
      </Async>
    </Section>
  );
}

function Waste({ ctx, range }: { ctx: Ctx; range: Range }) {
  const res = useGet<unknown>(paths.cost(ctx.connectorId, "waste"), range);
  const rows = itemsOf<Row>(res.data, "findings");
  const total =
    pickNum(res.data, "total_estimated_monthly_savings", "total_monthly_savings") ??
    rows.reduce((s, r) => s + (pickNum(r, "estimated_monthly_savings", "monthly_savings", "savings") ?? 0), 0);
  return (
    <Section title="Waste findings" id="cost-waste" cache={res.cache}>
      <Async res={res} empty={() => rows.length === 0} emptyText="No waste found. Nice.">
        {() => (
          <>
            <p>
              Estimated savings: <strong data-testid="waste-savings">{fmtMoney(total, ctx.currency)}</strong> per month
              (estimates; snowwatch changes nothing in your account).
            </p>
            <ul class="findings">
              {rows.map((f, i) => (
                <li key={String(pick(f, "id", "fingerprint") ?? i)} class="finding">
                  <div class="finding-head">
                    <span class="badge">{String(pick(f, "kind", "rule", "type", "category") ?? "finding").replace(/_/g, " ")}</span>
                    <strong>{String(pick(f, "title", "summary", "message") ?? pick(f, "subject", "warehouse_name") ?? "")}</strong>
                    <span class="savings">{money(ctx, f, "estimated_monthly_savings", "monthly_savings", "savings") || "—"} / month</span>
                  </div>
                  {pick(f, "recommendation", "remediation", "detail", "description") !== undefined && (
                    <p class="small">{String(pick(f, "recommendation", "remediation", "detail", "description"))}</p>
                  )}
                  {pick(f, "evidence") !== undefined && (
                    <details>
                      <summary>Evidence</summary>
                      <pre>{JSON.stringify(pick(f, "evidence"), null, 2)}</pre>
                    </details>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </Async>
    </Section>
  );
}

function TopQueries({ ctx, range }: { ctx: Ctx; range: Range }) {
  const [groupBy, setGroupBy] = useState("query");
  const res = useGet<Row>(paths.cost(ctx.connectorId, "queries"), { ...range, group_by: groupBy, limit: 10 });
  const rows = itemsOf<Row>(res.data, "page.items");
  return (
    <Section
      title="Top queries"
      id="cost-queries"
      cache={res.cache}
      actions={
        <label>
          Show{" "}
          <select name="query_group_by" value={groupBy} onChange={(e) => setGroupBy((e.target as HTMLSelectElement).value)}>
            <option value="query">Single queries</option>
            <option value="parameterized_hash">By parameterized hash</option>
          </select>
        </label>
      }
    >
      <Async res={res} empty={() => rows.length === 0} emptyText="No queries in this range.">
        {() => (
          <DataTable
            rows={rows}
            caption="Top queries by cost"
            rowKey={(r, i) => String(pick(r, "key", "query_id") ?? i)}
            columns={[
              {
                key: "query_text|key",
                label: "Query",
                render: (r) => (
                  <code class="clip" title={String(pick(r, "query_text") ?? "")}>
                    {String(pick(r, "query_text", "key") ?? "").slice(0, 90)}
                  </code>
                ),
              },
              { key: "user_name", label: "User" },
              { key: "warehouse_name", label: "Warehouse" },
              { key: "queries|query_count", label: "Runs", num: true },
              { key: "credits|credits_attributed_compute", label: "Credits", num: true, render: (r) => fmtCredits(pick(r, "credits", "credits_attributed_compute")) },
              { key: "amount|cost", label: "Cost", num: true, render: (r) => money(ctx, r, "amount", "cost") },
              { key: "cost_method", label: "Method" },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}

function TopUsers({ ctx, range }: { ctx: Ctx; range: Range }) {
  const [groupBy, setGroupBy] = useState("user");
  const res = useGet<Row>(paths.cost(ctx.connectorId, "users"), { ...range, group_by: groupBy, limit: 10 });
  const rows = itemsOf<Row>(res.data, "page.items");
  return (
    <Section
      title="Top users and roles"
      id="cost-users"
      cache={res.cache}
      actions={
        <label>
          Group by{" "}
          <select name="user_group_by" value={groupBy} onChange={(e) => setGroupBy((e.target as HTMLSelectElement).value)}>
            <option value="user">User</option>
            <option value="role">Role</option>
          </select>
        </label>
      }
    >
      <Async res={res} empty={() => rows.length === 0} emptyText="No usage in this range.">
        {() => (
          <DataTable
            rows={rows}
            caption={`Cost by ${groupBy}`}
            columns={[
              { key: groupBy === "role" ? "role_name|name" : "user_name|name", label: groupBy === "role" ? "Role" : "User" },
              { key: "queries|query_count", label: "Queries", num: true },
              { key: "credits", label: "Credits", num: true, render: (r) => fmtCredits(pick(r, "credits")) },
              { key: "cost|amount", label: "Cost", num: true, render: (r) => money(ctx, r, "cost", "amount") },
              { key: "last_query_at", label: "Last query", render: (r) => fmtDate(pick(r, "last_query_at")) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}
