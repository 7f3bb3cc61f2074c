"""The shipped type stubs (_core.pyi, py.typed) cover the compiled module's public API."""
import ast
import pathlib

import partita
import partita._core as core

PKG = pathlib.Path(partita.__file__).parent


def _stub_names():
    tree = ast.parse((PKG / "_core.pyi").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_package_is_typed():
    assert (PKG / "py.typed").exists()
    assert (PKG / "_core.pyi").exists()


def test_stub_covers_every_public_name():
    public = {n for n in dir(core) if not n.startswith("_")}
    missing = sorted(public - _stub_names())
    assert not missing, f"_core.pyi is stale, run scripts/make_stubs.sh; missing: {missing}"


def test_stub_methods_of_score_exist():
    tree = ast.parse((PKG / "_core.pyi").read_text())
    score = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Score")
    methods = {n.name for n in score.body if isinstance(n, ast.FunctionDef)}
    for name in methods - {"__init__"}:
        assert hasattr(core.Score, name), name
