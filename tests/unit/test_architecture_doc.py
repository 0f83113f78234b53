"""docs/architecture.md stands alone: no link leaves the repository, and every entry of its "Where to find
it" index names a function, class or constant that exists in the named file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
ENTRY = re.compile(r"`([\w./-]+\.py):([\w.]+)`")


def _index() -> list[tuple[str, str]]:
    text = DOC.read_text()
    section = text.split("## Where to find it", 1)[1]
    return ENTRY.findall(section)


def _defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_index_covers_the_behaviours_a_newcomer_looks_for() -> None:
    """Given the index, then it names rule evaluation, threshold crossing, cache TTL, billed cloud services,
    alert reopen and notification retry."""
    section = DOC.read_text().split("## Where to find it", 1)[1].lower()
    for behaviour in ("rule evaluation", "threshold crossing", "cache ttl", "billed cloud services", "reopen", "retry"):
        assert behaviour in section, behaviour
    assert len(_index()) >= 20


@pytest.mark.parametrize(("path", "name"), _index())
def test_every_index_entry_exists(path: str, name: str) -> None:
    """Given an index entry `file:name`, when the file is parsed, then it defines that name at module level."""
    source = ROOT / path
    assert source.is_file(), path
    assert name in _defined(ast.parse(source.read_text())), f"{path} defines no {name}"


def test_no_link_leaves_the_repository() -> None:
    """Given the doc, then it links only to files that exist here (no ../shared/ design card)."""
    text = DOC.read_text()
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith("http"):
            assert (DOC.parent / target).exists(), target
