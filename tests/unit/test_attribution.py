"""The one parser of query tags and dbt query comments (sync, rollups, endpoints, tag-scoped budgets)."""

from __future__ import annotations

import json

from snowwatch.services.attribution import dbt_model, enrich, tag_key

TAG = {"app": "dbt", "node_id": "model.shop.orders", "invocation_id": "abc", "run_started_at": "2026-11-30T01:00:00"}
COMMENT = '/* {"app": "dbt", "dbt_version": "1.8.0", "node_id": "model.shop.customers", "target_name": "prod"} */'


def test_plain_tags_stay_and_json_tags_lose_their_per_run_keys() -> None:
    """Given a plain tag, then it is its own key; given two runs of one dbt model, then they share one key."""
    assert tag_key("finance") == "finance"
    assert tag_key("  ") is None and tag_key(None) is None
    other_run = json.dumps({**TAG, "invocation_id": "def", "run_started_at": "2026-11-30T02:00:00"})
    assert tag_key(json.dumps(TAG)) == tag_key(other_run) == '{"app":"dbt","node_id":"model.shop.orders"}'
    assert tag_key("{not json") == "{not json"


def test_dbt_model_from_the_tag_then_the_appended_comment_then_a_leading_comment() -> None:
    """Given the JSON tag, the comment dbt appends (extracted in Snowflake) or a leading comment, then the model is
    the node_id, in that order of precedence; anything else has no model."""
    assert dbt_model(json.dumps(TAG), COMMENT, None) == "model.shop.orders"
    assert dbt_model("finance", COMMENT + ";\n", "select 1") == "model.shop.customers"
    assert dbt_model(None, None, COMMENT + "\nselect * from x") == "model.shop.customers"
    assert dbt_model(None, "/* not json */", "select 1 /* trailing, but cut */") is None
    row = enrich({"QUERY_TAG": json.dumps(TAG), "QUERY_TEXT": "select 1", "DBT_COMMENT": None})
    assert row["DBT_MODEL"] == "model.shop.orders" and row["TAG_KEY"].startswith('{"app":"dbt"')
