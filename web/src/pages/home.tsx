// Org home: every connector of the organization at a glance (GET /api/org/overview): spend and forecast this month,
// budgets, security score, open critical/high alerts and sync freshness, with org-wide totals. Amounts are never
// summed across currencies: one total per currency when connectors differ.
import type { Schemas } from "../api";
import { Async, Badge, Card, Section, Table, useGet } from "../components";
import { fmtCredits, fmtMoney, fmtNumber, fmtTime } from "../format";
import { connectorHref, onLinkClick } from "../router";

export function HomePage({ connectors }: { connectors: Schemas["ConnectorOut"][] }) {
  const res = useGet("/api/org/overview", { query: { limit: 500 } });
  return (
    <div class="page">
      <div class="page-head">
        <h1>Your Snowflake accounts</h1>
      </div>
      <Section title="This month, every connector" id="home-overview" res={res}>
        <Async res={res} empty={(o) => o.totals.connectors === 0} emptyText="No Snowflake connector yet. An admin adds one with POST /api/connectors.">
          {(o) => <Overview o={o} />}
        </Async>
      </Section>
      {connectors.length === 0 && <p class="muted small">No connector yet.</p>}
    </div>
  );
}

function amounts(t: Schemas["OrgTotals"], forecast: boolean) {
  return t.by_currency.map((c) => fmtMoney(forecast ? c.forecast_amount : c.month_to_date_amount, c.currency)).join(" + ");
}

function Overview({ o }: { o: Schemas["OrgOverview"] }) {
  const t = o.totals;
  return (
    <>
      <div class="cards" data-testid="org-totals">
        <Card
          label={`Credits used, ${o.month} to date`}
          testid="org-total"
          value={<span data-credits={t.month_to_date_credits}>{fmtCredits(t.month_to_date_credits)}</span>}
          hint={t.currency ? fmtMoney(t.month_to_date_amount, t.currency) : `${amounts(t, false)} (one total per currency)`}
        />
        <Card label="Month-end forecast" value={fmtCredits(t.forecast_credits)} hint={t.currency ? fmtMoney(t.forecast_amount, t.currency) : amounts(t, true)} />
        <Card label="Budgets over" value={`${fmtNumber(t.budgets.over)} of ${fmtNumber(t.budgets.active)}`} hint={`${fmtNumber(t.budgets.forecast_over)} forecast over`} tone={t.budgets.over ? "bad" : ""} />
        <Card label="Open critical / high alerts" value={`${fmtNumber(t.open_alerts.critical)} / ${fmtNumber(t.open_alerts.high)}`} tone={t.open_alerts.critical ? "bad" : ""} />
        <Card label="Connectors" value={fmtNumber(t.connectors)} hint={t.never_synced ? `${fmtNumber(t.never_synced)} not synced yet` : "all synced"} />
      </div>
      <p class="muted small">Forecast: {o.method}</p>
      <Table
        id="connectors"
        label="Connectors"
        rows={o.page.items}
        total={o.page.total}
        rowKey={(c) => c.connector_id}
        defaultSort="name"
        search={(c) => [c.name]}
        searchHint="connector name"
        cols={[
          {
            id: "name",
            label: "Connector",
            value: (c) => c.name,
            render: (c) => (
              <a href={connectorHref(c.connector_id, "cost")} onClick={onLinkClick}>
                {c.name}
              </a>
            ),
          },
          {
            id: "mtd",
            label: "Credits this month",
            num: true,
            value: (c) => c.month_to_date_credits,
            render: (c) => <span data-credits={c.month_to_date_credits}>{c.sync.status === "never" ? "not synced yet" : fmtCredits(c.month_to_date_credits)}</span>,
          },
          { id: "amount", label: "Cost this month", num: true, value: (c) => c.month_to_date_amount, render: (c) => fmtMoney(c.month_to_date_amount, c.currency) },
          { id: "forecast", label: "Forecast", num: true, value: (c) => c.forecast_credits, render: (c) => fmtCredits(c.forecast_credits) },
          {
            id: "budgets",
            label: "Budgets",
            value: (c) => c.budgets.over,
            render: (c) => (c.budgets.active ? <Badge text={c.budgets.over ? `${c.budgets.over} over` : "on track"} kind={c.budgets.over ? "high" : "ok"} /> : "none"),
          },
          { id: "score", label: "Security score", num: true, value: (c) => c.security_score ?? -1, render: (c) => (c.security_score === null || c.security_score === undefined ? "not checked" : fmtNumber(c.security_score)) },
          { id: "alerts", label: "Critical / high", num: true, value: (c) => c.open_alerts.critical * 1000 + c.open_alerts.high, render: (c) => `${c.open_alerts.critical} / ${c.open_alerts.high}` },
          {
            id: "sync",
            label: "Last sync",
            value: (c) => c.sync.last_sync_at ?? "",
            render: (c) => (c.sync.last_sync_at ? fmtTime(c.sync.last_sync_at) : <Badge text="never" kind="muted" />),
          },
          {
            id: "pages",
            label: "Open",
            sortable: false,
            value: () => "",
            render: (c) => (
              <span class="links">
                <a href={connectorHref(c.connector_id, "security")} onClick={onLinkClick} aria-label={`Security of ${c.name}`}>
                  Security
                </a>{" "}
                ·{" "}
                <a href={connectorHref(c.connector_id, "budgets")} onClick={onLinkClick} aria-label={`Budgets of ${c.name}`}>
                  Budgets
                </a>
              </span>
            ),
          },
        ]}
      />
    </>
  );
}
