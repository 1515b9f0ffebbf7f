"""The shape of the code, checked with ast: small modules, short functions, and no upward import.

A module over 400 lines or a function over 80 is where the next feature lands in a crowd; a lower layer that
imports a higher one (the loader importing the engine, say) makes the pipeline impossible to read bottom-up
and invites import cycles. The layers are listed once here, lowest first, and mirrored in kb_bot/__init__.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kb_bot"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

#: Lowest first. A module may import its own layer and the layers below it, never one above.
#: Subpackages (loading/, store/, answering/, staff/, cli/, web/) count as one module each.
LAYERS = (
    ("plumbing", {"errors", "settings", "files", "bounds", "legal", "sanctions"}),
    ("loading", {"loading", "synonyms"}),
    ("chunks and vectors", {"chunking", "embedding", "keyword"}),
    ("store", {"store"}),
    ("indexing", {"indexing", "watch"}),
    ("retrieval", {"retrieval"}),
    ("answers", {"answering"}),
    ("engine and staff tools", {"engine", "staff"}),
    ("entry points", {"cli", "web"}),
)
RANK = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}

#: Top-level parts of kb_bot exempt from the size limits (none: the web app is split by tab).
SIZE_EXEMPT: tuple[str, ...] = ()


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def top_module(path: Path) -> str:
    """``store`` for kb_bot/store/folder.py, ``engine`` for kb_bot/engine.py ('' for kb_bot/__init__.py)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return "" if parts == ("__init__",) else parts[0]


def imported_modules(path: Path) -> set[str]:
    """The kb_bot modules (top level) that ``path`` imports anywhere in it, including inside functions."""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])  # ["kb_bot", "store"]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                targets = [base + node.module.split(".")] if node.module else [base + [a.name] for a in node.names]
            else:
                targets = [(node.module or "").split(".")]
                if targets[0] == ["kb_bot"]:
                    targets = [["kb_bot", a.name] for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names]
        else:
            continue
        found.update(t[1] for t in targets if len(t) > 1 and t[0] == "kb_bot")
    return found


def test_every_module_has_a_layer():
    modules = {top_module(path) for path in sources()} - {""}
    assert modules <= set(RANK), f"add these to LAYERS in tests/test_structure.py: {sorted(modules - set(RANK))}"


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in sources():
        me = top_module(path)
        if not me:
            continue
        for target in imported_modules(path):
            if target in RANK and RANK[target] > RANK[me]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {target} "
                              f"({LAYERS[RANK[target]][0]} is above {LAYERS[RANK[me]][0]})")
    assert not upward, "\n".join(upward)


def test_the_import_check_sees_relative_and_nested_imports():
    folder = PACKAGE / "store" / "folder.py"  # imports ..loading, ..settings (two dots) and .cache (one)
    assert {"loading", "settings", "errors", "files", "chunking", "store"} <= imported_modules(folder)


@pytest.mark.parametrize("path", [p for p in sources() if top_module(p) not in SIZE_EXEMPT],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_are_small(path):
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines (at most {MAX_MODULE_LINES}): split it by job"
    tree = ast.parse(text)
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines in {path.name}: {', '.join(long)}"
    assert ast.get_docstring(tree), f"{path.name} has no module docstring saying what it is for"


def public_functions_without_docstring(tree: ast.Module) -> list[str]:
    """Public functions and methods (of classes at any depth) that do not say what they do."""
    missing = [node.name for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")
               and not ast.get_docstring(node)]
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        missing += [f"{cls.name}.{f.name}" for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and not f.name.startswith("_") and not ast.get_docstring(f)]
    return missing


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_public_function_and_method_has_a_docstring(path):
    missing = public_functions_without_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert not missing, f"{path.name}: public functions without a docstring: {', '.join(missing)}"


def test_the_docstring_check_sees_methods_and_module_functions():
    tree = ast.parse('def shown(): pass\ndef _hidden(): pass\nclass A:\n    def m(self):\n        """Says."""\n'
                     '    def n(self): pass\n')
    assert public_functions_without_docstring(tree) == ["shown", "A.n"]
