"""Attribution keys of a query: its query tag and its dbt model, parsed one way for the sync, the rollups, the
queries/attribution endpoints and tag-scoped budgets.

- **Query tag** (``tag_key``): a plain tag as it is. A JSON object tag (dbt's ``query_tag`` macro, the
  dbt_snowflake_query_tags package) without the per-run keys (invocation id, run start, thread, versions), as compact
  JSON with sorted keys, so each run of a model lands in one group. Not an object: the raw text.
- **dbt model** (``dbt_model``): ``node_id`` (else ``node_name``) of, in order, a JSON query tag, the dbt query comment
  dbt appends at the end of the text (extracted on the Snowflake side, ``DBT_COMMENT``, because QUERY_TEXT is cut to
  10,000 characters), or a dbt comment at the start of the text (dbt's default, inside the first 10,000).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Keys that change with every run, not with what ran.
VOLATILE = frozenset(
    {"invocation_id", "run_started_at", "thread_id", "dbt_version", "dbt_snowflake_query_tags_version", "node_refs"}
)
MAX_KEY = 500
LEADING_COMMENT = re.compile(r"^\s*/\*(.*?)\*/", re.S)
TRAILING_COMMENT = re.compile(r"/\*([^*]*)\*/\s*;?\s*$", re.S)


def _object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def tag_key(query_tag: str | None) -> str | None:
    if query_tag is None or not query_tag.strip():
        return None
    obj = _object(query_tag)
    if obj is None:
        return query_tag[:MAX_KEY]
    stable = {k: v for k, v in obj.items() if k not in VOLATILE}
    return json.dumps(stable, sort_keys=True, separators=(",", ":"), default=str)[:MAX_KEY]


def _model(obj: dict[str, Any] | None) -> str | None:
    if not obj:
        return None
    for key in ("node_id", "node_name"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value[:MAX_KEY]
    return None


def _comment(text: str | None, pattern: re.Pattern[str]) -> dict[str, Any] | None:
    if not text:
        return None
    found = pattern.search(text)
    return _object(found.group(1)) if found else None


def dbt_model(query_tag: str | None, dbt_comment: str | None, query_text: str | None) -> str | None:
    return (
        _model(_object(query_tag))
        or _model(_comment(dbt_comment, TRAILING_COMMENT))
        or _model(_comment(query_text, LEADING_COMMENT))
    )


def enrich(source: dict[str, Any]) -> dict[str, Any]:
    """A QUERY_HISTORY row (upper-case keys) with TAG_KEY and DBT_MODEL."""
    return {
        **source,
        "TAG_KEY": tag_key(source.get("QUERY_TAG")),
        "DBT_MODEL": dbt_model(source.get("QUERY_TAG"), source.get("DBT_COMMENT"), source.get("QUERY_TEXT")),
    }
