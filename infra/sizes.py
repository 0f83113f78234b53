"""Unzipped package sizes: per function, its code asset plus every layer it carries.

Lambda's limit (250 MiB unzipped) counts the function's code and all its layers together. This
module needs no CDK: `make synth`, scripts/build_layers.py --sizes and the tests all use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.constants import (
    ALL_SPECS,
    BUILD_LAYERS_DIR,
    COMMON_LAYER_DIR,
    FUNCTIONS_DIR,
    LAMBDA_UNZIPPED_LIMIT_BYTES,
    FunctionSpec,
)

MIB = 1024 * 1024

# Layer name -> the directory that becomes the layer asset (it holds python/...).
LAYER_ASSET_DIRS: dict[str, Path] = {
    "deps-base": BUILD_LAYERS_DIR / "base",
    "deps-snowflake": BUILD_LAYERS_DIR / "snowflake",
    "snowwatch": COMMON_LAYER_DIR,
}


def layers_of(spec: FunctionSpec) -> list[str]:
    """The layers a function carries: the snowflake connector only where Snowflake is read."""
    return ["deps-base", *(["deps-snowflake"] if spec.snowflake else []), "snowwatch"]


def _excluded(path: Path) -> bool:
    return any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts) or path.name in (
        ".build-hash",
        "pyproject.toml",
    )


def tree_size(path: Path) -> int:
    """Bytes under ``path`` as Lambda unpacks them (bytecode caches and egg-info are not shipped)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not _excluded(p.relative_to(path)))


@dataclass(frozen=True)
class FunctionSize:
    name: str
    code_bytes: int
    layer_bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())


def function_sizes() -> list[FunctionSize]:
    layer_sizes = {name: tree_size(path) for name, path in LAYER_ASSET_DIRS.items()}
    return [
        FunctionSize(
            name=spec.name,
            code_bytes=tree_size(FUNCTIONS_DIR / spec.asset),
            layer_bytes={layer: layer_sizes[layer] for layer in layers_of(spec)},
        )
        for spec in ALL_SPECS
    ]


def print_function_sizes() -> None:
    limit = LAMBDA_UNZIPPED_LIMIT_BYTES / MIB
    print(f"{'function':<14}{'code':>10}{'layers':>10}{'total MiB':>11}   (limit {limit:.0f} MiB unzipped)")
    for size in function_sizes():
        layers = sum(size.layer_bytes.values())
        print(
            f"{size.name:<14}{size.code_bytes / MIB:>10.2f}{layers / MIB:>10.1f}{size.total_bytes / MIB:>11.1f}"
            f"   {' + '.join(size.layer_bytes)}"
        )
