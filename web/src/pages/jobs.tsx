// Jobs: the five jobs with schedules and last/next run, recent runs with status and errors, run-now for admins.
import { useState } from "preact/hooks";
import { ApiError, api, paths, type Page } from "../api";
import type { Ctx } from "../app";
import { Async, Badge, DataTable, ErrorBox, Pager, Section, useGet, usePoll } from "../components";
import { fmtDate, fmtDuration, itemsOf, pick, type Row } from "../format";

const ACTIVE = ["queued", "running"];

export function JobsPage({ ctx }: { ctx: Ctx }) {
  const jobs = useGet<Row[]>(paths.jobs);
  const [job, setJob] = useState("");
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const runs = useGet<Page<Row>>(paths.runs, { job, status, limit: 25, offset });
  const runRows = itemsOf<Row>(runs.data);
  const anyActive = runRows.some((r) => ACTIVE.includes(String(r.status)));
  usePoll(runs.reload, 2000, anyActive); // runs are not cached: poll while something runs
  const [started, setStarted] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | null>(null);

  const runNow = async (name: string, perConnector: boolean) => {
    setError(null);
    try {
      const body: Record<string, unknown> = {};
      if (perConnector || ctx.connectorId) body.connector_id = ctx.connectorId || undefined;
      const a = await api.post<Row>(paths.jobRun(name), body);
      setStarted(`${name} started (run ${String(pick(a.data, "run_id") ?? "")}).`);
      runs.reload();
      jobs.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>Jobs</h1>
      </div>
      <Section title="Jobs" id="jobs-list">
        {started && (
          <p class="state ok" role="status">
            {started}
          </p>
        )}
        {error && <ErrorBox error={error} />}
        <Async res={jobs} empty={(d) => itemsOf(d).length === 0} emptyText="No jobs.">
          {(d) => (
            <DataTable
              rows={itemsOf<Row>(d)}
              caption="Jobs with their schedules"
              rowKey={(r) => String(r.name)}
              columns={[
                { key: "name", label: "Job", render: (r) => <strong>{String(r.name)}</strong> },
                { key: "description" },
                {
                  key: "schedules",
                  label: "Schedule",
                  render: (r) =>
                    itemsOf<Row>(r.schedules)
                      .map((s) => `${String(s.cron)} ${String(s.timezone ?? "")}`.trim())
                      .join("; ") || "—",
                },
                {
                  key: "last_run",
                  label: "Last run",
                  render: (r) => {
                    const lr = r.last_run as Row | null;
                    return lr ? (
                      <>
                        <Badge text={String(lr.status)} /> <span class="small muted">{fmtDate(lr.finished_at ?? lr.created_at)}</span>
                      </>
                    ) : (
                      "never"
                    );
                  },
                },
                { key: "next_run", label: "Next run", render: (r) => fmtDate(r.next_run) },
                {
                  key: "actions",
                  label: "Run now",
                  render: (r) =>
                    ctx.isAdmin ? (
                      <button
                        type="button"
                        disabled={Boolean(r.per_connector) && !ctx.connectorId}
                        aria-label={`Run ${String(r.name)} now`}
                        onClick={() => runNow(String(r.name), Boolean(r.per_connector))}
                      >
                        Run now
                      </button>
                    ) : (
                      <span class="muted small">admins only</span>
                    ),
                },
              ]}
            />
          )}
        </Async>
        {ctx.connectorId && (
          <p class="muted small">
            Per-connector jobs run for the selected connector: {String(pick(ctx.connector, "name") ?? ctx.connectorId)}.
          </p>
        )}
      </Section>
      <Section title="Recent runs" id="jobs-runs">
        <form class="filters" aria-label="Run filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Job
            <select name="job" value={job} onChange={(e) => { setJob((e.target as HTMLSelectElement).value); setOffset(0); }}>
              <option value="">All</option>
              {itemsOf<Row>(jobs.data).map((j) => (
                <option key={String(j.name)} value={String(j.name)}>
                  {String(j.name)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="run_status" value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); setOffset(0); }}>
              <option value="">All</option>
              {["queued", "running", "succeeded", "failed", "interrupted"].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={runs.reload}>
            Refresh
          </button>
        </form>
        <Async res={runs} empty={() => runRows.length === 0} emptyText="No runs yet.">
          {(p) => (
            <>
              <DataTable
                rows={runRows}
                caption="Job runs, newest first"
                rowClass={(r) => (r.status === "failed" ? "row-bad" : "")}
                columns={[
                  { key: "job", label: "Job" },
                  { key: "status", label: "Status", render: (r) => <Badge text={String(r.status)} /> },
                  { key: "trigger", label: "Trigger" },
                  { key: "mode", label: "Mode" },
                  { key: "started_at", label: "Started", render: (r) => fmtDate(r.started_at ?? r.created_at) },
                  { key: "duration_ms", label: "Duration", num: true, render: (r) => fmtDuration(r.duration_ms) },
                  {
                    key: "rows",
                    label: "Rows",
                    render: (r) => {
                      const rows = (r.rows ?? {}) as Row;
                      const keys = Object.keys(rows);
                      if (!keys.length) return "—";
                      const total = keys.reduce((s, k) => s + (Number(rows[k]) || 0), 0);
                      return <span title={keys.map((k) => `${k}: ${String(rows[k])}`).join("\n")}>{total.toLocaleString("en-US")}</span>;
                    },
                  },
                  { key: "error", label: "Error", render: (r) => (r.error ? <span class="field-error">{String(r.error)}</span> : "—") },
                ]}
              />
              <Pager total={p.total ?? runRows.length} limit={25} offset={offset} onChange={setOffset} label="Runs" />
            </>
          )}
        </Async>
      </Section>
    </div>
  );
}
