"""The route and schedule tables the CDK app builds from (snowwatch.routes, snowwatch.schedules).

Both modules are plain Python (standard library only); the package lives in layers/common/python,
which is put on sys.path here so the CDK app needs no install of the package.
"""

from __future__ import annotations

import sys

from infra.constants import COMMON_LAYER_DIR

_PACKAGE_ROOT = str(COMMON_LAYER_DIR / "python")
if _PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, _PACKAGE_ROOT)

from snowwatch.routes import ROUTES, Route  # noqa: E402
from snowwatch.schedules import DEFAULT_TIMEZONE, JOBS, PER_CONNECTOR_JOBS, SCHEDULES, Schedule  # noqa: E402

__all__ = ["DEFAULT_TIMEZONE", "JOBS", "PER_CONNECTOR_JOBS", "ROUTES", "SCHEDULES", "Route", "Schedule"]
