// Shared building blocks: typed data loading with loading/empty/error/stale states, sections and cards,
// the table (sort, pages, text search, CSV export, all in the URL), the date range picker, field errors.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  api,
  cacheTtl,
  changedAt,
  isFresh,
  onChange,
  type Answer,
  type Args,
  type GetAnswer,
  type PathsWith,
} from "./api";
import type { paths } from "./api.gen";
import { PRESETS, fmtNumber, matches, sortRows, toCsv, type DateRange, type SortValue } from "./format";
import { useQuery } from "./router";

export const STALE_POLL_MS = 10_000;

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  cache: string | null;
  /** The answer may predate a change this tab made (a cached GET): it is re-read until fresh. */
  stale: boolean;
  /** Whether the answer reflects the server after time `ts` (ms). */
  freshAfter: (ts: number) => boolean;
  reload: () => void;
}

type GetArgs<P extends PathsWith<"get">> = Args<NonNullable<paths[P]["get"]>>;

/** GETs `path` whenever it or its arguments change, after a change to its connector, or on reload(). */
export function useGet<P extends PathsWith<"get">>(path: P | null, args: GetArgs<P> = {}): Loaded<GetAnswer<P>> {
  const [state, setState] = useState<{ answer?: Answer<GetAnswer<P>> & { v?: number }; error?: ApiError; loading: boolean }>({
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  const connectorId = (args.path as { connector_id?: string } | undefined)?.connector_id;
  const [version, setVersion] = useState(changedAt(connectorId));
  useEffect(() => onChange(() => setVersion(changedAt(connectorId))), [connectorId]);
  const key = path === null ? null : path + JSON.stringify(args);
  useEffect(() => {
    if (path === null) {
      setState({ loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    // After this tab changed the connector, cached GETs carry the freshness key `v` (part of the stage-cache
    // key, ignored by the API): the answer is then newer than the change, in AWS as locally.
    const v = version && cacheTtl(path) ? version : 0;
    const sent = v ? ({ ...args, query: { ...(args.query as object), v: String(v) } } as unknown as GetArgs<P>) : args;
    api
      .get(path, sent, ctl.signal)
      .then((answer) => setState({ answer: { ...answer, v }, loading: false }))
      .catch((e: unknown) => {
        if ((e as Error).name === "AbortError") return;
        const err = e instanceof ApiError ? e : new ApiError(0, "client", String(e));
        setState({ error: err, loading: false });
      });
    return () => ctl.abort();
  }, [key, tick, version]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const answer = state.answer;
  const freshAfter = (ts: number) => (answer && key ? (answer.v ?? 0) >= ts || isFresh(path as string, key, answer, ts) : false);
  const stale = !!answer && !!key && !freshAfter(changedAt(connectorId));
  usePoll(reload, STALE_POLL_MS, stale && !state.loading);
  return { data: answer?.data, error: state.error, loading: state.loading, cache: answer?.cache ?? null, stale, freshAfter, reload };
}

/** Runs `fn` every `ms` while `active`; stops on unmount. */
export function usePoll(fn: () => void, ms: number, active: boolean) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms, active]);
}

export function ErrorBox({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const text =
    error.status === 404
      ? "Not available yet (this endpoint or item was not found)."
      : error.status === 403
        ? "You do not have permission for this."
        : error.message;
  return (
    <div class="state error" role="alert">
      <strong>Could not load.</strong> <span>{text}</span>
      {error.code && error.status ? <code> {`${error.status} ${error.code}`}</code> : null}
      {onRetry && (
        <button type="button" class="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>;
}

/** Renders loading / error / empty / content for a loaded resource. */
export function Async<T>(props: {
  res: Loaded<T>;
  empty?: (data: T) => boolean;
  emptyText?: ComponentChildren;
  children: (data: T) => ComponentChildren;
}) {
  const { res } = props;
  if (res.loading && res.data === undefined) return <Loading />;
  if (res.error) return <ErrorBox error={res.error} onRetry={res.reload} />;
  if (res.data === undefined || res.data === null) return <Empty>{props.emptyText ?? "No data yet."}</Empty>;
  const body = props.empty?.(res.data) ? <Empty>{props.emptyText ?? "Nothing to show."}</Empty> : props.children(res.data);
  // While a new answer loads (filters changed, page turned), the old one stays, marked busy.
  return (
    <div class={res.loading ? "refreshing" : undefined} aria-busy={res.loading ? "true" : undefined}>
      {body}
    </div>
  );
}

/** A panel. `res` (or several) marks it cached, or stale after a change until the server's copy is fresh. */
export function Section(props: {
  title: string;
  id: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  res?: Loaded<unknown> | Loaded<unknown>[];
  note?: ComponentChildren;
}) {
  const all = props.res === undefined ? [] : Array.isArray(props.res) ? props.res : [props.res];
  const stale = all.some((r) => r.stale);
  const cached = all.some((r) => r.cache === "HIT");
  return (
    <section class="panel" aria-labelledby={`${props.id}-h`} id={props.id} data-stale={stale ? "true" : undefined}>
      <header class="panel-head">
        <h2 id={`${props.id}-h`}>{props.title}</h2>
        {stale ? (
          <span class="badge warnish" role="status" title="The API's cached copy may predate your change; it is re-read until fresh">
            updating…
          </span>
        ) : (
          cached && (
            <span class="badge muted" title="Served from the API cache; figures refresh within minutes">
              cached
            </span>
          )
        )}
        {props.actions && <div class="panel-actions">{props.actions}</div>}
      </header>
      {props.note && <p class="muted small note">{props.note}</p>}
      {props.children}
    </section>
  );
}

export function Card(props: { label: string; value: ComponentChildren; hint?: ComponentChildren; tone?: string; testid?: string }) {
  return (
    <div class={`card ${props.tone ?? ""}`} data-testid={props.testid}>
      <div class="card-label">{props.label}</div>
      <div class="card-value">{props.value}</div>
      {props.hint !== undefined && <div class="card-hint">{props.hint}</div>}
    </div>
  );
}

export function Badge({ text, kind }: { text: string; kind?: string }) {
  return <span class={`badge ${kind ?? String(text).toLowerCase()}`}>{text}</span>;
}

// ---------------------------------------------------------------- the table
export interface Col<R> {
  id: string;
  label: string;
  value: (r: R) => SortValue;
  render?: (r: R) => ComponentChildren;
  num?: boolean;
  sortable?: boolean;
}

/**
 * A table over rows the page has (sorting, pages, text search and CSV export happen here; their state
 * is in the URL under `<id>.sort`, `<id>.page` and `<id>.q`). `total` above `rows.length` says more
 * exist than were read.
 */
export interface TableProps<R> {
  id: string;
  label: string;
  rows: R[];
  cols: Col<R>[];
  rowKey: (r: R) => string;
  pageSize?: number;
  defaultSort?: string; // "-col" = descending
  search?: (r: R) => (string | null | undefined)[];
  /** What the search box looks in, as its placeholder ("rule id or title"). */
  searchHint?: string;
  total?: number;
  rowClass?: (r: R) => string;
  filters?: ComponentChildren;
  emptyText?: string;
  renderRows?: (rows: R[]) => ComponentChildren; // a list instead of table rows (alerts)
}

export function Table<R>(props: TableProps<R>) {
  const { id, cols } = props;
  const [params, set] = useQuery();
  const sort = params.get(`${id}.sort`) ?? props.defaultSort ?? "";
  const q = params.get(`${id}.q`) ?? "";
  const [typed, setTyped] = useState(q);
  useEffect(() => setTyped(q), [q]);
  const sortCol = cols.find((c) => c.id === sort.replace(/^-/, ""));
  const searched = props.search && q ? props.rows.filter((r) => matches(q, ...props.search!(r))) : props.rows;
  const sorted = sortCol ? sortRows(searched, sortCol.value, sort.startsWith("-")) : searched;
  const size = props.pageSize ?? 25;
  const pages = Math.max(1, Math.ceil(sorted.length / size));
  const page = Math.min(pages, Math.max(1, Number(params.get(`${id}.page`)) || 1));
  const shown = sorted.slice((page - 1) * size, page * size);
  const setSort = (c: Col<R>) => {
    const next = sort === c.id ? `-${c.id}` : sort === `-${c.id}` ? c.id : c.num ? `-${c.id}` : c.id;
    set({ [`${id}.sort`]: next === props.defaultSort ? null : next, [`${id}.page`]: null });
  };
  const exportCsv = () => {
    const csv = toCsv(
      cols.map((c) => c.label),
      sorted.map((r) => cols.map((c) => String(c.value(r) ?? ""))),
    );
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    a.download = `${id}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <div class="table-block" data-table={id}>
      <div class="table-tools">
        {props.filters}
        {props.search && (
          <form
            class="search"
            role="search"
            aria-label={`Search ${props.label}`}
            onSubmit={(e) => {
              e.preventDefault();
              set({ [`${id}.q`]: typed.trim(), [`${id}.page`]: null });
            }}
          >
            <label>
              Search
              <input
                type="search"
                name={`${id}.q`}
                value={typed}
                placeholder={props.searchHint ?? "search"}
                onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit">Search</button>
          </form>
        )}
        <button type="button" class="export" onClick={exportCsv} disabled={!sorted.length} aria-label={`Export CSV: ${props.label}`}>
          Export CSV
        </button>
      </div>
      {props.total !== undefined && props.total > props.rows.length && (
        <p class="muted small">
          Showing the first {fmtNumber(props.rows.length)} of {fmtNumber(props.total)}: narrow the filters to see the rest.
        </p>
      )}
      {!sorted.length ? (
        <Empty>{props.emptyText ?? "Nothing matches."}</Empty>
      ) : props.renderRows ? (
        <>
          <SortBar cols={cols} sort={sort} onSort={setSort} label={props.label} />
          {props.renderRows(shown)}
        </>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{props.label}</caption>
            <thead>
              <tr>
                {cols.map((c) => {
                  const dir = sort === c.id ? "ascending" : sort === `-${c.id}` ? "descending" : undefined;
                  return (
                    <th scope="col" key={c.id} class={c.num ? "num" : ""} aria-sort={dir}>
                      {c.sortable === false ? (
                        c.label
                      ) : (
                        <button type="button" class="sort" onClick={() => setSort(c)}>
                          {c.label}
                          <span aria-hidden="true" class="arrow">
                            {dir === "ascending" ? "▲" : dir === "descending" ? "▼" : "↕"}
                          </span>
                        </button>
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={props.rowKey(r)} class={props.rowClass?.(r)}>
                  {cols.map((c) => (
                    <td key={c.id} class={c.num ? "num" : ""}>
                      {c.render ? c.render(r) : String(c.value(r) ?? "—")}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={page} pages={pages} total={sorted.length} label={props.label} onChange={(p) => set({ [`${id}.page`]: p === 1 ? null : p })} />
    </div>
  );
}

/** A Section holding one Table over a page the API read: its `items`, and the `total` that exist. */
export function PageSection<R>(props: {
  title: string;
  id: string;
  note?: ComponentChildren;
  res: Loaded<{ items: R[]; total: number }>;
  table: Omit<TableProps<R>, "rows" | "total">;
}) {
  return (
    <Section title={props.title} id={props.id} res={props.res} note={props.note}>
      <Async res={props.res}>{(p) => <Table {...props.table} rows={p.items} total={p.total} />}</Async>
    </Section>
  );
}

function SortBar<R>(props: { cols: Col<R>[]; sort: string; onSort: (c: Col<R>) => void; label: string }) {
  return (
    <div class="sortbar" role="group" aria-label={`Sort ${props.label}`}>
      <span class="muted small">Sort:</span>
      {props.cols
        .filter((c) => c.sortable !== false)
        .map((c) => {
          const dir = props.sort === c.id ? "ascending" : props.sort === `-${c.id}` ? "descending" : undefined;
          return (
            <button type="button" class="sort" key={c.id} aria-pressed={dir ? "true" : "false"} onClick={() => props.onSort(c)}>
              {c.label}
              <span aria-hidden="true" class="arrow">
                {dir === "ascending" ? "▲" : dir === "descending" ? "▼" : "↕"}
              </span>
              {dir && <span class="sr-only"> ({dir})</span>}
            </button>
          );
        })}
    </div>
  );
}

export function Pager(props: { page: number; pages: number; total: number; label: string; onChange: (page: number) => void }) {
  if (props.pages <= 1) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={props.page <= 1} onClick={() => props.onChange(props.page - 1)}>
        Previous
      </button>
      <span>
        Page {props.page} of {props.pages} · {fmtNumber(props.total)} rows
      </span>
      <button type="button" disabled={props.page >= props.pages} onClick={() => props.onChange(props.page + 1)}>
        Next
      </button>
    </nav>
  );
}

// ---------------------------------------------------------------- the page's date range
/** Presets and a custom from/to; kept in the URL (`days` or `from`/`to`) and applied to every block. */
export function RangePicker({ range, zone }: { range: DateRange; zone: string }) {
  const [, set] = useQuery();
  const [from, setFrom] = useState(range.start);
  const [to, setTo] = useState(range.end);
  useEffect(() => {
    setFrom(range.start);
    setTo(range.end);
  }, [range.start, range.end]);
  return (
    <form
      class="range"
      aria-label="Date range"
      onSubmit={(e) => {
        e.preventDefault();
        if (from && to && from <= to) set({ from, to, days: null }, true);
      }}
    >
      <label>
        Range
        <select
          name="days"
          value={range.days ? String(range.days) : "custom"}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            if (v !== "custom") set({ days: v === "30" ? null : v, from: null, to: null }, true);
          }}
        >
          {PRESETS.map((d) => (
            <option key={d} value={String(d)}>
              Last {d} days
            </option>
          ))}
          <option value="custom">Custom</option>
        </select>
      </label>
      <label>
        From
        <input type="date" name="from" value={from} max={to} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        To
        <input type="date" name="to" value={to} min={from} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Apply</button>
      <span class="muted small zone">Days in {zone}</span>
    </form>
  );
}

/** A labelled select of filter values; "" is "All" when `all` is given. */
export function Select(props: {
  label: string;
  name: string;
  value: string;
  options: readonly (string | { value: string; label: string })[];
  onChange: (v: string) => void;
  all?: boolean;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.all && <option value="">All</option>}
        {props.options.map((o) => {
          const { value, label } = typeof o === "string" ? { value: o, label: o } : o;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </label>
  );
}

/** A field's own error, linked with aria-describedby from the field (id `<field>-err`). */
export function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <span id={`${id}-err`} class="field-error">
      {text}
    </span>
  );
}

/** A code snippet (SQL a user may run in Snowflake) with a Copy button named after it. */
export function CodeBlock({ code, label, lang = "sql" }: { code: string; label: string; lang?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="code-block">
      <pre class={`code lang-${lang}`} tabIndex={0} aria-label={label}>
        <code>{code}</code>
      </pre>
      <button
        type="button"
        class="copy"
        aria-label={`Copy: ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(code).then(() => setCopied(true), () => setCopied(false));
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
