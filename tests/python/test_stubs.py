"""The shipped type stubs agree with the run-time signatures.

python/partita/_core.pyi (written by scripts/make_stubs.sh) is compared with
what partita._core says about itself: pybind11's signature lines in __doc__
(one per overload) for compiled functions, inspect.signature for Python
functions attached to compiled classes. For every public function, class,
method, static method and property (plus the dunders a class defines), the
stub must have the same members, and each signature the same parameters
(names, kinds, defaults where the run time shows them) and the same parameter
and return annotations. An annotation the run time leaves open (no annotation,
`object`, `typing.Any`) may be narrowed by the stub; the run time is the only
authority where it says something. The Python modules of the package are their
own stubs: their public functions must be fully annotated.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pathlib
import re

import pytest

import partita
import partita._core as core

PKG = pathlib.Path(partita.__file__).parent
# The source tree's stub when the tests run from a checkout (it is what
# scripts/make_stubs.sh rewrites), else the installed one.
_SOURCE_STUB = pathlib.Path(__file__).resolve().parents[2] / "python" / "partita" / "_core.pyi"
STUB = _SOURCE_STUB if _SOURCE_STUB.exists() else PKG / "_core.pyi"

# ---------------------------------------------------------------- signatures


@dataclasses.dataclass
class Param:
    name: str
    kind: str  # "pos", "kw" (keyword-only), "*args", "**kwargs"
    annotation: str | None  # normalized; None: not shown
    default: str | None  # normalized source text; None: required; "...": has one, not shown


@dataclasses.dataclass
class Sig:
    params: list[Param]
    returns: str | None

    def __str__(self):
        ps = ", ".join(f"{p.kind}:{p.name}: {p.annotation} = {p.default}" for p in self.params)
        return f"({ps}) -> {self.returns}"


_OPEN = {None, "Any", "object"}


def normalize(t: str | None) -> str | None:
    """One spelling for one type: module prefixes and blanks dropped."""
    if t is None:
        return None
    t = t.replace(" ", "").replace("\n", "")
    for prefix in ("partita._core.", "typing_extensions.", "typing.", "collections.abc.", "partita."):
        t = t.replace(prefix, "")
    t = re.sub(r"^Optional\[(.*)\]$", r"\1|None", t)
    return re.sub(r"\bobject\b", "Any", t)


def split_top(s: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside brackets and quotes."""
    out, depth, quote, cur = [], 0, None, []
    for ch in s:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def parse_pybind_line(line: str) -> Sig:
    """`name(a: T = d, *, b: U) -> R` as pybind11 writes it."""
    open_at = line.index("(")
    depth = 0
    for i in range(open_at, len(line)):
        depth += line[i] == "("
        depth -= line[i] == ")"
        if depth == 0:
            close_at = i
            break
    inner, rest = line[open_at + 1:close_at], line[close_at + 1:].strip()
    returns = normalize(rest[2:].strip()) if rest.startswith("->") else None
    params, kind = [], "pos"
    for piece in split_top(inner):
        if piece == "*":
            kind = "kw"
            continue
        if piece == "/":
            continue
        if piece.startswith("**"):
            params.append(Param(piece[2:].split(":")[0], "**kwargs", None, None))
            continue
        if piece.startswith("*"):
            params.append(Param(piece[1:].split(":")[0], "*args", None, None))
            kind = "kw"
            continue
        head, default = (split_top(piece, "=") + [None])[:2] if "=" in piece else (piece, None)
        name, _, annotation = head.partition(":")
        params.append(Param(name.strip(), kind, normalize(annotation.strip() or None),
                            default.strip() if default is not None else None))
    return Sig(params, returns)


def pybind_sigs(func, name: str) -> list[Sig]:
    doc = func.__doc__ or ""
    lines = doc.splitlines()
    if len(lines) > 1 and lines[1].strip() == "Overloaded function.":
        return [parse_pybind_line(re.sub(r"^\d+\.\s*", "", ln)) for ln in lines
                if re.match(rf"^\d+\.\s*{re.escape(name)}\(", ln)]
    assert lines and re.match(rf"^{re.escape(name)}\(|^\(", lines[0]), f"{name}: no signature in {doc!r}"
    return [parse_pybind_line(lines[0])]


def python_sig(func) -> Sig:
    s = inspect.signature(func)
    kinds = {inspect.Parameter.KEYWORD_ONLY: "kw", inspect.Parameter.VAR_POSITIONAL: "*args",
             inspect.Parameter.VAR_KEYWORD: "**kwargs"}

    def ann(a):
        if a is inspect.Parameter.empty or a is inspect.Signature.empty:
            return None
        return normalize(a if isinstance(a, str) else inspect.formatannotation(a))

    params = [Param(p.name, kinds.get(p.kind, "pos"), ann(p.annotation),
                    None if p.default is inspect.Parameter.empty else repr(p.default))
              for p in s.parameters.values()]
    return Sig(params, ann(s.return_annotation))


def stub_sig(node: ast.FunctionDef) -> Sig:
    a = node.args

    def ann(x):
        return normalize(ast.unparse(x)) if x is not None else None

    params = []
    positional = a.posonlyargs + a.args
    pos_defaults = [None] * (len(positional) - len(a.defaults)) + a.defaults
    for p, d in zip(positional, pos_defaults):
        params.append(Param(p.arg, "pos", ann(p.annotation), ast.unparse(d) if d is not None else None))
    if a.vararg:
        params.append(Param(a.vararg.arg, "*args", None, None))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append(Param(p.arg, "kw", ann(p.annotation), ast.unparse(d) if d is not None else None))
    if a.kwarg:
        params.append(Param(a.kwarg.arg, "**kwargs", None, None))
    return Sig(params, ann(node.returns))


def same_default(stub: str | None, run: str | None) -> bool:
    if stub is None or run is None:
        return stub is None and run is None
    if stub == "..." or run == "...":
        return True
    try:
        return ast.literal_eval(stub) == ast.literal_eval(run)
    except (ValueError, SyntaxError):
        return normalize(stub) == normalize(run)


def same_type(stub: str | None, run: str | None) -> bool:
    return run in _OPEN or stub == run


def check(where: str, stub: Sig, run: Sig, method: bool, overload_of_one: bool = False) -> list[str]:
    """Differences between a stub signature and the run-time one."""
    errs = []
    sp, rp = stub.params, run.params
    if method:  # self / cls: the stub leaves it unannotated, pybind11 names it arg0 at times
        sp, rp = sp[1:], rp[1:]
    if [p.name for p in sp] != [p.name for p in rp]:
        return [f"{where}: parameters {[p.name for p in sp]} in the stub, {[p.name for p in rp]} at run time"]
    after_narrowed = False
    for s, r in zip(sp, rp):
        # An overload of a single run-time signature may make a parameter
        # keyword-only and required (e.g. return_stats: Literal[True]); the
        # parameters after it are then keyword-only too (Python's syntax).
        narrowed = overload_of_one and s.kind == "kw" and r.kind == "pos" and s.default is None
        follows = after_narrowed and s.kind == "kw" and r.kind == "pos"
        after_narrowed = after_narrowed or narrowed
        if s.kind != r.kind and not narrowed and not follows:
            errs.append(f"{where}: {s.name} is {s.kind} in the stub, {r.kind} at run time")
        if not narrowed and not same_default(s.default, r.default):
            errs.append(f"{where}: {s.name} defaults to {s.default} in the stub, {r.default} at run time")
        literal = overload_of_one and r.annotation == "bool" and s.annotation in ("Literal[True]", "Literal[False]")
        if not literal and not same_type(s.annotation, r.annotation):
            errs.append(f"{where}: {s.name}: {s.annotation} in the stub, {r.annotation} at run time")
    if not same_type(stub.returns, run.returns):
        errs.append(f"{where}: returns {stub.returns} in the stub, {run.returns} at run time")
    return errs


# --------------------------------------------------------------- comparison


def _is_pybind(f) -> bool:
    return type(f).__name__ in ("builtin_function_or_method", "instancemethod") or \
        (callable(f) and not inspect.isfunction(f) and not inspect.isclass(f))


def runtime_sigs(f, name: str) -> list[Sig]:
    return [python_sig(f)] if inspect.isfunction(f) else pybind_sigs(f, name)


def compare_function(where: str, defs: list[ast.FunctionDef], f, name: str, method: bool) -> list[str]:
    run = runtime_sigs(f, name)
    stub = [stub_sig(d) for d in defs]
    if len(stub) == len(run):
        return [e for s, r in zip(stub, run) for e in check(where, s, r, method)]
    if len(run) == 1 and len(stub) > 1:  # overloads narrowing one run-time signature
        return [e for s in stub for e in check(where, s, run[0], method, overload_of_one=True)]
    return [f"{where}: {len(stub)} signatures in the stub, {len(run)} at run time"]


_SKIP_MEMBERS = {"__doc__", "__module__", "__dict__", "__weakref__", "__hash__", "__new__",
                 "_pybind11_conduit_v1_", "__annotations__", "__firstlineno__", "__static_attributes__"}


def compare_class(cls_node: ast.ClassDef, cls) -> list[str]:
    errs = []
    stub_defs: dict[str, list[ast.FunctionDef]] = {}
    stub_attrs: dict[str, str] = {}
    for n in cls_node.body:
        if isinstance(n, ast.FunctionDef):
            stub_defs.setdefault(n.name, []).append(n)
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            stub_attrs[n.target.id] = normalize(ast.unparse(n.annotation))
    members = {k: v for k, v in vars(cls).items() if k not in _SKIP_MEMBERS}
    if issubclass(cls, BaseException):  # exceptions: the same bases
        stub_bases = [ast.unparse(b).split(".")[-1] for b in cls_node.bases]
        run_bases = [b.__name__ for b in cls.__bases__]
        return [] if stub_bases == run_bases else [f"{cls.__name__}: bases {stub_bases} in the stub, {run_bases} at run time"]
    for name in sorted(set(members) | set(stub_defs)):
        where = f"{cls.__name__}.{name}"
        if name not in members:
            errs.append(f"{where}: in the stub, not at run time")
            continue
        obj = members[name]
        if name not in stub_defs and name not in stub_attrs and type(obj).__name__ != "wrapper_descriptor":
            errs.append(f"{where}: at run time, missing from the stub")
            continue
        if isinstance(obj, property):
            getter = [d for d in stub_defs.get(name, []) if not any(
                isinstance(x, ast.Attribute) and x.attr == "setter" for x in d.decorator_list)]
            setter = [d for d in stub_defs.get(name, []) if d not in getter]
            run_get = pybind_sigs(obj.fget, "") if not inspect.isfunction(obj.fget) else [python_sig(obj.fget)]
            stub_ret = stub_attrs.get(name) or (stub_sig(getter[0]).returns if getter else None)
            # A static property (pybind11's def_property_readonly_static) is a read-only
            # ClassVar[T] in the stub.
            class_var = type(obj).__name__ == "pybind11_static_property" and stub_ret is not None \
                and stub_ret.startswith("ClassVar[") and stub_ret.endswith("]")
            if class_var:
                stub_ret = stub_ret[len("ClassVar["):-1]
            if not same_type(stub_ret, run_get[0].returns):
                errs.append(f"{where}: property type {stub_ret} in the stub, {run_get[0].returns} at run time")
            writable = obj.fset is not None
            if class_var:
                if writable:
                    errs.append(f"{where}: writable at run time, a ClassVar in the stub")
            elif writable != (bool(setter) or name in stub_attrs):
                errs.append(f"{where}: {'writable' if writable else 'read-only'} at run time, not in the stub")
            if setter and writable:
                errs += check(where + ".setter", stub_sig(setter[0]), pybind_sigs(obj.fset, "")[0], True)
            continue
        if isinstance(obj, (staticmethod, classmethod)):
            deco = {ast.unparse(x) for d in stub_defs[name] for x in d.decorator_list}
            want = type(obj).__name__
            if want not in deco:
                errs.append(f"{where}: a {want} at run time, not in the stub")
            errs += compare_function(where, stub_defs[name], obj.__func__, name, isinstance(obj, classmethod))
            continue
        if type(obj).__name__ == "wrapper_descriptor":  # a slot pybind11 fills in (no constructor bound)
            continue
        if callable(obj):
            errs += compare_function(where, stub_defs[name], obj, name, True)
    return errs


def stub_module():
    return ast.parse(STUB.read_text())


def compare_module(tree: ast.Module, module) -> list[str]:
    errs = []
    top_defs: dict[str, list[ast.FunctionDef]] = {}
    classes: dict[str, ast.ClassDef] = {}
    names = set()
    for n in tree.body:
        if isinstance(n, ast.FunctionDef):
            top_defs.setdefault(n.name, []).append(n)
        elif isinstance(n, ast.ClassDef):
            classes[n.name] = n
        elif isinstance(n, ast.ImportFrom):
            names.update(a.asname or a.name for a in n.names)
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
    public = {n for n in dir(module) if not n.startswith("_")}
    for name in sorted(public | set(top_defs) | set(classes)):
        obj = getattr(module, name, None)
        if obj is None:
            errs.append(f"{name}: in the stub, not at run time")
        elif inspect.isclass(obj):
            if name in classes:
                errs += compare_class(classes[name], obj)
            elif name not in names:
                errs.append(f"{name}: class missing from the stub")
        elif callable(obj):
            if name not in top_defs:
                errs.append(f"{name}: function missing from the stub")
            else:
                errs += compare_function(name, top_defs[name], obj, name, False)
        elif name not in names:
            errs.append(f"{name}: missing from the stub")
    return errs


# -------------------------------------------------------------------- tests


def test_package_is_typed():
    assert (PKG / "py.typed").exists()
    assert STUB.exists()


def test_stub_signatures_match_the_runtime():
    errs = compare_module(stub_module(), core)
    assert not errs, "_core.pyi disagrees with partita._core; run scripts/make_stubs.sh:\n" + "\n".join(errs)


def _drift(old: str, new: str) -> list[str]:
    text = STUB.read_text()
    assert old in text, old
    return compare_module(ast.parse(text.replace(old, new, 1)), core)


@pytest.mark.parametrize("old,new,expect", [
    # a renamed parameter
    ("def read_midi(path:", "def read_midi(filename:", "read_midi: parameters"),
    # a wrong return type
    ("def write_midi_bytes(score: Score) -> bytes:", "def write_midi_bytes(score: Score) -> str:",
     "write_midi_bytes: returns"),
    # a wrong default
    ("sample_rate: typing.SupportsInt | typing.SupportsIndex = 44100",
     "sample_rate: typing.SupportsInt | typing.SupportsIndex = 48000", "Synth.__init__: sample_rate defaults"),
    # a wrong parameter type
    ("def read_wav(path: str | os.PathLike[str])", "def read_wav(path: str)", "read_wav: path"),
    # a keyword-only parameter that is positional at run time
    ("def sort(self, *, key", "def sort(self, key", "NoteList.sort: key is pos"),
    # a wrong property type
    ("def is_view(self) -> bool:", "def is_view(self) -> int:", "Note.is_view: property type"),
    # wrong exception bases
    ("class IoError(Error, OSError):", "class IoError(Error):", "IoError: bases"),
    # a missing method
    ("    def to_pretty_midi(self)", "    def to_pretty_midi_(self)", "Score.to_pretty_midi: at run time, missing"),
])
def test_drift_is_caught(old, new, expect):
    errs = _drift(old, new)
    assert any(expect in e for e in errs), errs


def test_parser_reads_pybind_signatures():
    sig = parse_pybind_line("f(self: partita._core.X, a: typing.SupportsInt | typing.SupportsIndex = 3, "
                            "*, b: dict[str, list[int]] = {'k': [1, 2]}, c: str = 'x,y') -> tuple[int, int]")
    assert [(p.name, p.kind, p.default) for p in sig.params] == [
        ("self", "pos", None), ("a", "pos", "3"), ("b", "kw", "{'k': [1, 2]}"), ("c", "kw", "'x,y'")]
    assert sig.params[2].annotation == "dict[str,list[int]]" and sig.returns == "tuple[int,int]"


# Python modules of the package: their source is the stub, so every public
# function must say what it takes and returns.
PY_MODULES = ["partita.pretty_midi_io", "partita.plotting", "partita.gan"]


@pytest.mark.parametrize("modname", PY_MODULES)
def test_python_modules_are_annotated(modname):
    mod = importlib.import_module(modname)
    missing = []
    for name, obj in vars(mod).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != modname:
            continue
        funcs = [(name, obj)] if inspect.isfunction(obj) else [
            (f"{name}.{k}", v) for k, v in vars(obj).items()
            if inspect.isfunction(v) and (not k.startswith("_") or k == "__init__")] if inspect.isclass(obj) else []
        for qual, f in funcs:
            sig = inspect.signature(f)
            for p in list(sig.parameters.values()):
                if p.name in ("self", "cls"):
                    continue
                if p.annotation is inspect.Parameter.empty:
                    missing.append(f"{qual}({p.name})")
            if sig.return_annotation is inspect.Signature.empty:
                missing.append(f"{qual} -> ?")
        assert "from __future__ import annotations" in inspect.getsource(mod), modname
    assert not missing, f"{modname}: unannotated: {missing}"


def test_package_reexports_are_typed():
    """Every name in partita.__all__ comes from the stub or a typed Python module."""
    stub_names = {n.name for n in stub_module().body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    stub_names |= {a.asname or a.name for n in stub_module().body if isinstance(n, ast.ImportFrom) for a in n.names}
    for name in partita.__all__:
        obj = getattr(partita, name)
        mod = getattr(obj, "__module__", "")
        assert name in stub_names or mod in PY_MODULES, f"partita.{name} ({mod}) has no typed source"
