"""What a notification says: subject, plain text, HTML and Slack Block Kit, from the outbox payload.

Budget alerts carry the fields budget_check writes (budget_name, percent, spend, amount, unit, ...).
Security alerts carry title, severity, description, rule_id, subject and optionally remediation_sql;
security incidents (``kind`` security_incident) the same without rule_id, the description listing their alerts.
Links are the dashboard URL from settings + the payload's ``dashboard_path``: the dashboard's own URL
of the item (``/connectors/{id}/budgets/{budget}``, ``/connectors/{id}/security?alert={alert}``), which
opens exactly that budget or alert on that connector. A security link also names the alert's rule, so
the dashboard finds the alert whatever its status and the list filters.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from snowwatch.models.notifications import Notification


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    link: str = ""


def _num(value: Any, places: int = 2) -> str:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{d:,.{places}f}"


def _money(value: Any, unit: str, currency: str) -> str:
    return f"{_num(value)} {currency}" if unit == "currency" else f"{_num(value)} credits"


def _link(dashboard_url: str, path: str | None, **query: Any) -> str:
    path = path or "/"
    extra = {k: str(v) for k, v in query.items() if v and f"{k}=" not in path}
    if extra:
        path += ("&" if "?" in path else "?") + urlencode(extra)
    return dashboard_url.rstrip("/") + path


def render(notification: Notification, dashboard_url: str) -> Rendered:
    if notification.source_type == "budget_alert":
        return _budget(notification.payload, dashboard_url)
    return _security(notification.payload, dashboard_url)


def _budget(p: dict[str, Any], dashboard_url: str) -> Rendered:
    unit, currency = str(p.get("unit", "credits")), str(p.get("currency", "USD"))
    threshold = p.get("threshold") or {}
    forecast = p.get("kind") == "forecast"
    percent = _num(p.get("percent"), 1)
    name = str(p.get("budget_name", "budget"))
    what = "is forecast to reach" if forecast else "has reached"
    subject = f"[snowwatch] Budget '{name}' {what} {percent}% ({p.get('period')})"
    if threshold.get("type") == "absolute":
        crossed = f"absolute threshold {_money(threshold.get('value'), unit, currency)}"
    else:
        crossed = f"{_num(threshold.get('value'), 0)}% threshold"
    link = _link(dashboard_url, p.get("dashboard_path"))
    period = f"{p.get('period_start')} to {p.get('period_end')}"
    lines = [
        f"Budget '{name}' on {p.get('connector_name')} {what} {percent}% of its {p.get('period')} amount "
        f"({crossed}, {'forecast' if forecast else 'actual'} spend).",
        "",
        f"Period:        {period}",
        f"Spend to date: {_money(p.get('spend'), unit, currency)}",
        f"Forecast:      {_money(p.get('forecast'), unit, currency)}",
        f"Budget:        {_money(p.get('amount'), unit, currency)}",
        "",
        f"Open the budget: {link}",
    ]
    rows = [
        ("Period", period),
        ("Spend to date", _money(p.get("spend"), unit, currency)),
        ("Forecast to period end", _money(p.get("forecast"), unit, currency)),
        ("Budget", _money(p.get("amount"), unit, currency)),
    ]
    e = html.escape
    body = (
        f"<html><body><h2>{e(subject)}</h2><p>{e(lines[0])}</p><table>"
        + "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
        + f"</table><p><a href='{e(link)}'>Open the budget in snowwatch</a></p></body></html>"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": lines[0]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in rows]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open budget"}, "url": link}],
        },
    ]
    return Rendered(subject=subject, text="\n".join(lines), html=body, blocks=blocks, link=link)


def _security(p: dict[str, Any], dashboard_url: str) -> Rendered:
    noun = "incident" if p.get("kind") == "security_incident" else "alert"
    severity = str(p.get("severity", "high")).upper()
    title = str(p.get("title", f"Security {noun}"))
    subject = f"[snowwatch] {severity} security {noun}: {title}"
    link = _link(dashboard_url, p.get("dashboard_path"), rule=p.get("rule_id"))
    description = str(p.get("description", ""))
    facts = [
        (k, str(p[key]))
        for k, key in (("Account", "connector_name"), ("Rule", "rule_id"), ("Subject", "subject"))
        if p.get(key)
    ]
    lines = [f"{severity}: {title}", "", description, "", *(f"{k}: {v}" for k, v in facts)]
    if p.get("remediation_sql"):
        lines += ["", "Suggested remediation:", str(p["remediation_sql"])]
    lines += ["", f"Open in snowwatch: {link}"]
    e = html.escape
    body = (
        f"<html><body><h2>{e(subject)}</h2><p>{e(description)}</p><ul>"
        + "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in facts)
        + "</ul>"
        + (f"<pre>{e(str(p['remediation_sql']))}</pre>" if p.get("remediation_sql") else "")
        + f"<p><a href='{e(link)}'>Open in snowwatch</a></p></body></html>"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": description[:2900] or title}},
    ]
    if facts:
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts]})
    blocks.append(
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": f"Open {noun}"}, "url": link}],
        }
    )
    return Rendered(subject=subject, text="\n".join(lines), html=body, blocks=blocks, link=link)
