// URL state: the page, the connector and the selected budget live in the path; filters, sort, page
// numbers, the date range and the selected alert in the query string. Links (also in emails and Slack
// messages) therefore open exactly what they name; the back button walks through pages.
//
//   /                                   org home
//   /jobs                               jobs and runs (all connectors)
//   /connectors/{id}/security?alert=…   a connector's security page, with that alert opened
//   /connectors/{id}/cost
//   /connectors/{id}/budgets[/{budget}] budgets, with that budget opened
//   /connectors/{id}/connector          what the connector connects with, and its Snowflake setup
//   /connectors/new                     add a connector (admins)
//   /signin/callback                    OIDC redirect target
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { CALLBACK_PATH } from "./auth";

export type ConnectorPage = "security" | "cost" | "budgets" | "connector";
export type Route =
  | { page: "home" }
  | { page: "jobs" }
  | { page: "newconnector" }
  | { page: ConnectorPage; connectorId: string; budgetId?: string }
  | { page: "callback" }
  | { page: "notfound" };

export const CONNECTOR_PAGES: { id: ConnectorPage; title: string }[] = [
  { id: "security", title: "Security" },
  { id: "cost", title: "Cost" },
  { id: "budgets", title: "Budgets" },
  { id: "connector", title: "Connector" },
];

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (pathname === CALLBACK_PATH) return { page: "callback" };
  if (parts.length === 0) return { page: "home" };
  if (parts.length === 1 && parts[0] === "jobs") return { page: "jobs" };
  if (parts.length === 2 && parts[0] === "connectors" && parts[1] === "new") return { page: "newconnector" };
  if (parts[0] === "connectors" && parts[1]) {
    const page = (parts[2] ?? "security") as ConnectorPage;
    if (!CONNECTOR_PAGES.some((p) => p.id === page)) return { page: "notfound" };
    if (page === "budgets" && parts[3]) return { page, connectorId: parts[1], budgetId: parts[3] };
    if (parts.length > 3) return { page: "notfound" };
    return { page, connectorId: parts[1] };
  }
  return { page: "notfound" };
}

export function connectorHref(connectorId: string, page: ConnectorPage, query?: Record<string, string>): string {
  const qs = query && Object.keys(query).length ? `?${new URLSearchParams(query)}` : "";
  return `/connectors/${encodeURIComponent(connectorId)}/${page}${qs}`;
}

/** Old hash routes (`#/cost`) as paths, for bookmarks made before URL state. */
export function legacyHashTarget(hash: string, connectorId: string | null): string | null {
  const m = /^#\/(security|cost|budgets|jobs)$/.exec(hash);
  if (!m) return null;
  if (m[1] === "jobs") return "/jobs";
  return connectorId ? connectorHref(connectorId, m[1] as ConnectorPage) : "/";
}

const EVENT = "snowwatch:navigate";

/** Goes to `url` (same origin): a new history entry, or replacing the current one (filters). */
export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event(EVENT));
}

export interface Loc {
  path: string;
  search: string;
}
const current = (): Loc => ({ path: location.pathname, search: location.search });

export function useLocation(): Loc {
  const [loc, setLoc] = useState<Loc>(current);
  useEffect(() => {
    const f = () => setLoc(current());
    window.addEventListener("popstate", f);
    window.addEventListener(EVENT, f);
    return () => {
      window.removeEventListener("popstate", f);
      window.removeEventListener(EVENT, f);
    };
  }, []);
  return loc;
}

export const LocationContext = createContext<Loc>({ path: "/", search: "" });

/** Query parameters of the current URL, and a setter that writes them back (empty values removed). */
export function useQuery(): [URLSearchParams, (changes: Record<string, string | number | null | undefined>, push?: boolean) => void] {
  const loc = useContext(LocationContext);
  const params = new URLSearchParams(loc.search);
  const set = (changes: Record<string, string | number | null | undefined>, push = false) => {
    const next = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === undefined || v === "") next.delete(k);
      else next.set(k, String(v));
    }
    next.sort();
    const qs = next.toString();
    navigate(location.pathname + (qs ? `?${qs}` : ""), { replace: !push });
  };
  return [params, set];
}

/** One query parameter with a default (the default is kept out of the URL). */
export function useParam(name: string, fallback = ""): [string, (v: string | number | null) => void] {
  const [params, set] = useQuery();
  return [params.get(name) ?? fallback, (v) => set({ [name]: v === fallback ? null : v })];
}

/** A link inside the app: a plain <a href> (open in a new tab works) that navigates without reloading. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? "/");
}
