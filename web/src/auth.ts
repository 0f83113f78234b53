// The session: which token the API gets, how it is obtained and renewed.
//
// The runtime config `/config.json` (served beside the app; in AWS the dashboard construct writes it)
// chooses the sign-in:
//   {"auth": {"mode": "token"}}                    paste a token (locally: the dev token `make demo` prints)
//   {"auth": {"mode": "oidc", "issuer": "...", "client_id": "...", "scope": "openid email profile",
//             "api_token": "id_token" | "access_token"}}
//                                                   OIDC authorization code + PKCE (S256) against the IdP
// Tokens live in sessionStorage only (closing the tab signs out). OIDC tokens are refreshed before they
// expire (refresh_token grant); a session that cannot be renewed returns to sign-in, and the URL stays.

export const TOKEN_KEY = "snowwatch.token";
const OIDC_KEY = "snowwatch.oidc";
const PENDING_KEY = "snowwatch.oidc.pending";
export const CALLBACK_PATH = "/signin/callback";

export type AuthConfig =
  | { mode: "token" }
  | {
      mode: "oidc";
      issuer: string;
      client_id: string;
      scope?: string;
      api_token?: "id_token" | "access_token";
      authorization_endpoint?: string;
      token_endpoint?: string;
    };

export async function loadConfig(): Promise<AuthConfig> {
  try {
    const res = await fetch("/config.json", { headers: { Accept: "application/json" }, cache: "no-store" });
    const cfg = (await res.json()) as { auth?: AuthConfig };
    if (cfg.auth?.mode === "oidc" && cfg.auth.issuer && cfg.auth.client_id) return cfg.auth;
  } catch {
    // no config (a plain local build): token sign-in
  }
  return { mode: "token" };
}

interface OidcSession {
  token: string;
  refresh_token?: string;
  expires_at: number; // ms
}

/** A JWT's `exp` or `iat` (seconds since the epoch) in ms; undefined for anything else. */
export function jwtTime(token: string, claim: "exp" | "iat"): number | undefined {
  try {
    const json = JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    return typeof json[claim] === "number" ? json[claim] * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** When to renew a token valid until `expiresAt`: a minute before, or at three quarters of a short life. */
export function refreshAt(issuedAt: number, expiresAt: number): number {
  const life = expiresAt - issuedAt;
  return expiresAt - Math.min(60_000, life / 4);
}

function read<T>(key: string): T | null {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function storedToken(): string | null {
  const oidc = read<OidcSession>(OIDC_KEY);
  if (oidc) return oidc.token;
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function keepToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OIDC_KEY);
}

// ---------------------------------------------------------------- OIDC authorization code + PKCE
interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function endpoints(cfg: Extract<AuthConfig, { mode: "oidc" }>): Promise<Endpoints> {
  if (cfg.authorization_endpoint && cfg.token_endpoint) {
    return { authorization_endpoint: cfg.authorization_endpoint, token_endpoint: cfg.token_endpoint };
  }
  const res = await fetch(`${cfg.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error("The sign-in provider cannot be reached.");
  return (await res.json()) as Endpoints;
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

/** Sends the browser to the IdP; it comes back to CALLBACK_PATH, then to `returnTo`. */
export async function beginOidc(cfg: Extract<AuthConfig, { mode: "oidc" }>, returnTo: string): Promise<void> {
  const ep = await endpoints(cfg);
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: redirectUri(),
    scope: cfg.scope ?? "openid email profile",
    state,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${ep.authorization_endpoint}?${q}`);
}

async function tokenRequest(cfg: Extract<AuthConfig, { mode: "oidc" }>, form: Record<string, string>): Promise<OidcSession> {
  const ep = await endpoints(cfg);
  const res = await fetch(ep.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({ client_id: cfg.client_id, ...form }),
  });
  if (!res.ok) throw new Error("The sign-in provider refused the request.");
  const t = (await res.json()) as { id_token?: string; access_token?: string; refresh_token?: string; expires_in?: number };
  const token = (cfg.api_token ?? "id_token") === "id_token" ? (t.id_token ?? t.access_token) : t.access_token;
  if (!token) throw new Error("The sign-in provider sent no token.");
  const previous = read<OidcSession>(OIDC_KEY);
  const session: OidcSession = {
    token,
    refresh_token: t.refresh_token ?? previous?.refresh_token,
    expires_at: jwtTime(token, "exp") ?? Date.now() + (t.expires_in ?? 3600) * 1000,
  };
  sessionStorage.setItem(OIDC_KEY, JSON.stringify(session));
  return session;
}

/** On CALLBACK_PATH: trades the code for tokens; answers where to go next. */
export async function completeOidc(cfg: Extract<AuthConfig, { mode: "oidc" }>): Promise<string> {
  const params = new URLSearchParams(location.search);
  const pending = read<{ verifier: string; state: string; returnTo: string }>(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (params.get("error")) throw new Error(`Sign-in was not completed (${params.get("error")}).`);
  if (!pending || params.get("state") !== pending.state || !params.get("code")) {
    throw new Error("This sign-in answer does not belong to this tab. Sign in again.");
  }
  await tokenRequest(cfg, {
    grant_type: "authorization_code",
    code: params.get("code")!,
    redirect_uri: redirectUri(),
    code_verifier: pending.verifier,
  });
  return pending.returnTo || "/";
}

let renewing: Promise<OidcSession | null> | null = null;

/** Renews the OIDC session with its refresh token (one request at a time); null when it cannot. */
export function renewOidc(cfg: Extract<AuthConfig, { mode: "oidc" }>): Promise<OidcSession | null> {
  const current = read<OidcSession>(OIDC_KEY);
  if (!current?.refresh_token) return Promise.resolve(null);
  renewing ??= tokenRequest(cfg, { grant_type: "refresh_token", refresh_token: current.refresh_token })
    .catch(() => null)
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

/** The token to send now: an OIDC token close to expiry is renewed first. */
export async function currentToken(cfg: AuthConfig): Promise<string | null> {
  if (cfg.mode === "oidc") {
    const s = read<OidcSession>(OIDC_KEY);
    if (!s) return null;
    if (Date.now() >= s.expires_at - 5_000) return (await renewOidc(cfg))?.token ?? null;
    return s.token;
  }
  return storedToken();
}

/** When the current token should be renewed (OIDC) or will lapse (a pasted token); undefined if unknown. */
export function nextRenewal(cfg: AuthConfig): { at: number; renew: boolean } | undefined {
  if (cfg.mode === "oidc") {
    const s = read<OidcSession>(OIDC_KEY);
    if (!s) return undefined;
    const issued = jwtTime(s.token, "iat") ?? s.expires_at - 3600_000;
    return { at: refreshAt(issued, s.expires_at), renew: true };
  }
  const t = storedToken();
  const exp = t ? jwtTime(t, "exp") : undefined;
  return exp === undefined ? undefined : { at: exp, renew: false };
}
