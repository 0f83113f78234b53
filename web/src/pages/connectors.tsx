// Connectors: what a connector connects with (/connectors/{id}/connector) and adding one
// (/connectors/new, admins), each beside the Snowflake setup the account's administrator runs first
// (docs/snowflake-setup.md, with the form's names). The private key is write-only: it goes to the API,
// which keeps it in Secrets Manager, and it is never shown again.
import { useState } from "preact/hooks";
import { ApiError, api, type Schemas } from "../api";
import type { Ctx } from "../app";
import { Async, Badge, CodeBlock, FieldError, Section, Table, useGet } from "../components";
import { fmtMoney, fmtTime } from "../format";
import { fieldErrors, type Errors, type FormWords } from "../forms";
import { setupSteps, DEFAULT_NAMES, type SetupNames } from "../setup";

const WORDS: FormWords = {
  noun: "connector",
  labels: {
    name: "Name",
    account_identifier: "Account identifier",
    username: "User",
    role_name: "Role",
    warehouse: "Warehouse",
    private_key: "Private key",
    private_key_passphrase: "Passphrase",
    timezone: "Time zone",
    currency: "Currency",
    credit_price: "Price per credit",
    storage_price_per_tb: "Storage price per TB-month",
    backfill_days: "Backfill days",
  },
};

function SetupGuide({ names }: { names: Partial<SetupNames> }) {
  return (
    <Section
      title="Snowflake setup"
      id="snowflake-setup"
      note={
        <>
          Run in the Snowflake account before adding it (an ACCOUNTADMIN grants the SNOWFLAKE database roles). The role can read
          usage views only: snowwatch never changes your account. Step 5 needs the stack's <code>EgressIps</code> output.
        </>
      }
    >
      {setupSteps(names).map((s) => (
        <div class="setup-step" key={s.title + s.code.length}>
          <h3>{s.title}</h3>
          <CodeBlock code={s.code} label={`step ${s.title}`} lang={s.lang} />
        </div>
      ))}
    </Section>
  );
}

export function ConnectorPage({ ctx }: { ctx: Ctx }) {
  const c = ctx.connector;
  const rows: [string, string][] = [
    ["Account", c.account_identifier],
    ["User", c.username],
    ["Role", c.role_name],
    ["Warehouse", c.warehouse],
    ["Sign-in", c.auth_method === "key_pair" ? "key pair" : "password"],
    ["Time zone (cost days)", c.timezone],
    ["Price", `${fmtMoney(Number(c.credit_price), c.currency)} per credit (${c.currency_source.replace("_", " ")})`],
    ["Backfill", `${c.backfill_days} days`],
    ["Status", c.status],
    ["Last sync", c.last_sync_at ? `${fmtTime(c.last_sync_at)} UTC` : "not synced yet"],
  ];
  return (
    <div class="page">
      <Section title={`How “${c.name}” connects`} id="connector-details">
        <dl class="details">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      </Section>
      <AccessCheck connectorId={c.id} />
      <SetupGuide names={{ role: c.role_name, warehouse: c.warehouse, user: c.username }} />
    </div>
  );
}

/** What the connector's role can read (per view, from the last sync and security runs) and the grant that fixes it. */
function AccessCheck({ connectorId }: { connectorId: string }) {
  const access = useGet("/api/connectors/{connector_id}/access", { path: { connector_id: connectorId } });
  return (
    <Section
      title="What snowwatch can read"
      id="connector-access"
      note="Per view, as the last sync and security runs found it; a run refreshes it."
    >
      <Async res={access}>
        {(a) => (
          <>
            {a.missing_grants.length > 0 && (
              <div class="state bad" role="alert">
                <p>Some views cannot be read. Run as ACCOUNTADMIN:</p>
                <CodeBlock code={a.missing_grants.join("\n")} label="Grants that fix it" />
              </div>
            )}
            <Table
              id="access"
              label="Views snowwatch reads"
              rows={a.views}
              rowKey={(v) => v.view}
              rowClass={(v) => (v.status === "unreadable" ? "row-bad" : "")}
              cols={[
                { id: "view", label: "View", value: (v) => v.view },
                { id: "status", label: "Readable", value: (v) => v.status, render: (v) => <Badge text={v.status} /> },
                { id: "powers", label: "Powers", value: (v) => v.powers },
                { id: "role", label: "Database role", value: (v) => v.database_role },
                {
                  id: "fix",
                  label: "Fix",
                  value: (v) => (v.status === "unreadable" ? v.grant : ""),
                  render: (v) => (v.status === "unreadable" ? <code>{v.grant}</code> : v.reason ?? ""),
                },
              ]}
            />
          </>
        )}
      </Async>
    </Section>
  );
}

export function NewConnectorPage({ isAdmin, onCreated }: { isAdmin: boolean; onCreated: (c: Schemas["ConnectorOut"]) => void }) {
  const [f, setF] = useState<Record<string, string>>({
    name: "",
    account_identifier: "",
    username: DEFAULT_NAMES.user,
    role_name: DEFAULT_NAMES.role,
    warehouse: DEFAULT_NAMES.warehouse,
    private_key: "",
    private_key_passphrase: "",
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    currency: "USD",
    credit_price: "3.00",
    storage_price_per_tb: "23.00",
    backfill_days: "90",
  });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  if (!isAdmin) return <div class="state empty">Only an admin of your organization can add a connector.</div>;

  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const inv = (k: string) => (errors[k] ? { "aria-invalid": true as const, "aria-describedby": `c-${k}-err` } : {});
  const field = (k: string, props: Record<string, unknown> = {}) => (
    <label>
      {WORDS.labels[k]}
      <input name={k} value={f[k]} {...props} {...inv(k)} onInput={set(k)} />
      <FieldError id={`c-${k}`} text={errors[k]} />
    </label>
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!f.name.trim()) errs.name = "Give the connector a name.";
    if (!f.account_identifier.trim()) errs.account_identifier = "Account identifier is required.";
    if (!f.private_key.includes("PRIVATE KEY")) errs.private_key = "Paste the PEM private key (snowwatch_key.p8).";
    setErrors(errs);
    setFormError(undefined);
    if (Object.keys(errs).length) return;
    const body: Schemas["ConnectorCreate"] = {
      name: f.name.trim(),
      account_identifier: f.account_identifier.trim(),
      username: f.username.trim(),
      role_name: f.role_name.trim(),
      warehouse: f.warehouse.trim(),
      auth_method: "key_pair",
      private_key: f.private_key,
      private_key_passphrase: f.private_key_passphrase || null,
      timezone: f.timezone.trim(),
      currency: f.currency.trim().toUpperCase(),
      credit_price: Number(f.credit_price),
      storage_price_per_tb: Number(f.storage_price_per_tb),
      backfill_days: Number(f.backfill_days),
    };
    setBusy(true);
    try {
      const created = await api.post("/api/connectors", { body });
      onCreated(created.data);
    } catch (x) {
      const ae = x as ApiError;
      const fe = fieldErrors(ae.details, WORDS);
      setErrors(fe);
      setFormError(Object.keys(fe).length && !fe.form ? undefined : (fe.form ?? ae.message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <Section title="Add a Snowflake account" id="connector-form">
        <form class="form" onSubmit={submit} aria-label="Add a Snowflake account" noValidate>
          <div class="form-grid">
            {field("name", { required: true, maxLength: 100 })}
            {field("account_identifier", { required: true, placeholder: "ORGNAME-ACCOUNTNAME" })}
            {field("username", { required: true })}
            {field("role_name", { required: true })}
            {field("warehouse", { required: true })}
            {field("timezone", { required: true })}
            {field("currency", { required: true, maxLength: 3 })}
            {field("credit_price", { type: "number", min: "0", step: "0.01" })}
            {field("storage_price_per_tb", { type: "number", min: "0", step: "0.01" })}
            {field("backfill_days", { type: "number", min: "1", max: "365" })}
          </div>
          <label>
            {WORDS.labels.private_key}
            <textarea name="private_key" rows={5} spellcheck={false} autoComplete="off" value={f.private_key} {...inv("private_key")} onInput={set("private_key")} />
            <FieldError id="c-private_key" text={errors.private_key} />
          </label>
          {field("private_key_passphrase", { type: "password", autoComplete: "off" })}
          <p class="muted small">The key goes to AWS Secrets Manager under your organization; it is never shown again.</p>
          {formError && (
            <p class="state error" role="alert">
              {formError}
            </p>
          )}
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Adding…" : "Add connector"}
            </button>
          </div>
        </form>
      </Section>
      <SetupGuide names={{ role: f.role_name, warehouse: f.warehouse, user: f.username }} />
    </div>
  );
}
