// The shell: runtime config and sign-in (token or OIDC + PKCE), who am I, the connector picker, the
// navigation and the pages, all addressed by the URL (src/router.ts).
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, setTokenSource, type Schemas } from "./api";
import {
  beginOidc,
  completeOidc,
  currentToken,
  keepToken,
  loadConfig,
  nextRenewal,
  renewOidc,
  signOut,
  storedToken,
  type AuthConfig,
} from "./auth";
import { ErrorBox, Loading, useGet } from "./components";
import { BudgetsPage } from "./pages/budgets";
import { ConnectorPage, NewConnectorPage } from "./pages/connectors";
import { CostPage } from "./pages/cost";
import { HomePage } from "./pages/home";
import { JobsPage } from "./pages/jobs";
import { SecurityPage } from "./pages/security";
import {
  CONNECTOR_PAGES,
  LocationContext,
  connectorHref,
  legacyHashTarget,
  navigate,
  onLinkClick,
  parseRoute,
  useLocation,
  type Route,
} from "./router";

export interface Ctx {
  connector: Schemas["ConnectorOut"];
  connectorId: string;
  isAdmin: boolean;
  me: Schemas["UserOut"];
}

const LAST_CONNECTOR = "snowwatch.connector";
const EXPIRED = "Your session has expired. Sign in again to continue where you were.";

export function App() {
  const [cfg, setCfg] = useState<AuthConfig | null>(null);
  const [signedIn, setSignedIn] = useState<boolean>(() => storedToken() !== null);
  const [message, setMessage] = useState<string | undefined>();
  const loc = useLocation();
  const route = parseRoute(loc.path);

  useEffect(() => {
    loadConfig().then(async (c) => {
      // Before any page asks the API for anything (children's effects run before ours).
      setTokenSource({
        token: () => currentToken(c),
        unauthorized: () => {
          signOut();
          setSignedIn(false);
          setMessage(EXPIRED);
        },
      });
      setCfg(c);
      if (parseRoute(location.pathname).page === "callback" && c.mode === "oidc") {
        try {
          const back = await completeOidc(c);
          setSignedIn(true);
          navigate(back, { replace: true });
        } catch (e) {
          setMessage((e as Error).message);
          navigate("/", { replace: true });
        }
      }
    });
    const legacy = legacyHashTarget(location.hash, sessionStorage.getItem(LAST_CONNECTOR));
    if (legacy) navigate(legacy, { replace: true });
  }, []);


  // Renew an OIDC token before it expires; a pasted token that lapses returns to sign-in (URL kept).
  const [renewals, setRenewals] = useState(0);
  useEffect(() => {
    if (!cfg || !signedIn) return;
    const next = nextRenewal(cfg);
    if (!next) return;
    const t = setTimeout(
      async () => {
        if (next.renew && cfg.mode === "oidc" && (await renewOidc(cfg))) {
          setRenewals((n) => n + 1);
          return;
        }
        signOut();
        setSignedIn(false);
        setMessage(EXPIRED);
      },
      Math.max(0, next.at - Date.now()),
    );
    return () => clearTimeout(t);
  }, [cfg, signedIn, renewals]);

  if (!cfg || route.page === "callback") return <Loading what="Signing in" />;
  if (!signedIn) {
    return (
      <SignIn
        cfg={cfg}
        message={message}
        onToken={async (t) => {
          try {
            await api.me(t);
          } catch (e) {
            const err = e as ApiError;
            setMessage(err.status === 401 || err.status === 403 ? "That token was not accepted." : `Could not check the token: ${err.message}`);
            return;
          }
          keepToken(t);
          setMessage(undefined);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <LocationContext.Provider value={loc}>
      <Shell
        route={route}
        onSignOut={() => {
          signOut();
          setMessage(undefined);
          setSignedIn(false);
        }}
      />
    </LocationContext.Provider>
  );
}

export function SignIn({ cfg, message, onToken }: { cfg: AuthConfig; message?: string; onToken: (t: string) => void }) {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <main class="login" id="main">
      <div class="panel login-box">
        <h1 id="login-h">
          <span class="logo" aria-hidden="true">❄</span> snowwatch
        </h1>
        {message && (
          <p class="state error" role="alert">
            {message}
          </p>
        )}
        {cfg.mode === "oidc" ? (
          <>
            <p>Sign in with your organization's account.</p>
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                beginOidc(cfg, location.pathname + location.search).catch(() => setBusy(false));
              }}
            >
              Sign in
            </button>
          </>
        ) : (
          <form
            aria-labelledby="login-h"
            onSubmit={(e) => {
              e.preventDefault();
              const t = value.trim().replace(/^Bearer\s+/i, "");
              if (t) onToken(t);
            }}
          >
            <p>Sign in with an API token. Locally, `make demo` prints a dev token.</p>
            <label for="token">API token</label>
            <textarea
              id="token"
              name="token"
              rows={4}
              required
              autoComplete="off"
              spellcheck={false}
              value={value}
              onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
              aria-describedby="token-help"
            />
            <p id="token-help" class="muted small">
              Kept in this browser tab only (sessionStorage); closing the tab signs you out.
            </p>
            <button type="submit" class="primary">
              Sign in
            </button>
          </form>
        )}
      </div>
    </main>
  );
}

function Shell({ route, onSignOut }: { route: Route; onSignOut: () => void }) {
  const me = useGet("/api/me");
  const connectors = useGet("/api/connectors", { query: { limit: 500 } });
  const list = connectors.data?.items ?? [];
  const routeConnector = "connectorId" in route ? route.connectorId : undefined;
  const selected = list.find((c) => c.id === routeConnector);
  const fallback = list.find((c) => c.id === sessionStorage.getItem(LAST_CONNECTOR)) ?? list[0];
  const current = selected ?? fallback;
  useEffect(() => {
    if (selected) sessionStorage.setItem(LAST_CONNECTOR, selected.id);
  }, [selected?.id]);

  const isAdmin = me.data?.role === "admin";
  const ctx: Ctx | undefined = me.data && selected ? { connector: selected, connectorId: selected.id, isAdmin, me: me.data } : undefined;
  const page = route.page;

  const first = useRef(true);
  useEffect(() => {
    const title =
      page === "home" ? "Home" : page === "jobs" ? "Jobs" : page === "newconnector" ? "Add a connector" : (CONNECTOR_PAGES.find((p) => p.id === page)?.title ?? "");
    document.title = `${title}${selected ? ` · ${selected.name}` : ""} · snowwatch`;
    if (!first.current) document.getElementById("main")?.focus();
    first.current = false;
  }, [page, selected?.id]);

  let body;
  if (me.error) body = <ErrorBox error={me.error} onRetry={me.reload} />;
  else if (connectors.error) body = <ErrorBox error={connectors.error} onRetry={connectors.reload} />;
  else if (!me.data || !connectors.data) body = <Loading />;
  else if (page === "home") body = <HomePage connectors={list} />;
  else if (page === "jobs") body = <JobsPage me={me.data} connectors={list} />;
  else if (page === "newconnector")
    body = (
      <NewConnectorPage
        isAdmin={isAdmin}
        onCreated={(c) => {
          connectors.reload();
          navigate(connectorHref(c.id, "connector"));
        }}
      />
    );
  else if (page === "notfound") body = <div class="state empty">There is no such page. <a href="/" onClick={onLinkClick}>Go home</a>.</div>;
  else if (!selected) body = <div class="state error" role="alert">This connector does not exist or belongs to another organization.</div>;
  else if (ctx && page === "cost") body = <CostPage ctx={ctx} key={ctx.connectorId} />;
  else if (ctx && page === "budgets") body = <BudgetsPage ctx={ctx} budgetId={route.page === "budgets" ? route.budgetId : undefined} key={ctx.connectorId} />;
  else if (ctx && page === "connector") body = <ConnectorPage ctx={ctx} key={ctx.connectorId} />;
  else if (ctx) body = <SecurityPage ctx={ctx} key={ctx.connectorId} />;

  const connectorPage = CONNECTOR_PAGES.some((p) => p.id === page) ? (page as (typeof CONNECTOR_PAGES)[number]["id"]) : "security";
  return (
    <div class="layout">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/" onClick={onLinkClick}>
          <span class="logo" aria-hidden="true">❄</span> snowwatch
        </a>
        <nav aria-label="Pages">
          <ul class="tabs">
            <li>
              <a href="/" onClick={onLinkClick} aria-current={page === "home" ? "page" : undefined}>
                Home
              </a>
            </li>
            {current &&
              CONNECTOR_PAGES.map((p) => (
                <li key={p.id}>
                  <a href={connectorHref(current.id, p.id)} onClick={onLinkClick} aria-current={p.id === page ? "page" : undefined}>
                    {p.title}
                  </a>
                </li>
              ))}
            <li>
              <a href="/jobs" onClick={onLinkClick} aria-current={page === "jobs" ? "page" : undefined}>
                Jobs
              </a>
            </li>
          </ul>
        </nav>
        <div class="who">
          <label for="connector" class="sr-only">
            Connector
          </label>
          <select
            id="connector"
            value={current?.id ?? ""}
            disabled={!list.length}
            onChange={(e) => navigate(connectorHref((e.target as HTMLSelectElement).value, connectorPage))}
          >
            {!list.length && <option value="">No connector</option>}
            {list.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          {isAdmin && (
            <a class="link small" href="/connectors/new" onClick={onLinkClick} aria-current={page === "newconnector" ? "page" : undefined}>
              Add connector
            </a>
          )}
          <span class="whoami small" data-testid="whoami">
            {me.data ? `${me.data.email} · ${me.data.role}` : ""}
          </span>
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
      <footer class="footer muted small">snowwatch reads your Snowflake account and never changes it.</footer>
    </div>
  );
}
