"""Build the Lambda dependency layers without Docker, and report unzipped package sizes.

Two dependency layers are installed by pip for the Lambda platform (arm64: manylinux2014_aarch64 or
manylinux_2_28_aarch64, the runtime's CPython version, binary wheels only), from the pins in
layers/common/pyproject.toml:

- ``build/layers/base/python``: the package's dependencies plus the ``notify`` and ``migrate``
  extras (Powertools, pydantic, pg8000, PyJWT, boto3, slack-sdk, yoyo-migrations). Every function.
- ``build/layers/snowflake/python``: the ``snowflake`` extra (snowflake-connector-python, sqlglot and
  pyarrow for the Arrow path of the sync), resolved against the base layer's exact versions and with
  everything the base layer already holds removed, then pruned of the parts of pyarrow snowwatch never
  loads (``ARROW_PRUNE``). Only the sync and security functions carry it; the API function never does.

The first-party ``snowwatch`` package is a third layer whose asset is layers/common/python itself
(the CDK app points at it directly; nothing to build).

A layer is rebuilt only when its inputs change: the hash of (pins, Python version, platform, this
script's LAYOUT_VERSION) is stored next to it. ``--force`` rebuilds anyway; ``--sizes`` prints the
per-function unzipped sizes (asset + layers) after building.

``--arch x86_64 --python 3.13`` builds the same layers, from the same pins, for another
architecture and CPython version into build/layers-x86_64-py3.13/ (the packaged smoke test runs
them on this machine's interpreter; the deployed layers stay in build/layers/).

Usage: .venv/bin/python scripts/build_layers.py [--force] [--sizes] [--arch arm64|x86_64] [--python X.Y]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "layers" / "common" / "pyproject.toml"
BUILD = ROOT / "build" / "layers"

# Must match infra/constants.py (LAMBDA_PYTHON_VERSION) and infra/constructs/packaging.py
# (ARCHITECTURE); a test asserts they agree.
PYTHON_VERSION = "3.14"
DEPLOYED_ARCH = "arm64"
# pip --platform tags per architecture, most preferred first. manylinux_2_28 because pyarrow publishes no
# manylinux2014 wheel for CPython 3.14; the python3.14 runtime is Amazon Linux 2023 (glibc 2.34), so both run.
PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
PLATFORM = PLATFORMS[DEPLOYED_ARCH]
LAYOUT_VERSION = "2"  # bump to force every layer to rebuild after changing how they are built
HASH_FILE = ".build-hash"

# Which extras go where (the base dependencies always go into "base").
BASE_EXTRAS = ("notify", "migrate")
SNOWFLAKE_EXTRAS = ("snowflake",)


def _pins() -> tuple[list[str], dict[str, list[str]]]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return list(project["dependencies"]), dict(project.get("optional-dependencies", {}))


def layer_requirements() -> dict[str, list[str]]:
    """Requirement specifiers per dependency layer, in a stable order."""
    deps, extras = _pins()
    base = deps + [r for extra in BASE_EXTRAS for r in extras.get(extra, [])]
    snowflake = [r for extra in SNOWFLAKE_EXTRAS for r in extras.get(extra, [])]
    return {"base": sorted(base), "snowflake": sorted(snowflake)}


def _hash(requirements: list[str], *, arch: str, python: str, upstream: str = "") -> str:
    payload = json.dumps(
        {
            "requirements": requirements,
            "python": python,
            "platform": PLATFORMS[arch],
            "layout": LAYOUT_VERSION,
            "upstream": upstream,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def layer_dir(name: str, arch: str = DEPLOYED_ARCH, python: str = PYTHON_VERSION) -> Path:
    """build/layers/<name> for the deployed platform, build/layers-<arch>-py<X.Y>/<name> for another."""
    if (arch, python) == (DEPLOYED_ARCH, PYTHON_VERSION):
        return BUILD / name
    return ROOT / "build" / f"layers-{arch}-py{python}" / name


def _is_current(out: Path, digest: str) -> bool:
    marker = out / HASH_FILE
    return marker.is_file() and marker.read_text().strip() == digest and (out / "python").is_dir()


def _pip_install(
    target: Path, requirements: list[str], arch: str, python: str, constraints: Path | None = None
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # host .pyc files would be for the wrong Python; Lambda compiles on import
        *(arg for platform in PLATFORMS[arch] for arg in ("--platform", platform)),
        "--only-binary=:all:",
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--target",
        str(target),
    ]
    if constraints is not None:
        cmd += ["--constraint", str(constraints)]
    done = subprocess.run([*cmd, *requirements], check=False, capture_output=True, text=True)
    # This machine's pip config lists local indexes that may be absent: hide only that noise.
    for line in done.stderr.splitlines():
        if "is neither a file nor a directory" not in line:
            print(line, file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"pip install failed ({done.returncode}) for {target.parent.name}")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distributions(site: Path) -> dict[str, tuple[str, Path]]:
    """normalised name -> (version, dist-info dir) of everything installed in ``site``."""
    found: dict[str, tuple[str, Path]] = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        found[_normalise(name)] = (version, info)
    return found


def _remove_distribution(site: Path, info: Path) -> None:
    record = info / "RECORD"
    if record.is_file():
        for line in record.read_text().splitlines():
            rel = line.split(",", 1)[0]
            if not rel:
                continue
            path = (site / rel).resolve()
            if path.is_relative_to(site.resolve()) and path.is_file():
                path.unlink()
    shutil.rmtree(info, ignore_errors=True)
    # drop directories the removal left empty (deepest first)
    for d in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()


def _strip(site: Path) -> None:
    """Remove what Lambda never uses: bytecode caches built for another Python, and bin/ scripts."""
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)


# What of pyarrow snowwatch never loads, removed from the snowflake layer (paths relative to site/pyarrow;
# ``*`` globs one name, ``**`` any depth). snowwatch imports pyarrow, pyarrow.compute and pyarrow.csv
# (services/query_arrow.py, db/arrow_copy.py); the connector's fetch_arrow_batches imports pyarrow and hands
# its C iterator's batches to pyarrow.lib. Kept although unused: libparquet, libarrow_dataset, libarrow_acero and
# libarrow_substrait, because pyarrow.lib and libarrow_python are linked against them (DT_NEEDED: the loader
# refuses to load pyarrow without them; tests/infrastructure/test_packaging.py checks every kept library's
# needs). The packaged smoke test imports what is left and runs the Arrow path on it.
ARROW_PRUNE: tuple[str, ...] = (
    # Arrow Flight (RPC): the largest library (~28 MiB) and its Python bindings
    "libarrow_flight.so*", "libarrow_python_flight.so*", "_flight.*.so", "flight.py",
    # remote filesystems (S3 ~16 MiB, GCS, Azure, HDFS): nothing reads files through pyarrow
    "libarrow_s3.so*", "_s3fs.*.so", "_gcsfs.*.so", "_azurefs.*.so", "_hdfs.*.so",
    # Parquet, ORC, Feather files and datasets: Python bindings only (their C++ libraries stay, see above)
    "_parquet.*.so", "_parquet_encryption.*.so", "libarrow_python_parquet_encryption.so*", "parquet",
    "_dataset*.so", "dataset.py", "_orc.*.so", "orc.py", "_feather.*.so", "feather.py",
    # Acero query plans and Substrait: Python bindings only (Table.filter with a mask and the compute
    # functions snowwatch calls do not go through them)
    "_acero.*.so", "acero.py", "_substrait.*.so", "substrait.py",
    # GPU, JVM, benchmarks and pyarrow's own tests
    "cuda.py", "jvm.py", "benchmark.py", "conftest.py", "tests", "_pyarrow_cpp_tests.*.so",
    # build-time files: C++ headers and sources, Cython declarations and sources
    "include", "includes", "src", "**/*.pxd", "**/*.pyx", "**/*.pxi", "**/*.h",
    # the linker names of libarrow_python: the loader follows the SONAME (libarrow_python.so.<major>), and a
    # wheel holds each name as a full copy, not a symbolic link
    "libarrow_python.so", "libarrow_python.so.*.*",
)  # fmt: skip


def prune_arrow(site: Path) -> int:
    """Remove ``ARROW_PRUNE`` from ``site``/pyarrow (if present); bytes removed."""
    root = site / "pyarrow"
    removed = 0
    for pattern in ARROW_PRUNE if root.is_dir() else ():
        for path in sorted(root.glob(pattern), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                removed += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                shutil.rmtree(path)
            elif path.exists():
                removed += path.stat().st_size
                path.unlink()
    return removed


def _needed(library: Path) -> list[str]:
    """DT_NEEDED names of a 64-bit little-endian ELF shared object (x86_64 and aarch64 alike; no tool needed)."""
    data = library.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff, shentsize, shnum = int.from_bytes(data[0x28:0x30], "little"), *struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names: list[str] = []
    for _, kind, _, _, offset, size, link, _, _, _ in sections:
        if kind != 6:  # SHT_DYNAMIC; its sh_link is the section of its strings
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                names.append(data[strings + value : data.index(b"\0", strings + value)].decode())
    return names


def missing_arrow_libraries(site: Path) -> dict[str, list[str]]:
    """pyarrow's shared objects in ``site`` -> the Arrow libraries they need that the layer no longer holds (the
    check that ``ARROW_PRUNE`` removed nothing the loader needs, on any architecture)."""
    root = site / "pyarrow"
    missing: dict[str, list[str]] = {}
    for library in sorted(root.glob("*.so*")):
        lost = [n for n in _needed(library) if n.startswith(("libarrow", "libparquet")) and not (root / n).is_file()]
        if lost:
            missing[library.name] = lost
    return missing


def build_base(force: bool = False, arch: str = DEPLOYED_ARCH, python: str = PYTHON_VERSION) -> str:
    reqs = layer_requirements()["base"]
    digest = _hash(reqs, arch=arch, python=python)
    out = layer_dir("base", arch, python)
    if not force and _is_current(out, digest):
        print(f"layer base ({arch}, {python}): up to date ({digest[:12]})")
        return digest
    shutil.rmtree(out, ignore_errors=True)
    site = out / "python"
    print(f"layer base ({arch}): pip install {len(reqs)} pins for CPython {python} {'/'.join(PLATFORMS[arch])}")
    _pip_install(site, reqs, arch, python)
    _strip(site)
    (out / HASH_FILE).write_text(digest + "\n")
    return digest


def build_snowflake(
    base_digest: str, force: bool = False, arch: str = DEPLOYED_ARCH, python: str = PYTHON_VERSION
) -> str:
    reqs = layer_requirements()["snowflake"]
    digest = _hash(reqs, arch=arch, python=python, upstream=base_digest)
    out = layer_dir("snowflake", arch, python)
    if not force and _is_current(out, digest):
        print(f"layer snowflake ({arch}, {python}): up to date ({digest[:12]})")
        return digest
    shutil.rmtree(out, ignore_errors=True)
    site = out / "python"
    base_site = layer_dir("base", arch, python) / "python"
    base = _distributions(base_site)
    # Resolve shared dependencies to exactly the versions the base layer holds, then drop them:
    # Lambda merges both layers into /opt/python, so one copy is enough.
    constraints = out / "constraints.txt"
    out.mkdir(parents=True, exist_ok=True)
    constraints.write_text("".join(f"{name}=={version}\n" for name, (version, _) in sorted(base.items())))
    print(f"layer snowflake: pip install {reqs} (constrained to the base layer's versions)")
    _pip_install(site, reqs, arch, python, constraints)
    removed = 0
    for name, (_, info) in _distributions(site).items():
        if name in base:
            _remove_distribution(site, info)
            removed += 1
    _strip(site)
    pruned = prune_arrow(site)
    if missing := missing_arrow_libraries(site):
        raise SystemExit(f"ARROW_PRUNE removed libraries pyarrow links against: {missing}")
    constraints.unlink()
    print(f"layer snowflake: pruned {pruned / 2**20:.1f} MiB of pyarrow snowwatch never loads")
    print(f"layer snowflake: removed {removed} distributions already in the base layer")
    (out / HASH_FILE).write_text(digest + "\n")
    return digest


def build(force: bool = False, arch: str = DEPLOYED_ARCH, python: str = PYTHON_VERSION) -> dict[str, Path]:
    """Both dependency layers for ``arch`` and ``python`` (reused when current); name -> layer directory."""
    build_snowflake(build_base(force, arch, python), force, arch, python)
    return {name: layer_dir(name, arch, python) for name in ("base", "snowflake")}


def wheel_platform_tags(arch: str = DEPLOYED_ARCH) -> dict[str, list[str]]:
    """Every installed distribution with compiled code in ``arch``'s layers -> its wheel tags
    (from each dist-info's WHEEL file); pure-Python wheels (``none-any``) are left out."""
    found: dict[str, list[str]] = {}
    for name in ("base", "snowflake"):
        for wheel in sorted((layer_dir(name, arch) / "python").glob("*.dist-info/WHEEL")):
            tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
            if not all(tag.endswith("-any") for tag in tags):
                found[wheel.parent.name] = tags
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    parser.add_argument("--sizes", action="store_true", help="print each function's unzipped size")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default=DEPLOYED_ARCH)
    parser.add_argument("--python", default=PYTHON_VERSION, help="CPython X.Y the layers are for")
    args = parser.parse_args(argv)
    dirs = build(args.force, args.arch, args.python)
    sys.path.insert(0, str(ROOT))
    # infra is importable only once ROOT is on sys.path (this script runs from anywhere)
    from infra.sizes import print_function_sizes, tree_size

    for name, path in dirs.items():
        print(f"layer {name} ({args.arch}): {tree_size(path / 'python') / 2**20:.1f} MiB unzipped")
    if args.sizes:
        print_function_sizes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
