// The shell: token login, who am I, connector picker, navigation (hash routes) and the four pages.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, CONNECTOR_KEY, getToken, paths, request, setToken, setUnauthorizedHandler } from "./api";
import { ErrorBox, Loading, useGet } from "./components";
import { itemsOf, pick, type Row } from "./format";
import { BudgetsPage } from "./pages/budgets";
import { CostPage } from "./pages/cost";
import { JobsPage } from "./pages/jobs";
import { SecurityPage } from "./pages/security";

export interface Ctx {
  connectorId: string;
  connector: Row | undefined;
  isAdmin: boolean;
  me: Row;
  currency: string;
}

const PAGES = [
  { id: "security", title: "Security" },
  { id: "cost", title: "Cost" },
  { id: "budgets", title: "Budgets" },
  { id: "jobs", title: "Jobs" },
] as const;
type PageId = (typeof PAGES)[number]["id"];

function currentPage(): PageId {
  const h = location.hash.replace(/^#\/?/, "");
  return (PAGES.find((p) => p.id === h)?.id ?? "security") as PageId;
}

export function Login({ onLogin, error }: { onLogin: (t: string) => void; error?: string }) {
  const [value, setValue] = useState("");
  return (
    <main class="login" id="main">
      <form
        class="panel login-box"
        aria-labelledby="login-h"
        onSubmit={(e) => {
          e.preventDefault();
          const t = value.trim().replace(/^Bearer\s+/i, "");
          if (t) onLogin(t);
        }}
      >
        <h1 id="login-h">
          <span class="logo" aria-hidden="true">❄</span> snowwatch
        </h1>
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
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

export function App() {
  const [token, setTok] = useState<string | null>(getToken());
  const [loginError, setLoginError] = useState<string | undefined>();
  const [page, setPage] = useState<PageId>(currentPage());

  useEffect(() => {
    const f = () => setPage(currentPage());
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      setTok(null);
      setLoginError("Your session has expired or the token is not valid. Sign in again.");
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  if (!token) {
    return (
      <Login
        error={loginError}
        onLogin={async (t) => {
          try {
            await request("GET", paths.me, { token: t });
          } catch (e) {
            const err = e as ApiError;
            setLoginError(
              err.status === 401 || err.status === 403
                ? "That token was not accepted."
                : `Could not check the token: ${err.message}`,
            );
            return;
          }
          setToken(t);
          setLoginError(undefined);
          setTok(t);
        }}
      />
    );
  }
  return (
    <Shell
      page={page}
      onSignOut={() => {
        setToken(null);
        setTok(null);
      }}
    />
  );
}

function Shell({ page, onSignOut }: { page: PageId; onSignOut: () => void }) {
  const me = useGet<Row>(paths.me);
  const connectors = useGet<unknown>(paths.connectors, { limit: 500 });
  const list = itemsOf<Row>(connectors.data);
  const [connectorId, setConnectorId] = useState<string>(() => sessionStorage.getItem(CONNECTOR_KEY) ?? "");
  const selected = list.find((c) => String(c.id) === connectorId);
  useEffect(() => {
    if (list.length && !selected) {
      const first = String(list[0].id);
      setConnectorId(first);
      sessionStorage.setItem(CONNECTOR_KEY, first);
    }
  }, [list.length, selected]);

  const role = String(pick(me.data, "role") ?? "member");
  const ctx: Ctx | undefined =
    me.data && selected
      ? {
          connectorId: String(selected.id),
          connector: selected,
          isAdmin: role === "admin",
          me: me.data,
          currency: String(pick(selected, "currency") ?? "USD"),
        }
      : undefined;

  return (
    <div class="layout">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true">❄</span> snowwatch
        </div>
        <nav aria-label="Pages">
          <ul class="tabs">
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === page ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <label for="connector" class="sr-only">
            Connector
          </label>
          <select
            id="connector"
            value={connectorId}
            disabled={!list.length}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setConnectorId(v);
              sessionStorage.setItem(CONNECTOR_KEY, v);
            }}
          >
            {!list.length && <option value="">No connector</option>}
            {list.map((c) => (
              <option key={String(c.id)} value={String(c.id)}>
                {String(c.name ?? c.account_identifier ?? c.id)}
              </option>
            ))}
          </select>
          <span class="muted small" data-testid="whoami">
            {me.data ? `${String(me.data.email ?? "")} · ${role}` : ""}
          </span>
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {me.error ? (
          <ErrorBox error={me.error} onRetry={me.reload} />
        ) : connectors.error ? (
          <ErrorBox error={connectors.error} onRetry={connectors.reload} />
        ) : me.loading || connectors.loading ? (
          <Loading />
        ) : !list.length ? (
          page === "jobs" && me.data ? (
            <JobsPage ctx={{ connectorId: "", connector: undefined, isAdmin: role === "admin", me: me.data, currency: "USD" }} />
          ) : (
            <div class="state empty">
              No Snowflake connector yet. An admin adds one with <code>POST /api/connectors</code>.
            </div>
          )
        ) : ctx ? (
          <Page page={page} ctx={ctx} />
        ) : (
          <Loading />
        )}
      </main>
      <footer class="footer muted small">
        snowwatch reads your Snowflake account and never changes it. All times are UTC.
      </footer>
    </div>
  );
}

function Page({ page, ctx }: { page: PageId; ctx: Ctx }) {
  const first = useRef(true);
  useEffect(() => {
    const t = PAGES.find((p) => p.id === page)?.title ?? "";
    document.title = `${t} · snowwatch`;
    // After navigating, move focus to the content so screen readers start at the new page.
    if (!first.current) document.getElementById("main")?.focus();
    first.current = false;
  }, [page]);
  switch (page) {
    case "cost":
      return <CostPage ctx={ctx} key={ctx.connectorId} />;
    case "budgets":
      return <BudgetsPage ctx={ctx} key={ctx.connectorId} />;
    case "jobs":
      return <JobsPage ctx={ctx} key={ctx.connectorId} />;
    default:
      return <SecurityPage ctx={ctx} key={ctx.connectorId} />;
  }
}

