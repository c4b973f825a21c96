"""What lets a command that touches no device start in 0.2 s (issue 20, item 5).

Two costs every command paid before it did anything, for nothing it needed:

- Rich (~50 ms): :class:`LazyConsole` makes the console when it first prints, so ``version``
  and ``journal head``, which print plain text, never load it.
- Rich's Markdown and Traceback (~50 ms of ``--help``): Typer's help formatter imports both at
  its top (Markdown pulls markdown-it, Traceback pulls ``rich.pretty`` and attrs) and uses them
  only for ``rich_markup_mode="markdown"`` and for a crash's traceback. :func:`typer_help_deferred`
  imports the formatter with stand-ins that load the real class on first use; with a Typer whose
  formatter differs, it imports it as it is.
- pydantic (~100 ms): Typer 0.2x checks every parameter the command line reaches with a pydantic
  ``TypeAdapter``, built when the parameter is processed, even one left at its default ``None``
  (``--home``, ``--config``, ``--policy`` on every command). :class:`DeferredCoercionGroup` gives
  each parameter a coercion that answers ``None`` and a plain string itself (the same value
  Typer's adapter returns for them) and builds Typer's own coercion, the first time it is
  needed, for anything else (a path, a number, a choice). What a command accepts, refuses and
  says is Typer's; pydantic loads when a command's own models need it. A Typer without these
  internals is left to check its parameters as it does.
"""

from __future__ import annotations

import functools
import sys
import types
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from typer.core import TyperGroup

if TYPE_CHECKING:
    from rich.console import Console
    from typer._click.core import Command, Context  # Typer's own copy of click
    from typer._coercion import RuntimeParam
    from typer.core import _TyperParameter


class LazyConsole:
    """A Rich console made when it first prints (see the module's docstring)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.console.print(*objects, **options)


class _Deferred(type):
    """The metaclass of a stand-in for a Rich class: calling it, or reading one of its attributes
    (``Traceback.from_exception``), imports the real class and answers for it."""

    _where: tuple[str, str]

    def _real(cls) -> Any:
        module, name = cls._where
        return getattr(import_module(module), name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)


_DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}
"""What Typer's help formatter imports at its top and needs only on rare paths (see above)."""


def typer_help_deferred() -> None:
    """Import ``typer.rich_utils`` (the help formatter) with :data:`_DEFERRED` standing in, unless
    it or those modules are loaded already. The stand-ins are in ``sys.modules`` only while the
    formatter's module runs: anyone else importing ``rich.markdown`` gets the real one."""
    if "typer.rich_utils" in sys.modules or any(name in sys.modules for name in _DEFERRED):
        return
    for module, name in _DEFERRED.items():
        stand_in = types.ModuleType(module)
        setattr(stand_in, name, _Deferred(name, (), {"_where": (module, name)}))
        sys.modules[module] = stand_in
    try:
        import_module("typer.rich_utils")
    except ImportError:  # a Typer whose formatter imports more of them: import it as it is
        sys.modules.pop("typer.rich_utils", None)
    finally:
        for module in _DEFERRED:
            sys.modules.pop(module, None)


@functools.cache
def _typer_internals() -> tuple[type[RuntimeParam], type[_TyperParameter]] | None:
    """The deferred coercion and Typer's parameter class, or ``None`` with a Typer whose internals
    differ (it then checks every parameter as it always did: slower, the same behaviour)."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer.core import _TyperParameter
    except ImportError:
        return None

    @dataclass(frozen=True)
    class DeferredCoercion(RuntimeParam):
        """Typer's coercion of one parameter, built when a value other than a plain string arrives.

        ``RuntimeParam.coerce`` (Typer's) answers ``None`` and empty multiple values before this
        is called; a ``str`` parameter given a ``str`` gets it back unchanged, as Typer's adapter
        gives it (``str(value)``, then pydantic's ``str`` check, which passes it through).
        """

        def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
            if self.annotation is str and self.parameter_info.parser is None and type(value) is str:
                return value
            typer_own = build_runtime_param(param.type_descriptor)
            param._runtime_param = typer_own  # the next value goes straight to it
            return typer_own._coerce_value(value, param=param, ctx=ctx)

    return DeferredCoercion, _TyperParameter


def defer_coercion(command: Command, ctx: Context) -> None:
    """Give every Typer parameter of ``command`` and of its subcommands, their ``--help`` included,
    a deferred coercion (one whose coercion Typer already built keeps it). ``ctx`` is the root's:
    the subcommands' contexts inherit its help option names."""
    internals = _typer_internals()
    if internals is None:
        return
    deferred, typer_parameter = internals
    help_option = command.get_help_option(ctx)  # made once per command, cached by click
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if isinstance(param, typer_parameter) and getattr(param, "_runtime_param", False) is None:
            info = param.type_descriptor
            param._runtime_param = deferred(parameter_info=info.parameter_info, annotation=info.annotation)
    for sub in getattr(command, "commands", {}).values():
        defer_coercion(sub, ctx)


class DeferredCoercionGroup(TyperGroup):
    """The root group of ``netchange``: Typer's, with deferred coercions (see the module)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # Here: Typer appends the completion options after building the group, and the help
        # options are made with the root's context.
        defer_coercion(self, ctx)
        return super().parse_args(ctx, args)
