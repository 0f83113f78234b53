"""The packages work as deployed: every function of the synthesized template, imported from its staged
asset directory and its layers alone by a fresh interpreter (`python -I -S`: no virtualenv, no
site-packages), with the environment the template gives it, invoked against the local stack.

The dependency layers are the deployed ones rebuilt from the same pins by the same script
(scripts/build_layers.py) for this machine's architecture and an interpreter it has, cached on the
pins like `make layers`. What the template gives as a CloudFormation reference (the database
endpoint, a queue URL) is replaced by its local counterpart: the family's Postgres role on the local
server (IAM auth and TLS are AWS-only), the moto queues. Duration: bench/ does not time it; the
test's own `--durations` line in `make test` shows it.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from snowwatch.schedules import JOBS
from snowwatch_local.stack import ADMIN
from tests.conftest import role_url

from .conftest import Synth
from .packaged_arrow_probe import _typed

pytestmark = pytest.mark.infrastructure

RUNNER = Path(__file__).with_name("packaged_runner.py")
LOCAL_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
# Template values that stay as they are; anything else that is not a plain string must be mapped here.
DB_KEYS = {"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_IAM_AUTH", "DB_SSL", "DB_CA_BUNDLE_URL", "DB_SECRET_ARN"}


def _runs(python: str) -> bool:
    done = subprocess.run([python, "-I", "-S", "-c", "pass"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def local_python(wanted: str) -> tuple[str, str]:
    """An interpreter of this machine: the runtime's version if present, else the newest 3.x (from
    PATH or pyenv's versions), else the one running the tests."""
    for minor in range(int(wanted.split(".")[1]), 10, -1):
        name = f"python3.{minor}"
        candidates = [shutil.which(name), *sorted(Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/{name}"))]
        for found in candidates:
            if found and _runs(str(found)):
                return str(found), f"3.{minor}"
    return sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def local_layers(layers_built: ModuleType) -> tuple[str, dict[str, Path]]:
    """(interpreter, layer name -> directory) for this machine: the deployed layers where the
    platform matches, else the same pins built for it (cached on the pins)."""
    python, version = local_python(layers_built.PYTHON_VERSION)
    dirs = layers_built.build(arch=LOCAL_ARCH, python=version)
    return python, {"Packagingdepsbase": dirs["base"], "Packagingdepssnowflake": dirs["snowflake"]}


def _asset_dir(synth: Synth, code: dict[str, Any]) -> Path:
    key = code["S3Key"]
    path = synth.outdir / f"asset.{key.removesuffix('.zip')}"
    assert path.is_dir(), f"no staged asset for {key}"
    return path


def packaged_paths(synth: Synth, props: dict[str, Any], local: dict[str, Path]) -> list[str]:
    """What Lambda puts on sys.path: the function's code, then each layer's python/ folder in order."""
    paths = [str(_asset_dir(synth, props["Code"]))]
    for ref in props["Layers"]:
        logical_id = ref["Ref"]
        prefix = next((p for p in local if logical_id.startswith(p)), None)
        layer = local[prefix] if prefix else _asset_dir(synth, synth.resources[logical_id]["Properties"]["Content"])
        paths.append(str(layer / "python"))
    return paths


def local_environment(template_env: dict[str, Any], stack: Any) -> dict[str, str]:
    """The template's environment with its CloudFormation references replaced by the local stack's."""
    env: dict[str, str] = {}
    for key, value in template_env.items():
        if key in DB_KEYS:
            continue
        if isinstance(value, str):
            env[key] = value
        elif key == "JOB_QUEUES":
            text = json.dumps(value)
            env[key] = json.dumps(
                {job: url for job, url in stack.moto.job_queue_urls.items() if f'\\"{job}\\"' in text}
            )
        elif key == "NOTIFY_QUEUE_URL":
            env[key] = stack.moto.notify_queue_url
        elif key == "DASHBOARD_URL":
            env[key] = "http://localhost:3001"
        else:
            raise AssertionError(f"no local value for {key}={value}")
    if template_env.get("DB_IAM_AUTH") == "true":  # locally: the same role, over the local server's trust auth
        env["DATABASE_URL"] = role_url(stack, str(template_env["DB_USER"]))
    elif "DB_SECRET_ARN" in template_env:  # migrate: the master user
        env["DATABASE_URL"] = stack.database_url
    assert stack.moto and stack.fakesnow
    env |= {
        "AWS_ENDPOINT_URL": stack.moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": str(stack.fakesnow.port),
        "SNOWFLAKE_PROTOCOL": "http",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    }
    return env


def invoke_packaged(python: str, paths: list[str], handler: str, env: dict[str, str], events: list[Any]) -> Any:
    done = subprocess.run(
        [python, "-I", "-S", str(RUNNER)],
        input=json.dumps({"paths": paths, "handler": handler, "env": env, "events": events}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def events_for(name: str, stack: Any) -> list[Any]:
    from snowwatch.models.users import Claims
    from snowwatch.services.auth import authorizer_context
    from snowwatch_local.apigw import rest_event

    cid = str(stack.connector_id)
    if name == "api":
        context = authorizer_context(Claims(**ADMIN))
        return [
            rest_event("GET", "/health"),
            rest_event("GET", f"/api/connectors/{cid}/cost/overview", authorizer=context),
        ]
    if name == "authorizer":
        return [{"type": "TOKEN", "authorizationToken": "Bearer not.a.jwt", "methodArn": "arn:aws:execute-api:x"}]
    if name == "migrate":
        return [{}]
    if name == "budget_check":  # through its queue, as the event source mapping delivers it
        arn = f"arn:aws:sqs:us-east-1:123456789012:{stack.moto.job_queue_urls['budget_check'].rsplit('/', 1)[-1]}"
        record = {"messageId": "m1", "receiptHandle": "r1", "body": json.dumps({"trigger": "manual"}),
                  "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
                  "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}  # fmt: skip
        return [{"Records": [record]}]
    payload: dict[str, Any] = {"trigger": "manual"}
    if name in ("sync", "security"):
        payload["connector_id"] = cid
    if name == "sync":
        payload["mode"] = "metering"
    if name == "notify":
        payload["mode"] = "relay"
    return [payload]


def check(name: str, outcomes: list[dict[str, Any]]) -> None:
    if name == "authorizer":  # a malformed token is refused: the packaged PyJWT and settings work
        assert outcomes == [{"ok": False, "error": "Exception: Unauthorized"}]
        return
    assert all(o["ok"] for o in outcomes), outcomes
    results = [o["result"] for o in outcomes]
    if name == "api":
        assert [r["statusCode"] for r in results] == [200, 200], results
        assert "money" in json.loads(results[1]["body"])
    elif name == "migrate":
        assert results == [{"applied": []}]
    elif name == "budget_check":
        assert results == [{"batchItemFailures": []}]
    else:
        assert results[0]["status"] == "succeeded", results


def _our_functions(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        props["FunctionName"].removeprefix("Snowwatch-"): props
        for fn in synth.of_type("AWS::Lambda::Function").values()
        if isinstance(props := fn["Properties"], dict) and str(props.get("FunctionName", "")).startswith("Snowwatch-")
    }


@pytest.mark.parametrize("name", ["api", "authorizer", "migrate", *JOBS])
def test_the_packaged_function_runs(
    name: str, synth: Synth, stack: Any, local_layers: tuple[str, dict[str, Path]]
) -> None:
    """Given a function of the synthesized template, its staged asset and its layers (rebuilt for this
    machine from the same pins), alone on the path of a fresh `python -I -S`, with its template environment
    When its handler is imported and invoked against the local stack (the API: /health and a cost route;
    the authorizer: a malformed token; migrate: once; each job: one run)
    Then it answers as deployed, and nothing was imported from outside its packages and the standard library."""
    python, local = local_layers
    props = _our_functions(synth)[name]
    paths = packaged_paths(synth, props, local)
    env = local_environment(props["Environment"]["Variables"], stack)
    answer = invoke_packaged(python, paths, props["Handler"], env, events_for(name, stack))
    assert answer["foreign_modules"] == []
    check(name, answer["outcomes"])


PROBE = Path(__file__).with_name("packaged_arrow_probe.py")
PRUNED_MODULES = ("pyarrow.flight", "pyarrow.parquet", "pyarrow.dataset", "pyarrow.substrait", "pyarrow.acero")
# A QUERY_HISTORY batch as the connector gives it (upper-case names): a dbt model's query with a JSON tag, a plain
# query with a key:value tag, and a row without a start time (fakesnow's NULL-as-epoch), which the path drops.
_QUERY = {
    "QUERY_TEXT": "select 1", "QUERY_TYPE": "SELECT", "USER_NAME": "ANA", "ROLE_NAME": "ANALYST",
    "WAREHOUSE_ID": 7, "WAREHOUSE_NAME": "WH", "WAREHOUSE_SIZE": "X-Small", "QUERY_TAG": None,
    "EXECUTION_STATUS": "SUCCESS", "ERROR_CODE": None, "START_TIME": "2026-11-02T10:00:00+00:00",
    "END_TIME": "2026-11-02T10:00:05+00:00", "TOTAL_ELAPSED_TIME": 5000, "EXECUTION_TIME": 4000,
    "COMPILATION_TIME": 900, "QUEUED_PROVISIONING_TIME": 0, "QUEUED_REPAIR_TIME": 0, "QUEUED_OVERLOAD_TIME": 100,
    "LIST_EXTERNAL_FILES_TIME": 0, "BYTES_SCANNED": 1024, "PERCENTAGE_SCANNED_FROM_CACHE": 0.5,
    "PARTITIONS_SCANNED": 1, "PARTITIONS_TOTAL": 4, "BYTES_SPILLED_TO_LOCAL_STORAGE": 0,
    "BYTES_SPILLED_TO_REMOTE_STORAGE": 0, "ROWS_PRODUCED": 1, "CREDITS_USED_CLOUD_SERVICES": "0.000125",
    "QUERY_HASH": "h1", "QUERY_PARAMETERIZED_HASH": "p1", "DBT_COMMENT": None,
}  # fmt: skip
BATCH = [
    _QUERY | {"QUERY_ID": "q-dbt", "QUERY_TAG": '{"team": "data", "node_id": "model.shop.orders"}',
              "QUERY_TEXT": 'select "quoted", \\N from orders'},
    _QUERY | {"QUERY_ID": "q-plain", "QUERY_TAG": "team:data", "ERROR_CODE": "", "QUERY_TEXT": "x" * 10_050},
    _QUERY | {"QUERY_ID": "q-epoch", "START_TIME": "1970-01-01T00:00:00+00:00"},
]  # fmt: skip


def _expected_arrow_path(batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The load table and CSV the test environment's (unpruned) pyarrow gives for the probe's batch."""
    import pyarrow as pa

    from snowwatch.db.arrow_copy import csv_chunks
    from snowwatch.services.query_arrow import load_table

    table = load_table(pa.Table.from_pylist([_typed(r) for r in batch]))
    rows = json.loads(json.dumps(table.to_pylist(), default=str))
    return rows, b"".join(csv_chunks(table, chunk_rows=1)).decode()


def test_the_packaged_arrow_path_runs_on_the_pruned_layer(
    synth: Synth, local_layers: tuple[str, dict[str, Path]]
) -> None:
    """Given the sync function's asset and layers (the snowflake layer with pyarrow pruned by the build), alone on
    the path of a fresh `python -I -S`
    When pyarrow, pyarrow.compute and pyarrow.csv are imported and a small QUERY_HISTORY batch goes through
    query_arrow.load_table and arrow_copy.csv_chunks
    Then pyarrow comes from the snowflake layer, the sync picks the Arrow converter, the load table and the CSV
    are the test environment's (unpruned pyarrow) to the character, and the pruned modules are gone."""
    python, local = local_layers
    paths = packaged_paths(synth, _our_functions(synth)["sync"], local)
    done = subprocess.run(
        [python, "-I", "-S", str(PROBE)],
        input=json.dumps({"paths": paths, "batch": BATCH}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["pyarrow"].startswith(str(local["Packagingdepssnowflake"] / "python" / "pyarrow"))
    assert answer["converter"] == "snowwatch.services.query_arrow.load_table"
    rows, csv = _expected_arrow_path(BATCH)
    assert answer["table"] == rows
    assert answer["csv"] == csv
    assert [r["query_id"] for r in rows] == ["q-dbt", "q-plain"]
    assert [(r["tag_key"], r["dbt_model"]) for r in rows] == [
        ('{"node_id":"model.shop.orders","team":"data"}', "model.shop.orders"),
        ("team:data", None),
    ]
    assert len(rows[1]["query_text"]) == 10_000
    assert all(answer["pruned"][m] == "ModuleNotFoundError" for m in PRUNED_MODULES), answer["pruned"]
    assert answer["foreign_modules"] == []


def test_the_packaged_sync_reads_query_history_as_arrow(
    synth: Synth, stack: Any, local_layers: tuple[str, dict[str, Path]]
) -> None:
    """Given the packaged sync function (its asset and layers alone on a fresh `python -I -S`) and a new connector
    on the synthetic account
    When it runs a full sync against the local stack
    Then it succeeds, QUERY_HISTORY was loaded through the Arrow path (the connector's Arrow batches into COPY:
    db/arrow_copy was imported) with every source row, and nothing came from outside its packages."""
    from tests.integration.cost_helpers import new_connector, source_counts, table_counts

    python, local = local_layers
    props = _our_functions(synth)["sync"]
    env = local_environment(props["Environment"]["Variables"], stack)
    cid = new_connector(stack, "packaged-arrow")
    answer = invoke_packaged(
        python, packaged_paths(synth, props, local), props["Handler"], env,
        [{"trigger": "manual", "connector_id": str(cid)}],
    )  # fmt: skip
    assert answer["foreign_modules"] == []
    check("sync", answer["outcomes"])
    assert "snowwatch.db.arrow_copy" in answer["snowwatch_modules"]
    assert table_counts(cid)["QUERY_HISTORY"] == source_counts(stack)["QUERY_HISTORY"] > 0
