// Jobs: the five jobs with schedules and last/next run, run-now for admins, and recent runs of every
// connector (filters in the URL), with live progress while a run is active.
import { useState } from "preact/hooks";
import { ApiError, api, markChanged, type Schemas } from "../api";
import { Async, Badge, ErrorBox, Section, Select, Table, useGet, usePoll } from "../components";
import { fmtDuration, fmtNumber, fmtTime } from "../format";
import { useParam } from "../router";

type JobRun = Schemas["JobRun"];
const ACTIVE = ["queued", "running"];
const STATUSES = ["queued", "running", "succeeded", "partial", "failed", "interrupted"] as const;
const JOBS = ["sync", "budget_check", "notify", "snapshot", "security"] as const;

/** Windows done and left, rows and the date reached of a running extraction (JobRun.progress). */
export type RunProgress = Schemas["RunProgress"];

export function progressOf(run: JobRun): RunProgress | undefined {
  return run.progress ?? undefined;
}

export function ProgressText({ run }: { run: JobRun }) {
  const p = progressOf(run);
  if (!p) return null;
  const done = p.windows_done;
  const total = done + p.windows_left;
  return (
    <span class="progress-text" data-testid="run-progress">
      <progress max={total || 1} value={done} aria-label={`Progress of run ${run.id}`} /> {fmtNumber(done)} windows done,{" "}
      {fmtNumber(p.windows_left)} left, {fmtNumber(p.rows)} rows
      {p.reached ? `, reached ${fmtTime(p.reached)}` : ""}
      {p.view ? ` (${p.view})` : ""}
    </span>
  );
}

export function JobsPage({ me, connectors }: { me: Schemas["UserOut"]; connectors: Schemas["ConnectorOut"][] }) {
  const isAdmin = me.role === "admin";
  const jobs = useGet("/api/jobs");
  const [job, setJob] = useParam("job");
  const [status, setStatus] = useParam("status");
  const [connectorId, setConnectorId] = useParam("connector");
  const runs = useGet("/api/jobs/runs", {
    query: {
      job: (job || undefined) as (typeof JOBS)[number] | undefined,
      status: (status || undefined) as (typeof STATUSES)[number] | undefined,
      connector_id: connectorId || undefined,
      limit: 200,
    },
  });
  const runRows = runs.data?.items ?? [];
  const anyActive =
    runRows.some((r) => ACTIVE.includes(r.status)) || (jobs.data ?? []).some((j) => j.last_run && ACTIVE.includes(j.last_run.status));
  // Runs and jobs are not cached: both are re-read together, so the summary and the list agree.
  usePoll(
    () => {
      runs.reload();
      jobs.reload();
    },
    1500,
    anyActive,
  );
  const [target, setTarget] = useState(connectorId || connectors[0]?.id || "");
  const [started, setStarted] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | null>(null);
  const name = (id: string | null | undefined) => (id ? (connectors.find((c) => c.id === id)?.name ?? id) : "all connectors");

  const runNow = async (j: Schemas["JobOut"]) => {
    setError(null);
    try {
      const a = await api.post("/api/jobs/{job}/run", {
        path: { job: j.name },
        body: { connector_id: j.per_connector ? target : undefined },
      });
      setStarted(`${j.name} started for ${j.per_connector ? name(target) : "the organization"} (run ${a.data.run_id}).`);
      if (j.per_connector && target) markChanged(target);
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
        {isAdmin && connectors.length > 0 && (
          <label class="inline">
            Per-connector jobs run for{" "}
            <select name="target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
              {connectors.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <Async res={jobs} empty={(d) => d.length === 0} emptyText="No jobs.">
          {(d) => (
            <Table
              id="jobs"
              label="Jobs with their schedules"
              rows={d}
              rowKey={(j) => j.name}
              cols={[
                { id: "name", label: "Job", value: (j) => j.name, render: (j) => <strong>{j.name}</strong> },
                { id: "description", label: "Description", value: (j) => j.description },
                { id: "schedule", label: "Schedule (cron)", value: (j) => j.schedules.map((s) => `${s.cron} ${s.timezone}`).join("; ") },
                {
                  id: "last",
                  label: "Last run",
                  value: (j) => j.last_run?.status ?? "",
                  render: (j) =>
                    j.last_run ? (
                      <span data-testid={`last-run-${j.name}`}>
                        <Badge text={j.last_run.status} /> <span class="small">{name(j.last_run.connector_id)}</span>{" "}
                        <span class="small muted">{fmtTime(j.last_run.finished_at ?? j.last_run.created_at)}</span>
                      </span>
                    ) : (
                      "never"
                    ),
                },
                { id: "next", label: "Next run", value: (j) => j.next_run, render: (j) => fmtTime(j.next_run) },
                {
                  id: "run",
                  label: "Run now",
                  sortable: false,
                  value: () => "",
                  render: (j) =>
                    isAdmin ? (
                      <button type="button" disabled={j.per_connector && !target} aria-label={`Run now: ${j.name}`} onClick={() => runNow(j)}>
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
      </Section>
      <Section title="Recent runs" id="jobs-runs" note="Newest first; times in UTC. Active runs refresh every 1.5 s.">
        <Async res={runs}>
          {(p) => (
            <Table
              id="runs"
              label="Job runs"
              rows={runRows}
              total={p.total}
              rowKey={(r) => r.id}
              rowClass={(r) => (r.status === "failed" ? "row-bad" : "")}
              filters={
                <form class="filters" aria-label="Run filters" onSubmit={(e) => e.preventDefault()}>
                  <Select label="Job" name="job" value={job} options={JOBS} onChange={setJob} all />
                  <Select label="Status" name="run_status" value={status} options={STATUSES} onChange={setStatus} all />
                  <Select
                    label="Connector"
                    name="connector"
                    value={connectorId}
                    options={connectors.map((c) => ({ value: c.id, label: c.name }))}
                    onChange={setConnectorId}
                    all
                  />
                </form>
              }
              cols={[
                { id: "job", label: "Job", value: (r) => r.job },
                { id: "connector", label: "Connector", value: (r) => name(r.connector_id) },
                {
                  id: "status",
                  label: "Status",
                  value: (r) => r.status,
                  render: (r) => (
                    <>
                      <Badge text={r.status} /> {ACTIVE.includes(r.status) && <ProgressText run={r} />}
                    </>
                  ),
                },
                { id: "trigger", label: "Trigger", value: (r) => r.trigger },
                { id: "mode", label: "Mode", value: (r) => r.mode ?? "" },
                { id: "started", label: "Started", value: (r) => r.started_at ?? r.created_at, render: (r) => fmtTime(r.started_at ?? r.created_at) },
                { id: "duration", label: "Duration", num: true, value: (r) => r.duration_ms, render: (r) => fmtDuration(r.duration_ms) },
                {
                  id: "rows",
                  label: "Rows",
                  num: true,
                  value: (r) => totalRows(r.rows),
                  render: (r) => <span title={Object.entries(r.rows).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n")}>{fmtNumber(totalRows(r.rows))}</span>,
                },
                { id: "error", label: "Error", value: (r) => r.error ?? "", render: (r) => (r.error ? <span class="field-error">{r.error}</span> : "—") },
              ]}
            />
          )}
        </Async>
      </Section>
    </div>
  );
}

/** The numeric values of a run's `rows` summed (per-source counts; nested details are skipped). */
export function totalRows(rows: Record<string, unknown>): number {
  return Object.values(rows).reduce<number>((s, v) => s + (typeof v === "number" ? v : 0), 0);
}
