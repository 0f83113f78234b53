"""Runs inside a fresh interpreter started with `python -I -S` (no site-packages at all), with one packaged
function's paths (its asset directory, then its layers' python/ folders): the sync's Arrow path on the layer's
pruned pyarrow. Imports pyarrow, pyarrow.compute and pyarrow.csv, turns a small QUERY_HISTORY batch into the
load table (``services/query_arrow.load_table``) and that into COPY's CSV (``db/arrow_copy.csv_chunks``), and
tries the pyarrow modules the layer build prunes. Standard library only, outside what it imports from the paths.

stdin: {"paths": [...], "batch": [{QUERY_HISTORY column (upper case): value (ISO text for timestamps)}, ...]}
stdout (last line): {"pyarrow": file, "converter": "module.function" | null, "table": [row, ...],
                     "csv": text, "pruned": {module: "ImportError type" | "imported"}, "foreign_modules": [...]}
"""

from __future__ import annotations

import importlib
import json
import sys
import sysconfig
from datetime import datetime
from decimal import Decimal
from typing import Any

PRUNED = ("pyarrow.flight", "pyarrow.parquet", "pyarrow.dataset", "pyarrow.substrait", "pyarrow.acero", "pyarrow.orc")
TIMESTAMPS = ("START_TIME", "END_TIME")
DECIMALS = ("CREDITS_USED_CLOUD_SERVICES",)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON row with the types the connector gives (timestamps, decimals)."""
    out = dict(row)
    for name in TIMESTAMPS:
        if out.get(name) is not None:
            out[name] = datetime.fromisoformat(out[name])
    for name in DECIMALS:
        if out.get(name) is not None:
            out[name] = Decimal(out[name])
    return out


def main() -> None:
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["paths"]
    import pyarrow as pa
    import pyarrow.compute  # what snowwatch imports, each by name
    import pyarrow.csv

    from snowwatch.db import arrow_copy
    from snowwatch.services import query_arrow, sync

    converter = sync._arrow("QUERY_HISTORY")
    table = query_arrow.load_table(pa.Table.from_pylist([_typed(r) for r in spec["batch"]]))
    csv = b"".join(arrow_copy.csv_chunks(table, chunk_rows=1)).decode()
    pruned = {}
    for name in PRUNED:
        try:
            importlib.import_module(name)
            pruned[name] = "imported"
        except ImportError as exc:
            pruned[name] = type(exc).__name__
    allowed = (*spec["paths"], sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())} - {__file__}
    foreign = sorted(f for f in files if f and not f.startswith(allowed))
    answer = {
        "pyarrow": pa.__file__,
        "converter": f"{converter.__module__}.{converter.__name__}" if converter else None,
        "table": table.to_pylist(),
        "csv": csv,
        "pruned": pruned,
        "foreign_modules": foreign,
    }
    print(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
