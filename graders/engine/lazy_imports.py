"""How the worker binds a submission's imports: cheap ones now, costly ones on first use, missing ones
as placeholders that explain themselves.

Runs inside the worker (standard library only). A real hw2 submission imports torch,
torchvision, matplotlib and tqdm but grades on numpy alone; importing them eagerly would cost
seconds and hundreds of MB, and torchvision is often absent. So a module that is not already
loaded and not in the standard library is bound to a proxy that imports it when an attribute
is first touched, and a module that cannot be found is bound to a placeholder that raises a
clear ImportError only if a graded function actually uses it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types


class MissingImport:
    """Stands in for a name whose import failed; any use raises ImportError with the reason."""

    def __init__(self, name: str, reason: str) -> None:
        object.__setattr__(self, "_nngrade_name", name)
        object.__setattr__(self, "_nngrade_reason", reason)

    def _fail(self, *args, **kwargs):
        name = object.__getattribute__(self, "_nngrade_name")
        reason = object.__getattribute__(self, "_nngrade_reason")
        raise ImportError(
            f"`{name}` is not available in the grader ({reason}); graded functions must not depend on it"
        )

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        self._fail()

    __call__ = _fail
    __getitem__ = _fail
    __iter__ = _fail
    __mro_entries__ = _fail

    def __repr__(self) -> str:
        return f"<missing import {object.__getattribute__(self, '_nngrade_name')}>"


class LazyImport:
    """A module (or `from` attribute) imported on first use; then the namespace binding is replaced."""

    def __init__(
        self, namespace: dict, bound_as: str, module: str, attr: str | None, top: str | None
    ) -> None:
        # top: for `import a.b.c` the name binds the top package `a` once a.b.c is imported.
        object.__setattr__(self, "_nngrade_spec", (namespace, bound_as, module, attr, top))
        object.__setattr__(self, "_nngrade_target", None)

    def _resolve(self):
        target = object.__getattribute__(self, "_nngrade_target")
        if target is not None:
            return target
        namespace, bound_as, module, attr, top = object.__getattribute__(self, "_nngrade_spec")
        try:
            mod = importlib.import_module(module)
            if attr is None:
                target = sys.modules[top] if top else mod
            elif hasattr(mod, attr):
                target = getattr(mod, attr)
            else:
                target = importlib.import_module(f"{module}.{attr}")
        except Exception as exc:  # any failure of third-party import code becomes one clear error
            what = f"{module}.{attr}" if attr else module
            raise ImportError(f"the grader could not import `{what}` ({type(exc).__name__}: {exc})") from None
        object.__setattr__(self, "_nngrade_target", target)
        if namespace.get(bound_as) is self:
            namespace[bound_as] = target
        return target

    def __getattr__(self, attr):
        if attr in ("__wrapped__", "__signature__") or (attr.startswith("__") and attr.endswith("__")):
            raise AttributeError(attr)
        return getattr(self._resolve(), attr)

    def __call__(self, *args, **kwargs):
        return self._resolve()(*args, **kwargs)

    def __getitem__(self, key):
        return self._resolve()[key]

    def __mro_entries__(self, bases):
        return (self._resolve(),)

    def __repr__(self) -> str:
        spec = object.__getattribute__(self, "_nngrade_spec")
        return f"<lazy import {spec[2]}{'.' + spec[3] if spec[3] else ''}>"


def _is_cheap(top: str) -> bool:
    return top in sys.modules or top in sys.stdlib_module_names


def _locate(module: str) -> str | None:
    """None if `module` can be found without running it, else why not."""
    if module.split(".")[0] in sys.modules:
        return None
    try:
        found = importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if found else f"no module named {module.split('.')[0]!r}"


def bind_import(node: ast.Import | ast.ImportFrom, namespace: dict) -> list[str]:
    """Execute one import statement into namespace lazily; returns messages for failed names."""
    problems: list[str] = []
    if isinstance(node, ast.ImportFrom):
        if node.level:
            names = ", ".join(a.name for a in node.names)
            reason = "relative imports need a package; submissions are single files"
            for alias in node.names:
                namespace[alias.asname or alias.name] = MissingImport(alias.name, reason)
            return [f"from {'.' * node.level}{node.module or ''} import {names}: {reason}"]
        module = node.module or ""
        if any(alias.name == "*" for alias in node.names):
            return _star_import(module, namespace)
        missing = _locate(module)
        for alias in node.names:
            bound = alias.asname or alias.name
            if missing:
                namespace[bound] = MissingImport(f"{module}.{alias.name}", missing)
                problems.append(f"from {module} import {alias.name}: {missing}")
            elif _is_cheap(module.split(".")[0]):
                try:
                    mod = importlib.import_module(module)
                    namespace[bound] = (
                        getattr(mod, alias.name)
                        if hasattr(mod, alias.name)
                        else importlib.import_module(f"{module}.{alias.name}")
                    )
                except Exception as exc:
                    namespace[bound] = MissingImport(f"{module}.{alias.name}", f"{type(exc).__name__}: {exc}")
                    problems.append(f"from {module} import {alias.name}: {type(exc).__name__}: {exc}")
            else:
                namespace[bound] = LazyImport(namespace, bound, module, alias.name, None)
        return problems
    for alias in node.names:
        module = alias.name
        top = module.split(".")[0]
        bound = alias.asname or top
        missing = _locate(module)
        if missing:
            namespace[bound] = MissingImport(module, missing)
            problems.append(f"import {module}: {missing}")
        elif _is_cheap(top):
            try:
                mod = importlib.import_module(module)
                namespace[bound] = mod if alias.asname else sys.modules[top]
            except Exception as exc:
                namespace[bound] = MissingImport(module, f"{type(exc).__name__}: {exc}")
                problems.append(f"import {module}: {type(exc).__name__}: {exc}")
        else:
            namespace[bound] = LazyImport(namespace, bound, module, None, None if alias.asname else top)
    return problems


def _star_import(module: str, namespace: dict) -> list[str]:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        return [f"from {module} import *: {type(exc).__name__}: {exc}"]
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    for name in names:
        if hasattr(mod, name):
            namespace[name] = getattr(mod, name)
    return []


def install_colab_stubs() -> None:
    """Make `google.colab` importable with harmless no-ops, unless a real one exists."""
    try:
        importlib.import_module("google.colab")
        return  # really running in Colab
    except Exception:
        pass
    try:
        google = importlib.import_module("google")  # e.g. protobuf's namespace package: extend it
    except Exception:
        google = types.ModuleType("google")
        google.__path__ = []
        sys.modules["google"] = google
    colab = types.ModuleType("google.colab")
    colab.__path__ = []
    drive = types.ModuleType("google.colab.drive")
    drive.mount = lambda *args, **kwargs: None
    drive.flush_and_unmount = lambda *args, **kwargs: None
    files = types.ModuleType("google.colab.files")
    files.upload = lambda *args, **kwargs: {}
    files.download = lambda *args, **kwargs: None
    output = types.ModuleType("google.colab.output")
    output.clear = lambda *args, **kwargs: None
    colab.drive, colab.files, colab.output = drive, files, output
    google.colab = colab
    for mod in (colab, drive, files, output):
        sys.modules[mod.__name__] = mod
