// The API client, typed from docs/openapi.json (src/api.gen.ts, generated at build): paths, path and query
// parameters, bodies and answers are checked by the compiler, so API drift fails the build.
import type { components, paths } from "./api.gen";
import { CACHE_TTL } from "./api.gen";

export type Schemas = components["schemas"];
type Method = "get" | "post" | "put" | "patch" | "delete";
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never;
}[keyof paths];
type Params<O> = O extends { parameters: infer X } ? X : never;
export type PathParams<O> = Params<O> extends { path: infer X } ? X : never;
export type QueryParams<O> = Params<O> extends { query?: infer X } ? NonNullable<X> : never;
type Content<R> = R extends { content: { "application/json": infer T } } ? T : never;
export type Json<O> = O extends { responses: infer R }
  ? R extends { 200: infer X }
    ? Content<X>
    : R extends { 201: infer X }
      ? Content<X>
      : R extends { 202: infer X }
        ? Content<X>
        : never
  : never;
type Body<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** The answer of GET `P`. */
export type GetAnswer<P extends PathsWith<"get">> = Json<Op<P, "get">>;
export interface Args<O> {
  path?: PathParams<O>;
  query?: QueryParams<O>;
}

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
  cache: string | null; // X-Cache: HIT | MISS on cached GETs (the local server says it; API Gateway does not)
  at: number; // when the answer arrived (ms)
}

/** Fills `{name}` in a path template; every parameter is URL-encoded. */
export function fillPath(template: string, params?: Record<string, unknown>): string {
  return template.replace(/{(\w+)}/g, (_, k: string) => {
    const v = params?.[k];
    if (v === undefined || v === null || v === "") throw new Error(`missing path parameter ${k}`);
    return encodeURIComponent(String(v));
  });
}

/** Query string of the given params, skipping empty values, in a stable order. */
export function queryString(query?: object): string {
  if (!query) return "";
  const q = query as Record<string, unknown>;
  const parts = Object.keys(q)
    .sort()
    .filter((k) => q[k] !== undefined && q[k] !== null && q[k] !== "")
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(q[k]))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Turns an error body `{"error":{"code","message","details"}}` (or anything else) into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  const err = (body as Partial<Schemas["ErrorResponse"]> | null)?.error;
  if (err && typeof err === "object") {
    return new ApiError(status, err.code ?? `http_${status}`, err.message ?? `HTTP ${status}`, err.details);
  }
  return new ApiError(status, `http_${status}`, status === 0 ? "network error" : `HTTP ${status}`);
}

/** Where the client gets its bearer token and what it does on a 401 (set by the session, src/auth.ts). */
export interface TokenSource {
  token: () => Promise<string | null>;
  unauthorized: () => void;
}
let tokens: TokenSource = { token: async () => null, unauthorized: () => {} };
export function setTokenSource(source: TokenSource): void {
  tokens = source;
}

async function send<T>(method: string, url: string, body?: unknown, signal?: AbortSignal, token?: string): Promise<Answer<T>> {
  const bearer = token ?? (await tokens.token());
  const headers: Record<string, string> = { Accept: "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "network", "The API cannot be reached.");
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && token === undefined) tokens.unauthorized();
    throw toApiError(res.status, parsed);
  }
  return { data: parsed as T, cache: res.headers.get("X-Cache"), at: Date.now() };
}

export const api = {
  get<P extends PathsWith<"get">>(path: P, args: Args<Op<P, "get">> = {}, signal?: AbortSignal) {
    const url = fillPath(path, args.path as Record<string, unknown>) + queryString(args.query as object);
    return send<Json<Op<P, "get">>>("GET", url, undefined, signal);
  },
  post<P extends PathsWith<"post">>(path: P, args: Args<Op<P, "post">> & { body?: Body<Op<P, "post">> } = {}) {
    return send<Json<Op<P, "post">>>("POST", fillPath(path, args.path as Record<string, unknown>), args.body ?? {});
  },
  put<P extends PathsWith<"put">>(path: P, args: Args<Op<P, "put">> & { body: Body<Op<P, "put">> }) {
    return send<Json<Op<P, "put">>>("PUT", fillPath(path, args.path as Record<string, unknown>), args.body);
  },
  del<P extends PathsWith<"delete">>(path: P, args: Args<Op<P, "delete">>) {
    return send<Json<Op<P, "delete">>>("DELETE", fillPath(path, args.path as Record<string, unknown>));
  },
  /** GET /api/me with a given token (sign-in checks a token before keeping it). */
  me(token: string) {
    return send<Schemas["UserOut"]>("GET", "/api/me", undefined, undefined, token);
  },
};

// ---------------------------------------------------------------- freshness after writes
// API Gateway caches GETs per token, path and declared query strings for minutes (CACHE_TTL), and a
// parameter outside that key does not bust it. So after this tab changes a connector's data (a resolve
// answered, a run finished), an answer to a cached GET may predate the change: it is "stale" until it is
// known to be fresh (a MISS after the change, or fetched a full TTL after it). Stale sections say so and
// re-read until fresh; writes that return the item lay it over stale answers meanwhile.

const changed = new Map<string, number>(); // connector id -> when this tab last changed its data
const listeners = new Set<() => void>();
const freshSince = new Map<string, number>(); // request key -> when a MISS answered it

export function markChanged(connectorId: string): void {
  changed.set(connectorId, Date.now());
  for (const f of listeners) f();
}
export function changedAt(connectorId: string | undefined): number {
  return connectorId ? (changed.get(connectorId) ?? 0) : 0;
}
export function onChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function cacheTtl(path: string): number {
  return (CACHE_TTL as Record<string, number | undefined>)[path] ?? 0;
}

/** Whether an answer to `path` (request `key`) reflects the server after time `since`. */
export function isFresh(path: string, key: string, answer: Pick<Answer<unknown>, "cache" | "at">, since: number): boolean {
  const ttl = cacheTtl(path) * 1000;
  if (!ttl || !since) return true;
  if (answer.cache === "MISS" && answer.at >= since) freshSince.set(key, answer.at);
  if ((freshSince.get(key) ?? 0) >= since) return true;
  return answer.cache !== "HIT" && answer.at >= since + ttl;
}
