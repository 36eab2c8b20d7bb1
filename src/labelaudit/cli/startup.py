"""Start-up of the ``labelaudit`` process: pandas is imported only by code that uses it.

pyarrow imports pandas whenever it converts between Arrow and Python or NumPy objects
(``pa.array``, ``pa.scalar``, ``to_numpy``, ...): its pandas shim and its C++ bridge ask
"is this a pandas object?" and find out by importing pandas. That costs 0.3-0.4 s of CPU
that a 10-row ``labelaudit agreement`` never uses (issue 15). While pandas is not imported
no pandas object can exist, so the answer "no pandas" is the true one.

:func:`defer_pandas` gives pyarrow that answer: an import of pandas requested by compiled
code (pyarrow's shim or C++ bridge) on behalf of labelaudit or pyarrow code fails, as if
pandas were not installed. Any real import, an ``import pandas`` statement or
:func:`importlib.import_module` anywhere, imports pandas as always; from then on pyarrow
has its whole pandas integration back (``to_pandas``, ``from_pandas``, pandas objects
passed to pyarrow) and nothing is refused any more. labelaudit code that calls pyarrow's
``to_pandas`` imports pandas first (:meth:`labelaudit.table.AnnotationTable.to_pandas`).

One thing differs while pandas is not imported: a *nanosecond* timestamp or duration
converted to a Python object is a ``datetime`` rather than a ``pandas.Timestamp``
(pyarrow's behaviour without pandas); labelaudit converts such columns with Arrow casts.

Only the console entry point (:func:`labelaudit.cli.app.main`) calls it: a program that
imports the library keeps pyarrow's own behaviour.
"""

from __future__ import annotations

import contextlib
import dis
import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

__all__ = ["defer_pandas"]

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
_BOOTSTRAP = "<frozen importlib._bootstrap"


def defer_pandas() -> None:
    """Refuse pyarrow's own imports of pandas until pandas is really imported (see the
    module docstring). A no-op when pandas is already imported."""
    if "pandas" in sys.modules or any(isinstance(f, _DeferPandas) for f in sys.meta_path):
        return
    finder = _DeferPandas()
    sys.meta_path.insert(0, finder)
    if "pyarrow.lib" in sys.modules:
        finder.answer_shim()


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    return str(Path(origin).parent) if origin else None


class _DeferPandas(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` until pandas is imported for real.

    pyarrow's pandas shim asks once (the answer is kept): that question is asked and
    refused right after pyarrow is imported, so that the shim never asks from inside its
    lock later. pyarrow's C++ bridge asks at every conversion until pandas is imported.
    """

    def __init__(self) -> None:
        roots = (_package_dir("labelaudit"), _package_dir("pyarrow"))
        self.roots = tuple(root for root in roots if root)
        self.refuse_all = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """pandas' own spec for a real import; ModuleNotFoundError for an import that
        compiled code asks for on behalf of labelaudit or pyarrow; None for other modules
        (pyarrow's own spec, so that its shim is answered right after it is imported)."""
        if fullname == "pyarrow":
            return _spec_then(fullname, self.answer_shim, skip=self)
        if fullname != "pandas":
            return None
        if self.refuse_all or self._refused(sys._getframe(1)):
            raise ModuleNotFoundError("pandas is imported on first use", name=fullname)
        sys.meta_path.remove(self)
        return _spec_then(fullname, _rearm_shim, skip=self)

    def answer_shim(self) -> None:
        """Ask pyarrow's pandas shim its one question now, refusing pandas."""
        if "pandas" in sys.modules:
            return
        self.refuse_all = True
        try:
            sys.modules["pyarrow.lib"]._pandas_api.have_pandas  # noqa: B018
        finally:
            self.refuse_all = False

    def _refused(self, frame: FrameType | None) -> bool:
        """True when the import comes from compiled code called by labelaudit or pyarrow
        (not an ``import`` statement, not :func:`importlib.import_module`)."""
        while frame is not None and frame.f_code.co_filename.startswith(_BOOTSTRAP):
            if frame.f_code.co_name == "_gcd_import":
                return False  # importlib.import_module, or a parent package of an import
            frame = frame.f_back
        if frame is None:
            return False
        code = frame.f_code
        if code.co_code[frame.f_lasti] == _IMPORT_NAME:
            return False  # an import statement
        return code.co_filename.startswith(self.roots)


def _rearm_shim() -> None:
    """pyarrow's pandas shim (answered "no pandas") asked again, now that pandas is here."""
    # ImportError: a pandas this pyarrow does not support (pyarrow says so on use)
    if "pyarrow.lib" in sys.modules:
        with contextlib.suppress(ImportError):
            sys.modules["pyarrow.lib"]._pandas_api.pd  # noqa: B018  (its raising check)


def _spec_then(name: str, then: Callable[[], None], skip: object) -> ModuleSpec | None:
    """The spec the other finders give top-level module ``name``, its loader running
    ``then()`` after the module is executed."""
    for finder in [f for f in sys.meta_path if f is not skip]:
        spec = finder.find_spec(name, None) if hasattr(finder, "find_spec") else None
        if spec is not None:
            if spec.loader is not None:
                spec.loader = _ThenLoader(spec.loader, then)
            return spec
    return None


class _ThenLoader(importlib.abc.Loader):
    """``loader``, then ``then()``; the module keeps ``loader`` as its own."""

    def __init__(self, loader: Any, then: Callable[[], None]) -> None:
        self.loader, self.then = loader, then

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        """The wrapped loader's module."""
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Execute the module with its own loader, then run ``then()``."""
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.then()
