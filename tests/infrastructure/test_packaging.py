"""Packaging: the layers built without Docker, and each function's unzipped size under Lambda's limit."""

from __future__ import annotations

import time
from types import ModuleType

import pytest

from infra.constants import LAMBDA_PYTHON_VERSION, LAMBDA_UNZIPPED_LIMIT_BYTES
from infra.sizes import LAYER_ASSET_DIRS, function_sizes

pytestmark = pytest.mark.infrastructure

# Room left under Lambda's limit, so that a pin that grows a layer near it fails here rather than at deploy.
SIZE_MARGIN_BYTES = 32 * 1024 * 1024


def test_layers_are_built_for_the_runtime(layers_built: ModuleType) -> None:
    """Given the layer build script
    When it has run
    Then it targets the runtime's CPython version and architecture, and both dependency layers exist."""
    from infra.constructs.packaging import ARCHITECTURE

    assert layers_built.PYTHON_VERSION == LAMBDA_PYTHON_VERSION
    assert layers_built.DEPLOYED_ARCH == ARCHITECTURE.name == "arm64"
    assert layers_built.PLATFORM == ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
    for name in ("deps-base", "deps-snowflake"):
        assert (LAYER_ASSET_DIRS[name] / "python").is_dir()


def test_rebuild_is_skipped_when_the_pins_are_unchanged(layers_built: ModuleType) -> None:
    """Given layers built from the current pins
    When the build runs again
    Then it reuses them (hash match) instead of calling pip."""
    started = time.perf_counter()
    layers_built.build_snowflake(layers_built.build_base())
    assert time.perf_counter() - started < 5


def test_snowflake_connector_only_in_its_layer(layers_built: ModuleType) -> None:
    """Given the two dependency layers
    When their contents are listed
    Then the connector is only in the snowflake layer, which repeats nothing from the base layer."""
    base = LAYER_ASSET_DIRS["deps-base"] / "python"
    snowflake = LAYER_ASSET_DIRS["deps-snowflake"] / "python"
    assert not (base / "snowflake").exists()
    assert (snowflake / "snowflake" / "connector").is_dir()
    assert not ({p.name for p in base.iterdir()} & {p.name for p in snowflake.iterdir()})


def test_unzipped_sizes_under_the_lambda_limit(layers_built: ModuleType) -> None:
    """Given each function's code and layers (the snowflake layer with its pruned pyarrow)
    When their unzipped sizes are summed
    Then every function is under Lambda's 250 MiB with SIZE_MARGIN to spare, and the API is smaller than sync."""
    sizes = {s.name: s for s in function_sizes()}
    for size in sizes.values():
        assert 0 < size.total_bytes < LAMBDA_UNZIPPED_LIMIT_BYTES - SIZE_MARGIN_BYTES, size
    assert sizes["api"].total_bytes < sizes["sync"].total_bytes


def test_the_snowflake_layer_carries_a_pruned_pyarrow(layers_built: ModuleType) -> None:
    """Given the deployed (arm64) layers
    When the snowflake layer's pyarrow is listed and every shared object's needed libraries are read from its ELF
    Then pyarrow is there (lib, compute, csv) without Flight, the remote filesystems, Parquet's bindings, headers
    and tests; every Arrow library a kept object links against is still there; the base layer carries none of it."""
    site = LAYER_ASSET_DIRS["deps-snowflake"] / "python"
    root = site / "pyarrow"
    for kept in ("__init__.py", "compute.py", "csv.py", "lib.*.so", "_compute.*.so", "_csv.*.so", "libarrow.so.*"):
        assert list(root.glob(kept)), kept
    for pruned in ("libarrow_flight.so*", "libarrow_s3.so*", "_flight.*.so", "_s3fs.*.so", "_parquet.*.so",
                   "parquet", "include", "tests", "**/*.pyx", "**/*.pxd", "libarrow_python.so"):  # fmt: skip
        assert not list(root.glob(pruned)), pruned
    assert layers_built.missing_arrow_libraries(site) == {}
    assert not (LAYER_ASSET_DIRS["deps-base"] / "python" / "pyarrow").exists()


def test_every_deployed_wheel_carries_the_target_platform(layers_built: ModuleType) -> None:
    """Given the deployed (arm64) layers
    When every installed wheel's tags are read (dist-info/WHEEL)
    Then each wheel with compiled code is tagged for aarch64 manylinux and CPython 3.14 (or the
    stable ABI), and no x86_64 wheel slipped in."""
    tags = layers_built.wheel_platform_tags()
    assert tags, "no compiled wheel found: are the layers built?"
    for dist, wheel_tags in tags.items():
        assert all("aarch64" in t and "manylinux" in t for t in wheel_tags), (dist, wheel_tags)
        assert all(t.split("-")[0] in ("cp314", "cp3", "py3") or t.split("-")[1] == "abi3" for t in wheel_tags), (
            dist,
            wheel_tags,
        )
