"""Runs inside a fresh interpreter started with `python -I -S` (no site-packages at all): imports
one packaged function exactly as Lambda would (its asset directory, then its layers' python/
folders) and invokes its handler with each event. Standard library only.

stdin: {"paths": [...], "handler": "module.function", "env": {...}, "events": [...]}
stdout (last line): {"outcomes": [{"ok": true, "result": ...} | {"ok": false, "error": "Type: message"}, ...],
                     "foreign_modules": [file, ...], "snowwatch_modules": [the snowwatch modules imported, ...]}
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig


class Context:
    function_name = "packaged"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:packaged"
    aws_request_id = "packaged-smoke-test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 600_000


def main() -> None:
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["paths"]
    os.environ.clear()
    os.environ.update(spec["env"])
    module_name, function_name = spec["handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    outcomes = []
    for event in spec["events"]:
        try:
            outcomes.append({"ok": True, "result": handler(event, Context())})
        except Exception as exc:  # reported to the test, which decides
            outcomes.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    # Every module imported must come from the function's paths or the interpreter's standard library.
    allowed = (*spec["paths"], sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())} - {__file__}
    foreign = sorted(f for f in files if f and not f.startswith(allowed))
    ours = sorted(name for name in sys.modules if name.startswith("snowwatch."))
    print(json.dumps({"outcomes": outcomes, "foreign_modules": foreign, "snowwatch_modules": ours}, default=str))


if __name__ == "__main__":
    main()
