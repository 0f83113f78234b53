"""Packaging without Docker: the layers and code assets every function is built from.

- deps-base: third-party dependencies for every function (build/layers/base, pip-installed for the
  Lambda platform by scripts/build_layers.py);
- deps-snowflake: snowflake-connector-python and what it adds (build/layers/snowflake), carried only
  by sync and security: the API function stays small and never imports the connector;
- snowwatch: the first-party package, straight from layers/common/python (its own asset, so a code
  change redeploys a small layer, not the dependencies).

Function code is functions/<name> (the API and its authorizer share functions/api).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import ASSET_EXCLUDES, FUNCTIONS_DIR, LAMBDA_PYTHON_VERSION, FunctionSpec
from infra.sizes import LAYER_ASSET_DIRS, layers_of

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64  # the layers hold manylinux2014/_2_28 aarch64 wheels (build_layers.py)

if RUNTIME.name != f"python{LAMBDA_PYTHON_VERSION}":  # pragma: no cover - a guard for whoever bumps one
    raise RuntimeError(f"runtime {RUNTIME.name} does not match LAMBDA_PYTHON_VERSION {LAMBDA_PYTHON_VERSION}")

LAYER_DESCRIPTIONS = {
    "deps-base": "snowwatch dependencies: Powertools, pydantic, pg8000, PyJWT, boto3, slack-sdk, yoyo",
    "deps-snowflake": "snowflake-connector-python (sync and security only)",
    "snowwatch": "the snowwatch package (first-party code)",
}


class LayersNotBuiltError(RuntimeError):
    pass


def _require(path: Path) -> Path:
    if not (path / "python").is_dir():
        raise LayersNotBuiltError(f"{path} is missing: run `make layers` (scripts/build_layers.py) first")
    return path


class Packaging(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.layers: dict[str, lambda_.LayerVersion] = {}
        for name, path in LAYER_ASSET_DIRS.items():
            self.layers[name] = lambda_.LayerVersion(
                self,
                name,
                code=lambda_.Code.from_asset(str(_require(path)), exclude=ASSET_EXCLUDES),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=LAYER_DESCRIPTIONS[name],
            )
        self._code: dict[str, lambda_.Code] = {}

    def layers_for(self, spec: FunctionSpec) -> list[lambda_.ILayerVersion]:
        return [self.layers[name] for name in layers_of(spec)]

    def code_for(self, spec: FunctionSpec) -> lambda_.Code:
        """One asset per functions/<folder> (shared by the API and its authorizer)."""
        if spec.asset not in self._code:
            self._code[spec.asset] = lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.asset), exclude=ASSET_EXCLUDES)
        return self._code[spec.asset]
