// Cost: month to date with forecast, daily spend, warehouses with idle cost, waste, storage, top queries
// and users. One date range (in the URL, in the connector's time zone) drives every ranged block.
import type { Schemas } from "../api";
import type { Ctx } from "../app";
import { LineChart, StackedBars } from "../charts";
import { Async, Card, CodeBlock, RangePicker, Section, Table, useGet } from "../components";
import { fmtBytes, fmtChange, fmtCredits, fmtMoney, fmtNumber, fmtPercent, fmtTime, rangeFrom, toSeries, type DateRange } from "../format";
import { useParam, useQuery } from "../router";

const C = "/api/connectors/{connector_id}/cost";

export function CostPage({ ctx }: { ctx: Ctx }) {
  const [params] = useQuery();
  const tz = ctx.connector.timezone;
  const range = rangeFrom(params, tz);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Cost</h1>
      </div>
      <RangePicker range={range} zone={`${tz} (the connector's time zone)`} />
      <Waste ctx={ctx} range={range} />
      <SavingsMade ctx={ctx} />
      <Overview ctx={ctx} range={range} />
      <Daily ctx={ctx} range={range} />
      <Warehouses ctx={ctx} range={range} />
      <Storage ctx={ctx} range={range} />
      <TopQueries ctx={ctx} range={range} />
      <TopUsers ctx={ctx} range={range} />
    </div>
  );
}

type Q = { start: string; end: string };
const q = (r: DateRange): Q => ({ start: r.start, end: r.end });
const money = (m: Schemas["Money"] | undefined, v: number | null | undefined) => fmtMoney(v, m?.currency ?? "USD");
// A connector whose data has never been read: every figure is unknown, not zero.
const NOT_SYNCED = "Not synced yet: figures appear after the first sync of this connector.";
const never = (d: { sync: Schemas["SyncState"] }) => d.sync.status === "never";

function Overview({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const res = useGet(`${C}/overview`, { path: { connector_id: ctx.connectorId }, query: q(range) });
  return (
    <Section title="Spend in this range" id="cost-overview" res={res} note={`Billed credits from ${range.start} to ${range.end} (${ctx.connector.timezone} days).`}>
      <Async res={res} empty={never} emptyText={NOT_SYNCED}>
        {(o) => (
          <>
            <div class="cards" data-testid="cost-overview">
              <Card
                label="Billed credits"
                testid="cost-headline"
                value={<span data-credits={o.credits_billed}>{fmtCredits(o.credits_billed)}</span>}
                hint={<span data-amount={o.amount}>{money(o.money, o.amount)}</span>}
              />
              <Card
                label="Change vs previous period"
                value={o.previous_complete ? fmtChange(o.change_pct) : "n/a"}
                tone={o.change_pct === null || o.change_pct === undefined ? "" : o.change_pct > 20 ? "bad" : o.change_pct < 0 ? "good" : ""}
                hint={o.previous_complete ? `previous: ${fmtCredits(o.previous_credits)}` : "the previous period has partial data"}
              />
              <Card
                label={`Forecast for ${o.forecast.month}`}
                value={fmtCredits(o.forecast.forecast_credits)}
                hint={`${money(o.money, o.forecast.forecast_amount)} (credits used; ${fmtCredits(o.forecast.month_to_date_credits)} so far)`}
              />
            </div>
            <p class="muted small" data-testid="pricing">
              {o.money.currency_source === "organization_usage"
                ? "Amounts in currency from your organization's usage in currency."
                : `Credits from Snowflake; amounts use the connector's configured price (${fmtMoney(o.money.credit_price, o.money.currency)} per credit).`}{" "}
              Billed = credits used + the daily cloud-services adjustment; the rows below add up to it. Forecast: {o.forecast.method}
            </p>
            <div class="grid-2 tight">
              <AmountTable id="services" label="Billed credits by service type" what="Service" rows={o.by_service_type} money={o.money} />
              <AmountTable id="topwh" label="Top warehouses by billed credits" what="Warehouse" rows={o.top_warehouses} money={o.money} />
            </div>
          </>
        )}
      </Async>
    </Section>
  );
}

function AmountTable(props: { id: string; label: string; what: string; rows: Schemas["Amount"][]; money: Schemas["Money"] }) {
  return (
    <Table
      id={props.id}
      label={props.label}
      rows={props.rows}
      rowKey={(r) => r.key}
      defaultSort="-credits"
      pageSize={10}
      cols={[
        { id: "key", label: props.what, value: (r) => r.key },
        { id: "credits", label: "Credits", num: true, value: (r) => r.credits, render: (r) => fmtCredits(r.credits) },
        { id: "amount", label: `Cost (${props.money.currency})`, num: true, value: (r) => r.amount, render: (r) => <span data-amount={r.amount}>{money(props.money, r.amount)}</span> },
      ]}
    />
  );
}

function Daily({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const [groupBy, setGroupBy] = useParam("daily.by", "warehouse");
  const res = useGet(`${C}/daily`, { path: { connector_id: ctx.connectorId }, query: { ...q(range), group_by: groupBy as "warehouse" | "service_type" } });
  const { xs, series } = toSeries(res.data?.items ?? [], (r) => r.day, (r) => r.key, (r) => r.credits);
  const anomalies = useGet(`${C}/anomalies`, { path: { connector_id: ctx.connectorId }, query: q(range) });
  return (
    <Section
      title="Daily spend"
      id="cost-daily"
      res={[res, anomalies]}
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
      <Async res={res} empty={(d) => never(d) || xs.length === 0} emptyText={res.data && never(res.data) ? NOT_SYNCED : "No spend in this range yet."}>
        {() => <StackedBars xs={xs} series={series} label={`Daily credits by ${groupBy.replace("_", " ")}`} unit={`credits per day (${ctx.connector.timezone} days)`} />}
      </Async>
      {anomalies.data && anomalies.data.items.length > 0 && (
        <>
          <h3>Unusual days</h3>
          <Table
            id="anomalies"
            label="Days with unusual spend"
            rows={anomalies.data.items}
            rowKey={(r) => r.day}
            defaultSort="day"
            pageSize={10}
            cols={[
              { id: "day", label: `Day (${ctx.connector.timezone})`, value: (r) => r.day },
              { id: "credits", label: "Credits", num: true, value: (r) => r.credits, render: (r) => fmtCredits(r.credits) },
              { id: "usual", label: "Usual (median)", num: true, value: (r) => r.baseline_median, render: (r) => fmtCredits(r.baseline_median) },
              { id: "direction", label: "Direction", value: (r) => r.direction },
              { id: "score", label: "Score", num: true, value: (r) => r.score, render: (r) => fmtNumber(r.score, 1) },
              { id: "amount", label: "Cost", num: true, value: (r) => r.amount, render: (r) => money(anomalies.data?.money, r.amount) },
              {
                id: "drivers",
                label: "What drove it",
                value: (r) => r.excess_credits ?? 0,
                render: (r) => (
                  <details>
                    <summary>
                      Drivers<span class="sr-only">: {r.day}</span>
                    </summary>
                    {(["warehouse", "service_type", "user", "query_hash"] as const).map((dim) => (
                      <div key={dim}>
                        <strong>{dim.replace("_", " ")}</strong>
                        <ul class="small">
                          {(r.drivers ?? [])
                            .filter((x) => x.dimension === dim)
                            .map((x) => (
                              <li key={x.key}>
                                <code>{x.key}</code> {fmtCredits(x.credits)} ({fmtPercent(x.share * 100)} of the excess)
                              </li>
                            ))}
                        </ul>
                      </div>
                    ))}
                  </details>
                ),
              },
            ]}
          />
          <p class="muted small">{anomalies.data.method}</p>
        </>
      )}
    </Section>
  );
}

function Warehouses({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const res = useGet(`${C}/warehouses`, { path: { connector_id: ctx.connectorId }, query: { ...q(range), limit: 500 } });
  const [, setDrill] = useParam("queries.wh", "");
  const drill = (name: string) => {
    setDrill(name);
    document.getElementById("cost-queries")?.scrollIntoView();
  };
  return (
    <Section title="Warehouses and idle cost" id="cost-warehouses" res={res} note="Credits used; idle cost = compute credits minus the credits attributed to queries.">
      <Async res={res} empty={never} emptyText={NOT_SYNCED}>
        {(w) => (
          <Table
            id="warehouses"
            label="Warehouses with credits and idle cost"
            rows={w.page.items}
            total={w.page.total}
            rowKey={(r) => r.warehouse_name}
            defaultSort="-credits"
            search={(r) => [r.warehouse_name]}
            searchHint="warehouse"
            emptyText="No warehouses yet."
            cols={[
              {
                id: "warehouse",
                label: "Warehouse",
                value: (r) => r.warehouse_name,
                render: (r) => (
                  <>
                    {r.warehouse_name}{" "}
                    <button type="button" class="small" onClick={() => drill(r.warehouse_name)}>
                      Queries<span class="sr-only"> of {r.warehouse_name}</span>
                    </button>
                  </>
                ),
              },
              { id: "size", label: "Size", value: (r) => r.size ?? "" },
              { id: "credits", label: "Credits", num: true, value: (r) => r.credits, render: (r) => fmtCredits(r.credits) },
              { id: "idle", label: "Idle credits", num: true, value: (r) => r.idle_credits, render: (r) => fmtCredits(r.idle_credits) },
              { id: "idle_share", label: "Idle share", num: true, value: (r) => r.idle_share, render: (r) => fmtPercent(r.idle_share === null ? null : r.idle_share * 100) },
              { id: "idle_amount", label: `Idle cost (${w.money.currency})`, num: true, value: (r) => r.idle_amount, render: (r) => money(w.money, r.idle_amount) },
              { id: "load", label: "Avg running load", num: true, value: (r) => r.utilisation, render: (r) => fmtNumber(r.utilisation, 2) },
              { id: "queued", label: "Avg queued load", num: true, value: (r) => r.avg_queued_load, render: (r) => fmtNumber(r.avg_queued_load, 2) },
              { id: "monitor", label: "Resource monitor", value: (r) => r.resource_monitor ?? "" },
              { id: "suspend", label: "Auto-suspend (s)", num: true, value: (r) => r.auto_suspend, render: (r) => fmtNumber(r.auto_suspend) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}

function Waste({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const res = useGet(`${C}/waste`, { path: { connector_id: ctx.connectorId }, query: q(range) });
  return (
    <Section title="Savings you can act on" id="cost-waste" res={res}>
      <Async res={res} empty={never} emptyText={NOT_SYNCED}>
        {(w) => (
          <>
            <p>
              Estimated savings: <strong data-testid="waste-savings">{money(w.money, w.total_estimated_monthly_savings)}</strong> per month (estimates;
              findings claiming the same credits count once; snowwatch changes nothing in your account: run the SQL yourself).
            </p>
            <Table
              id="waste"
              label="Waste findings"
              rows={w.findings}
              rowKey={(f) => `${f.kind}:${f.subject}`}
              defaultSort="-savings"
              search={(f) => [f.kind, f.title, f.subject]}
              emptyText="No waste found."
              cols={[
                { id: "kind", label: "Kind", value: (f) => f.kind.replace(/_/g, " ") },
                { id: "title", label: "Finding", value: (f) => f.title },
                {
                  id: "recommendation",
                  label: "Recommendation",
                  value: (f) => f.recommendation,
                  render: (f) => (
                    <>
                      {f.recommendation}
                      {f.sql && <CodeBlock code={f.sql} label={`SQL: ${f.title}`} />}
                      {!f.counted && <p class="muted small">{f.state === "open" ? "Counted under another finding with the same credits." : `${f.state}${f.state_reason ? `: ${f.state_reason}` : ""}`}</p>}
                      {(f.queries ?? []).length > 0 && (
                        <details>
                          <summary>
                            Queries<span class="sr-only">: {f.title}</span>
                          </summary>
                          <ul class="small">
                            {(f.queries ?? []).map((q) => (
                              <li key={q.query_id}>
                                <code>{q.query_id}</code> {q.query_parameterized_hash ? <>hash <code>{q.query_parameterized_hash}</code></> : null} {fmtCredits(q.credits)}, {fmtBytes(q.bytes_spilled_to_remote_storage)} spilled, {fmtNumber(q.partitions_scanned)}/{fmtNumber(q.partitions_total)} partitions
                              </li>
                            ))}
                          </ul>
                        </details>
                      )}
                      <details>
                        <summary>
                          Evidence<span class="sr-only">: {f.title}</span>
                        </summary>
                        <pre>{JSON.stringify(f.evidence, null, 2)}</pre>
                      </details>
                    </>
                  ),
                },
                { id: "savings", label: `Savings / month (${w.money.currency})`, num: true, value: (f) => f.estimated_monthly_savings, render: (f) => money(w.money, f.estimated_monthly_savings) },
              ]}
            />
          </>
        )}
      </Async>
    </Section>
  );
}

function SavingsMade({ ctx }: { ctx: Ctx }) {
  const res = useGet(`${C}/savings`, { path: { connector_id: ctx.connectorId } });
  return (
    <Section title="Savings made" id="cost-savings" res={res}>
      <Async res={res} empty={(s) => never(s) || s.findings.length === 0} emptyText={res.data && never(res.data) ? NOT_SYNCED : "No finding resolved yet."}>
        {(s) => (
          <>
            <p>
              Saved so far: <strong data-testid="savings-made">{fmtCredits(s.total.credits)}</strong> ({money(s.money, s.total.amount)}). {s.method}.
            </p>
            <Table
              id="saved"
              label="Credits saved per resolved finding"
              rows={s.findings}
              rowKey={(r) => r.id}
              defaultSort="-saved"
              pageSize={10}
              cols={[
                { id: "finding", label: "Finding", value: (r) => `${r.kind.replace(/_/g, " ")}: ${r.subject}` },
                { id: "resolved", label: "Resolved", value: (r) => r.resolved_at, render: (r) => fmtTime(r.resolved_at) },
                { id: "hours", label: "Hours measured", num: true, value: (r) => r.hours_measured, render: (r) => fmtNumber(r.hours_measured) },
                { id: "saved", label: "Credits saved", num: true, value: (r) => r.credits_saved, render: (r) => fmtCredits(r.credits_saved) },
                { id: "amount", label: `Saved (${s.money.currency})`, num: true, value: (r) => r.amount_saved, render: (r) => money(s.money, r.amount_saved) },
              ]}
            />
          </>
        )}
      </Async>
    </Section>
  );
}

function Storage({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const res = useGet(`${C}/storage`, { path: { connector_id: ctx.connectorId }, query: { ...q(range), limit: 500 } });
  const tb = (n: number) => n / 1024 ** 4;
  return (
    <Section title="Storage" id="cost-storage" res={res}>
      <Async
        res={res}
        empty={(s) => never(s) || (!s.trend.length && !s.databases.length && !s.tables.items.length)}
        emptyText={res.data && never(res.data) ? NOT_SYNCED : "No storage data yet."}
      >
        {(s) => (
          <>
            <p>
              Storage cost per month: <strong>{money(s.money, s.monthly_amount)}</strong> ({fmtMoney(s.storage_price_per_tb, s.money.currency)} per TB)
            </p>
            {s.trend.length > 0 && (
              <LineChart
                xs={s.trend.map((r) => r.day)}
                series={[
                  { name: "storage", values: s.trend.map((r) => tb(r.storage_bytes)) },
                  { name: "stage", values: s.trend.map((r) => tb(r.stage_bytes)) },
                  { name: "fail-safe", values: s.trend.map((r) => tb(r.failsafe_bytes)) },
                ].filter((x) => x.values.some((v) => v > 0))}
                label="Account storage over time"
                unit={`TB (TiB) per day (${ctx.connector.timezone} days)`}
              />
            )}
            <div class="grid-2 tight">
              <Table
                id="databases"
                label="Storage by database"
                rows={s.databases}
                rowKey={(r) => r.database_name}
                defaultSort="-size"
                pageSize={10}
                cols={[
                  { id: "database", label: "Database", value: (r) => r.database_name },
                  { id: "size", label: "Size", num: true, value: (r) => r.database_bytes, render: (r) => fmtBytes(r.database_bytes) },
                  { id: "failsafe", label: "Fail-safe", num: true, value: (r) => r.failsafe_bytes, render: (r) => fmtBytes(r.failsafe_bytes) },
                  { id: "cost", label: `Cost / month (${s.money.currency})`, num: true, value: (r) => r.monthly_amount, render: (r) => money(s.money, r.monthly_amount) },
                ]}
              />
              <Table
                id="tables"
                label="Largest tables"
                rows={s.tables.items}
                total={s.tables.total}
                rowKey={(r) => r.table}
                defaultSort="-total"
                pageSize={10}
                search={(r) => [r.table]}
                cols={[
                  { id: "table", label: "Table", value: (r) => r.table },
                  { id: "total", label: "Total", num: true, value: (r) => r.total_bytes, render: (r) => fmtBytes(r.total_bytes) },
                  { id: "tt", label: "Time travel", num: true, value: (r) => r.time_travel_bytes, render: (r) => fmtBytes(r.time_travel_bytes) },
                  { id: "cost", label: `Cost / month (${s.money.currency})`, num: true, value: (r) => r.monthly_amount, render: (r) => money(s.money, r.monthly_amount) },
                  { id: "read", label: "Last read", value: (r) => r.last_read_at ?? "", render: (r) => fmtTime(r.last_read_at) },
                ]}
              />
            </div>
          </>
        )}
      </Async>
    </Section>
  );
}

function TopQueries({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const [groupBy, setGroupBy] = useParam("queries.by", "query");
  const [warehouse, setWarehouse] = useParam("queries.wh", "");
  const only = groupBy === "query" && warehouse ? { warehouse } : {};
  const res = useGet(`${C}/queries`, {
    path: { connector_id: ctx.connectorId },
    query: { ...q(range), group_by: groupBy as "query" | "parameterized_hash" | "dbt_model" | "query_tag", limit: 200, ...only },
  });
  return (
    <Section
      title={only.warehouse ? `Top queries on ${only.warehouse}` : "Top queries"}
      id="cost-queries"
      res={res}
      actions={
        <label>
          Show{" "}
          <select name="query_group_by" value={groupBy} onChange={(e) => setGroupBy((e.target as HTMLSelectElement).value)}>
            <option value="query">Single queries</option>
            <option value="parameterized_hash">By parameterized hash</option>
            <option value="dbt_model">By dbt model</option>
            <option value="query_tag">By query tag</option>
          </select>
          {only.warehouse && (
            <button type="button" class="small" onClick={() => setWarehouse("")}>
              All warehouses
            </button>
          )}
        </label>
      }
    >
      <Async res={res} empty={never} emptyText={NOT_SYNCED}>
        {(d) => (
          <Table
            id="queries"
            label="Top queries by cost"
            rows={d.page.items}
            total={d.page.total}
            rowKey={(r) => r.key}
            defaultSort="-credits"
            pageSize={10}
            search={(r) => [r.query_text, r.user_name, r.warehouse_name]}
            searchHint="query text, user or warehouse"
            emptyText="No queries in this range."
            cols={[
              {
                id: "query",
                label: "Query",
                value: (r) => r.query_text ?? r.key,
                render: (r) => (
                  <code class="clip" title={r.query_text ?? ""}>
                    {(r.query_text ?? r.key).slice(0, 90)}
                  </code>
                ),
              },
              { id: "user", label: "User", value: (r) => r.user_name ?? "" },
              { id: "warehouse", label: "Warehouse", value: (r) => r.warehouse_name ?? "" },
              { id: "runs", label: "Runs", num: true, value: (r) => r.queries, render: (r) => fmtNumber(r.queries) },
              { id: "credits", label: "Credits", num: true, value: (r) => r.credits, render: (r) => fmtCredits(r.credits) },
              { id: "amount", label: `Cost (${d.money.currency})`, num: true, value: (r) => r.amount, render: (r) => money(d.money, r.amount) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}

function TopUsers({ ctx, range }: { ctx: Ctx; range: DateRange }) {
  const [groupBy, setGroupBy] = useParam("users.by", "user");
  const res = useGet(`${C}/users`, { path: { connector_id: ctx.connectorId }, query: { ...q(range), group_by: groupBy as "user" | "role", limit: 200 } });
  const role = groupBy === "role";
  return (
    <Section
      title="Top users and roles"
      id="cost-users"
      res={res}
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
      <Async res={res} empty={never} emptyText={NOT_SYNCED}>
        {(d) => (
          <Table
            id="users"
            label={`Cost by ${groupBy}`}
            rows={d.page.items}
            total={d.page.total}
            rowKey={(r) => (role ? r.role_name : r.user_name) ?? "(none)"}
            defaultSort="-credits"
            pageSize={10}
            emptyText="No usage in this range."
            cols={[
              { id: "who", label: role ? "Role" : "User", value: (r) => (role ? r.role_name : r.user_name) ?? "" },
              { id: "queries", label: "Queries", num: true, value: (r) => r.queries, render: (r) => fmtNumber(r.queries) },
              { id: "credits", label: "Credits", num: true, value: (r) => r.credits, render: (r) => fmtCredits(r.credits) },
              { id: "amount", label: `Cost (${d.money.currency})`, num: true, value: (r) => r.amount, render: (r) => money(d.money, r.amount) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}
