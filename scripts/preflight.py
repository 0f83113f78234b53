"""Before a first deploy: read the account's Lambda concurrency quota and the SES sender's identity
and sandbox status, and say what to change. `make preflight [CONTEXT="-c ses_sender=..."]`.

Without AWS credentials it says so, explains how to provide them, and exits 0 (nothing to check).
With credentials it exits 1 when something must change before `cdk deploy` would succeed or the
stack could do its job, else 0. A check the account does not let us read is reported with the
command to run by hand, not guessed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError  # noqa: E402

from infra.constants import JOB_SPECS, NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY  # noqa: E402
from infra.context import cdk_json_context, context_args  # noqa: E402

# Concurrency the stack can use at once: every job queue's event-source maximum, the notifications
# queue's, and headroom for the API and the authorizer.
API_HEADROOM = 10
NEEDED_CONCURRENCY = (
    sum(s.max_concurrency for s in JOB_SPECS.values()) + NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY + API_HEADROOM
)
SES_SANDBOX_DAILY_QUOTA = 200  # messages a day while an account is in the SES sandbox

NO_CREDENTIALS = """no AWS credentials found: nothing to check yet.
Provide credentials for the account you will deploy to, then run `make preflight` again:
  - `aws configure` (or `aws sso login --profile NAME` and `export AWS_PROFILE=NAME`), or
  - AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) and AWS_REGION.
It will read the Lambda concurrency quota and the SES sender identity; see docs/deploy.md."""


@dataclass(frozen=True)
class Finding:
    level: str  # ok | change | unknown
    what: str
    advice: str = ""

    def line(self) -> str:
        mark = {"ok": "ok     ", "change": "CHANGE ", "unknown": "CHECK  "}[self.level]
        return f"{mark} {self.what}" + (f"\n        -> {self.advice}" if self.advice else "")


def concurrency_finding(limit: int | None, reason: str = "") -> Finding:
    if limit is None:
        return Finding(
            "unknown",
            f"Lambda concurrency quota: could not read it ({reason})",
            "run `aws lambda get-account-settings` and compare AccountLimit.ConcurrentExecutions with "
            f"{NEEDED_CONCURRENCY}",
        )
    if limit < NEEDED_CONCURRENCY:
        return Finding(
            "change",
            f"Lambda concurrency quota is {limit}; snowwatch can use {NEEDED_CONCURRENCY} at once "
            "(job queues' maximum concurrency + notifications + API)",
            "request an increase in Service Quotas: Lambda 'Concurrent executions' (L-B99A9384), "
            f"to at least {NEEDED_CONCURRENCY}. The deploy itself reserves nothing and succeeds meanwhile; "
            "jobs are throttled (and retried from their queues) until then.",
        )
    return Finding("ok", f"Lambda concurrency quota {limit} >= {NEEDED_CONCURRENCY}")


def ses_identity_finding(sender: str, status: str | None, create: bool) -> Finding:
    domain = sender.rpartition("@")[2]
    if status == "Success":
        return Finding("ok", f"SES identity for {sender} is verified (imported by the stack)")
    if create:
        return Finding(
            "ok",
            f"SES identity for {sender} will be created by the stack (ses_create_identity=true)",
            f"click the verification link AWS mails to {sender} after the deploy",
        )
    return Finding(
        "change",
        f"SES identity for {sender} (or its domain {domain}) is {status or 'missing'}; the stack imports it",
        f"verify it first (`aws sesv2 create-email-identity --email-identity {sender}`, then click the link), "
        "or deploy with `-c ses_create_identity=true` if no other stack of this account created it",
    )


def ses_sandbox_finding(production: bool | None, daily_quota: float | None) -> Finding:
    sandbox = (not production) if production is not None else (daily_quota or 0) <= SES_SANDBOX_DAILY_QUOTA
    if sandbox:
        return Finding(
            "change",
            "SES: this account is in the sandbox (mail only to verified recipients, 200 a day)",
            "request production access (SES console > Account dashboard, or `aws sesv2 put-account-details`); "
            "until then verify each alert recipient",
        )
    return Finding("ok", "SES: production access")


def run_checks(session: Any, context: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    try:
        settings = session.client("lambda").get_account_settings()
        findings.append(concurrency_finding(int(settings["AccountLimit"]["ConcurrentExecutions"])))
    except (BotoCoreError, ClientError) as exc:
        findings.append(concurrency_finding(None, type(exc).__name__))

    sender = str(context["ses_sender"])
    create = str(context.get("ses_create_identity", "")).lower() in ("1", "true", "yes", "on")
    ses = session.client("ses")
    domain = sender.rpartition("@")[2]
    attributes = ses.get_identity_verification_attributes(Identities=[sender, domain])["VerificationAttributes"]
    statuses = [attributes.get(i, {}).get("VerificationStatus") for i in (sender, domain)]
    findings.append(ses_identity_finding(sender, "Success" if "Success" in statuses else statuses[0], create))

    production: bool | None = None
    try:
        production = bool(session.client("sesv2").get_account().get("ProductionAccessEnabled"))
    except (BotoCoreError, ClientError):
        production = None
    findings.append(ses_sandbox_finding(production, float(ses.get_send_quota()["Max24HourSend"])))
    return findings


def main(argv: list[str]) -> int:
    context = {**cdk_json_context(), **context_args(argv)}
    session = boto3.Session()
    if session.get_credentials() is None:
        print(NO_CREDENTIALS)
        return 0
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        print(NO_CREDENTIALS)
        return 0
    except (BotoCoreError, ClientError) as exc:
        print(f"credentials were found but AWS refused them ({type(exc).__name__}): fix them and run again")
        return 1
    region = session.region_name or "(no region: set AWS_REGION)"
    print(f"account {identity['Account']}, region {region}, profile {context.get('profile', 'lean')}")
    findings = run_checks(session, context)
    for finding in findings:
        print(finding.line())
    changes = [f for f in findings if f.level == "change"]
    print(f"{len(changes)} to change before deploying" if changes else "ready to deploy (docs/deploy.md)")
    return 1 if changes else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
