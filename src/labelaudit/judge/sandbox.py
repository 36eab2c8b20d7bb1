"""The judge template sandbox: Jinja2's immutable sandbox with bounded size and time.

Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps a template away
from Python internals, but a template can still loop, recurse and allocate without end
(two nested ``range(100000)`` loops, ``'a' * 10**11``, a macro calling itself). This
environment bounds one render (:meth:`BoundedSandbox.render`):

- **Time**: every loop iteration, call (macros included), filter and intercepted operator
  checks a deadline of ``seconds`` per render.
- **Output**: every piece of text a template produces (literal text and ``{{ ... }}``,
  counted where it is produced, so text built inside a macro or a ``{% set %}`` block
  and then printed counts again) adds to a budget of ``max_chars`` characters per render.
- **Values**: ``*``, ``+``, ``%`` and ``**`` are checked before they run (a string or
  list longer than ``max_chars``, an integer above ``2**100000``); the results of calls,
  filters and ``~`` concatenations, and the values stored in a ``namespace``, longer than
  ``max_chars`` are refused; integer arguments of calls and filters above ``max_chars``
  (widths of ``center``, ``indent``, ``format``...) and format strings holding such a
  number are refused before they run.

A limit reached raises :class:`TemplateLimit`; the caller turns it (and RecursionError,
MemoryError) into a one-line error.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

__all__ = ["BoundedSandbox", "TemplateLimit"]

_MAX_BITS = 100_000
_NUMBER = re.compile(r"\d+")
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)


class TemplateLimit(Exception):
    """A render went past one of the sandbox's limits (the message says which)."""


class _CodeGenerator(CodeGenerator):
    """Jinja2's code generator plus the calls that charge output and tick the clock."""

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        size = sum(len(child.data) for child in node.nodes if isinstance(child, nodes.TemplateData))
        if size:
            self.writeline(f"environment.charge({size})")
        super().visit_Output(node, frame)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        iterable = node.iter
        wrapped = isinstance(iterable, nodes.Call) and isinstance(
            iterable.node, nodes.EnvironmentAttribute
        )
        if not wrapped:
            call = nodes.Call(nodes.EnvironmentAttribute("ticking"), [iterable], [], None, None)
            node.iter = call.set_lineno(node.lineno).set_environment(self.environment)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose renders are bounded (see the module docstring).

    Parameters
    ----------
    max_chars : int
        Characters a render may produce, and the longest value it may build.
    seconds : float
        Time allowed per render.
    """

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, *, max_chars: int, seconds: float) -> None:
        finalize = pass_context(lambda context, value: self._finalize(value))
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=finalize,
        )
        self.max_chars, self.seconds = max_chars, seconds
        self._deadline: float | None = None
        self._produced = 0
        self.filters = {name: self._bounded(f) for name, f in self.filters.items()}
        sandbox = self

        class BoundedNamespace(Namespace):
            def __setitem__(self, name: str, value: Any) -> None:
                super().__setitem__(name, sandbox.checked(value))

        self.globals["namespace"] = BoundedNamespace

    # ------------------------------------------------------------------ the budget
    def render(self, template: Any, variables: dict[str, Any]) -> str:
        """Render ``template`` (compiled by this environment) within the limits."""
        self._deadline, self._produced = time.monotonic() + self.seconds, 0
        try:
            return str(template.render(variables))
        finally:
            self._deadline = None

    def tick(self) -> None:
        """Raise TemplateLimit once the render has used its time (no-op outside renders)."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TemplateLimit(f"rendering took longer than render_timeout = {self.seconds:g} s")

    def charge(self, size: int) -> None:
        """Count ``size`` characters of output; raise TemplateLimit past ``max_chars``."""
        self.tick()
        if self._deadline is None:
            return
        self._produced += size
        if self._produced > self.max_chars:
            raise TemplateLimit(
                f"the template produced more than max_prompt_chars = {self.max_chars} characters"
            )

    def checked(self, value: Any) -> Any:
        """``value``, or TemplateLimit when it is a string or collection above ``max_chars``."""
        if isinstance(value, _SIZED) and len(value) > self.max_chars:
            raise TemplateLimit(
                f"a value of {len(value)} characters or items, above max_prompt_chars = "
                f"{self.max_chars}"
            )
        if isinstance(value, int) and value.bit_length() > _MAX_BITS:
            raise TemplateLimit(f"an integer above 2**{_MAX_BITS}")
        return value

    def _finalize(self, value: Any) -> str:
        text = str(value)
        self.charge(len(text))
        return text

    def _arguments(self, args: Iterable[Any], format_string: str | None = None) -> None:
        for arg in args:
            if isinstance(arg, int) and not isinstance(arg, bool) and arg > self.max_chars:
                raise TemplateLimit(f"an argument {arg} above max_prompt_chars = {self.max_chars}")
        numbers = _NUMBER.findall(format_string or "")
        if any(len(n) > 12 or int(n) > self.max_chars for n in numbers):
            raise TemplateLimit(f"a format width above max_prompt_chars = {self.max_chars}")

    # ------------------------------------------------------------------ the hooks
    def ticking(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Every for loop iterates through this: one tick per item."""
        for item in iterable:
            self.tick()
            yield item

    def _bounded(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.tick()
            is_format = getattr(function, "__name__", "") == "do_format"
            self._arguments(
                [*args, *kwargs.values()],
                next((a for a in args if isinstance(a, str)), None) if is_format else None,
            )
            return self.checked(function(*args, **kwargs))

        return bounded

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Every call in a template: tick, check the arguments, check the result."""
        __self.tick()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        is_format = isinstance(owner, str) and getattr(target, "__name__", "") in (
            "format",
            "format_map",
        )
        __self._arguments([*args, *kwargs.values()], owner if is_format else None)
        return __self.checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``*``, ``+``, ``%`` and ``**``, refused before they build something too large."""
        self.tick()
        problem = _binop_problem(operator, left, right, self.max_chars)
        if problem is not None:
            raise TemplateLimit(problem)
        if operator == "%" and isinstance(left, str):
            self._arguments([], left)
        return self.checked(super().call_binop(context, operator, left, right))


def _binop_problem(operator: str, left: Any, right: Any, max_chars: int) -> str | None:
    """Why ``left <operator> right`` would be too large, or None."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and _too_many_bits(left, right):
        return f"a power above 2**{_MAX_BITS}"
    if operator == "*" and ints and abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS:
        return f"a product above 2**{_MAX_BITS}"
    size = 0
    if operator == "*":
        size = _repeat_size(left, right)
    elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        size = len(left) + len(right)
    if size > max_chars:
        return f"a value of {size} characters or items, above max_prompt_chars = {max_chars}"
    return None


def _repeat_size(left: Any, right: Any) -> int:
    """Length of ``left * right`` when one side is a sequence and the other an integer."""
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, _SIZED) and isinstance(count, int):
            return len(sequence) * max(count, 0)
    return 0


def _too_many_bits(base: Any, exponent: Any) -> bool:
    """True when ``base ** exponent`` is an integer with more than _MAX_BITS bits."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0:
        return False
    return abs(base) > 1 and exponent * abs(base).bit_length() > _MAX_BITS
