// Shared building blocks: data loading with loading/empty/error states, tables, cards, pagers.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type Query } from "./api";
import { fmtAny, humanize, type Row } from "./format";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  cache: string | null;
  reload: () => void;
  setData: (fn: (prev: T | undefined) => T | undefined) => void;
}

/** GETs `path` with `query` whenever either changes (or reload() is called). `path` null = do nothing. */
export function useGet<T>(path: string | null, query?: Query): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; cache: string | null }>({
    loading: path !== null,
    cache: null,
  });
  const [tick, setTick] = useState(0);
  const key = path === null ? null : path + JSON.stringify(query ?? {});
  useEffect(() => {
    if (path === null) {
      setState({ loading: false, cache: null });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    api
      .get<T>(path, query, ctl.signal)
      .then((a) => setState({ data: a.data, loading: false, cache: a.cache }))
      .catch((e: unknown) => {
        if ((e as Error).name === "AbortError") return;
        const err = e instanceof ApiError ? e : new ApiError(0, "client", String(e));
        setState({ error: err, loading: false, cache: null });
      });
    return () => ctl.abort();
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback(
    (fn: (prev: T | undefined) => T | undefined) => setState((s) => ({ ...s, data: fn(s.data) })),
    [],
  );
  return { data: state.data, error: state.error, loading: state.loading, cache: state.cache, reload, setData };
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
      {error.code && error.status ? <code class="muted"> {`${error.status} ${error.code}`}</code> : null}
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

export function Section(props: { title: string; id?: string; actions?: ComponentChildren; children: ComponentChildren; cache?: string | null }) {
  const id = props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return (
    <section class="panel" aria-labelledby={`${id}-h`} id={id}>
      <header class="panel-head">
        <h2 id={`${id}-h`}>{props.title}</h2>
        {props.cache === "HIT" && (
          <span class="badge muted" title="Served from the API cache; figures refresh within minutes">
            cached
          </span>
        )}
        {props.actions && <div class="panel-actions">{props.actions}</div>}
      </header>
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

export interface Column {
  key: string; // field name (first found among alternatives separated by "|")
  label?: string;
  render?: (row: Row) => ComponentChildren;
  num?: boolean;
}

function cell(row: Row, key: string): unknown {
  for (const k of key.split("|")) if (row[k] !== undefined && row[k] !== null) return row[k];
  return undefined;
}

/**
 * The columns to show: declared ones with data in some row (or a renderer); when none of the declared
 * fields is in the data at all (a contract changed under us), the first row's scalar fields.
 */
export function visibleColumns(rows: Row[], declared: Column[]): Column[] {
  const present = (c: Column) => rows.some((r) => cell(r, c.key) !== undefined);
  const cols = declared.filter((c) => c.render || present(c));
  if (rows.length && !declared.some(present)) {
    const scalar = Object.keys(rows[0]).filter((k) => rows[0][k] === null || typeof rows[0][k] !== "object");
    return [...scalar.slice(0, 8).map((k) => ({ key: k })), ...cols];
  }
  return cols;
}

/**
 * A table of rows. Columns whose field is absent from every row are dropped (the API is evolving);
 * with no matching columns at all, the scalar fields of the first row are shown.
 */
export function DataTable(props: { rows: Row[]; columns?: Column[]; caption: string; rowKey?: (r: Row, i: number) => string; rowClass?: (r: Row) => string }) {
  const { rows } = props;
  const cols = visibleColumns(rows, props.columns ?? []);
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th scope="col" key={c.key} class={c.num ? "num" : ""}>
                {c.label ?? humanize(c.key.split("|")[0])}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={props.rowKey ? props.rowKey(r, i) : String(r.id ?? i)} class={props.rowClass?.(r)}>
              {cols.map((c) => (
                <td key={c.key} class={c.num ? "num" : ""}>
                  {c.render ? c.render(r) : fmtAny(cell(r, c.key))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Pager(props: { total: number; limit: number; offset: number; onChange: (offset: number) => void; label: string }) {
  const { total, limit, offset } = props;
  if (total <= limit) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={offset === 0} onClick={() => props.onChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span aria-live="polite">
        Page {page} of {pages} · {total} total
      </span>
      <button type="button" disabled={offset + limit >= total} onClick={() => props.onChange(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

export function Badge({ text, kind }: { text: string; kind?: string }) {
  return <span class={`badge ${kind ?? String(text).toLowerCase()}`}>{text}</span>;
}

/** Polls `fn` every `ms` while `active`; stops on unmount. */
export function usePoll(fn: () => void, ms: number, active: boolean) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms, active]);
}
