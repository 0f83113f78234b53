// Org home: every connector of the organization at a glance, with links to its pages.
// (The spend, forecast, budget and security figures per connector come with GET /api/org/overview.)
import type { Schemas } from "../api";
import { Badge, Section, Table } from "../components";
import { fmtTime } from "../format";
import { connectorHref, onLinkClick } from "../router";

export function HomePage({ connectors }: { connectors: Schemas["ConnectorOut"][] }) {
  return (
    <div class="page">
      <div class="page-head">
        <h1>Your Snowflake accounts</h1>
      </div>
      <Section title="Connectors" id="home-connectors">
        <Table
          id="connectors"
          label="Connectors"
          rows={connectors}
          rowKey={(c) => c.id}
          defaultSort="name"
          emptyText="No Snowflake connector yet. An admin adds one with POST /api/connectors."
          cols={[
            {
              id: "name",
              label: "Connector",
              value: (c) => c.name,
              render: (c) => (
                <a href={connectorHref(c.id, "security")} onClick={onLinkClick}>
                  {c.name}
                </a>
              ),
            },
            { id: "account", label: "Account", value: (c) => c.account_identifier },
            { id: "status", label: "Status", value: (c) => c.status, render: (c) => <Badge text={c.status} kind={c.status === "active" ? "ok" : "muted"} /> },
            { id: "last_sync", label: "Last sync", value: (c) => c.last_sync_at ?? "", render: (c) => (c.last_sync_at ? fmtTime(c.last_sync_at) : "never") },
            { id: "timezone", label: "Time zone", value: (c) => c.timezone },
            { id: "currency", label: "Currency", value: (c) => c.currency },
            {
              id: "pages",
              label: "Open",
              sortable: false,
              value: () => "",
              render: (c) => (
                <span class="links">
                  <a href={connectorHref(c.id, "cost")} onClick={onLinkClick} aria-label={`Cost of ${c.name}`}>
                    Cost
                  </a>{" "}
                  ·{" "}
                  <a href={connectorHref(c.id, "budgets")} onClick={onLinkClick} aria-label={`Budgets of ${c.name}`}>
                    Budgets
                  </a>
                </span>
              ),
            },
          ]}
        />
      </Section>
    </div>
  );
}
