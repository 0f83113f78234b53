"""The detection rules: one module per rule family, each declaring ``RULES`` (see ``base.Rule``).

The registry is every family module of this package, in module-name order; adding a rule touches its
family module (and its test), nothing else: the evaluation, the alert lifecycle and
docs/security-rules.md (``render_rules_table``; a unit test fails when the file drifts) follow it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.models.security import Finding
from snowwatch.observability import logger, metrics
from snowwatch.services.security_rules.base import Rule

NOT_FAMILIES = ("base",)

# The families are discovered, not listed, so that a new family module needs no edit here.
FAMILIES = tuple(
    importlib.import_module(f"{__name__}.{m.name}")
    for m in pkgutil.iter_modules(__path__)
    if m.name not in NOT_FAMILIES
)
RULES: list[Rule[Any]] = [r for family in FAMILIES for r in family.RULES]


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    per_rule: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def evaluate(
    conn: Connection, connector_id: UUID, now: datetime, rules: Sequence[Rule[Any]] | None = None
) -> Evaluation:
    """Run every rule (``rules``: the registry by default). A rule that raises is recorded in ``errors``
    (and logged, and counted as a metric) and never stops the others. The connection is in autocommit mode
    here: a failed statement poisons nothing."""
    out = Evaluation()
    for r in RULES if rules is None else rules:
        try:
            found = r.run(conn, connector_id, now)
        except Exception as exc:
            logger.exception("security rule failed", extra={"rule_id": r.id})
            metrics.add_metric(name="security_rule_failures", unit="Count", value=1)
            out.errors[r.id] = f"{type(exc).__name__}: {str(exc)[:300]}"
            if getattr(conn, "broken", False):  # a client-side failure discards the connection: nothing can run
                for rest in (rules_ := list(RULES if rules is None else rules))[rules_.index(r) + 1 :]:
                    out.errors[rest.id] = "not run: the database connection was lost"
                break
            continue
        out.per_rule[r.id] = len(found)
        out.findings.extend(found)
    return out


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_rules_table(rules: Sequence[Rule[Any]] = tuple(RULES)) -> str:
    """The rules table of docs/security-rules.md, generated from the registry."""
    lines = [
        f"{len(rules)} rules.",
        "",
        "| Rule id | Severity | Family | Incident subject | What fires | Rationale |",
        "|---|---|---|---|---|---|",
    ]
    for r in rules:
        family = r.judge.__module__.rsplit(".", 1)[-1]
        grouped = r.incident or "—"
        lines.append(f"| `{r.id}` | {r.severity} | {family} | {grouped} | {_cell(r.fires)} | {_cell(r.rationale)} |")
    return "\n".join(lines) + "\n"


DOC_BEGIN = "<!-- rules:begin (generated from the registry: make security-docs) -->"
DOC_END = "<!-- rules:end -->"


def with_rules_table(doc: str, rules: Sequence[Rule[Any]] = tuple(RULES)) -> str:
    """``doc`` (docs/security-rules.md) with the text between its markers replaced by the generated table."""
    head, found, rest = doc.partition(DOC_BEGIN)
    _, found_end, tail = rest.partition(DOC_END)
    if not (found and found_end):
        raise ValueError("the rules markers are missing from the document")
    return f"{head}{DOC_BEGIN}\n{render_rules_table(rules)}{DOC_END}{tail}"
