// The API client: bearer token from sessionStorage, JSON errors mapped to ApiError, pages typed.

export const TOKEN_KEY = "snowwatch.token";
export const CONNECTOR_KEY = "snowwatch.connector";

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Answer<T> {
  data: T;
  cache: string | null; // X-Cache: HIT | MISS on cached GETs
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Query string of the given params, skipping empty values, in a stable order. */
export function queryString(query?: Query): string {
  if (!query) return "";
  const parts = Object.keys(query)
    .sort()
    .filter((k) => query[k] !== undefined && query[k] !== null && query[k] !== "")
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(query[k]))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Turns an error body `{"error":{"code","message","details"}}` (or anything else) into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  if (err && typeof err === "object") {
    return new ApiError(status, err.code ?? `http_${status}`, err.message ?? `HTTP ${status}`, err.details);
  }
  return new ApiError(status, `http_${status}`, status === 0 ? "network error" : `HTTP ${status}`);
}

let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

export async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; token?: string | null; signal?: AbortSignal } = {},
): Promise<Answer<T>> {
  const token = opts.token === undefined ? getToken() : opts.token;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path + queryString(opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "network", "The API cannot be reached.");
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && onUnauthorized) onUnauthorized();
    throw toApiError(res.status, body);
  }
  return { data: body as T, cache: res.headers.get("X-Cache") };
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, { body: body ?? {} }),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, { body: body ?? {} }),
  del: <T>(path: string) => request<T>("DELETE", path),
};

// Paths, as in the route table (layers/common/python/snowwatch/routes.py).
const C = (id: string) => `/api/connectors/${encodeURIComponent(id)}`;
export const paths = {
  me: "/api/me",
  connectors: "/api/connectors",
  jobs: "/api/jobs",
  jobRun: (job: string) => `/api/jobs/${encodeURIComponent(job)}/run`,
  runs: "/api/jobs/runs",
  run: (runId: string) => `/api/jobs/runs/${encodeURIComponent(runId)}`,
  cost: (id: string, what: string) => `${C(id)}/cost/${what}`,
  budgets: (id: string) => `${C(id)}/budgets`,
  budget: (id: string, budgetId: string) => `${C(id)}/budgets/${encodeURIComponent(budgetId)}`,
  security: (id: string, what: string) => `${C(id)}/security/snowflake/${what}`,
  resolve: (id: string, alertId: string) =>
    `${C(id)}/security/snowflake/alerts/${encodeURIComponent(alertId)}/resolve`,
};
