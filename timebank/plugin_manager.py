"""The plugin manager: built-ins from one list, entry points, and a plugins folder.

timebank calls hook implementations one plugin at a time rather than through
pluggy's all-at-once call, for two reasons: each plugin receives its own
settings, and an exception is reported with the name of the plugin that raised
it, so a co-ordinator knows which rule to switch off.

Of pluggy's call semantics it keeps the order (last registered first, ``tryfirst``,
``trylast``) and ``firstresult`` (the first answer that is not None ends the call). A
``wrapper`` or ``hookwrapper`` implementation wraps pluggy's all-at-once call, which
timebank never makes, so a plugin with one is refused when it is registered rather
than called as if it were an ordinary implementation. Every result is checked
against its hook's declared type here, in ``_call_one``, and nowhere else.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from timebank import hookspecs
from timebank.errors import PluginFailed, PluginRefused
from timebank.rules import Rules, Setting

BUILTIN_PLUGINS = (
    "timebank.plugins.classic",
    "timebank.plugins.credit_limits",
    "timebank.plugins.confirmation",
    "timebank.plugins.time_bank",
    "timebank.plugins.mutual_credit",
    "timebank.plugins.fureai_kippu",
    "timebank.plugins.han_group",
    "timebank.plugins.social_coop_it",
    "timebank.plugins.solidarity_coop",
    "timebank.plugins.friendly_society",
    "timebank.plugins.social_prescribing",
    "timebank.plugins.care_coop",
    "timebank.plugins.safeguarding",
    "timebank.plugins.reports",
)

PLUGINS_DIR_ENV = "TIMEBANK_PLUGINS_DIR"


def _shown(value: Any) -> str:
    """A wrong result as a person can read it: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '…' if len(text) > 60 else text}"


def _list_of(kind: str, check: Callable[[Any], bool]) -> Callable[[Any], str]:
    def problem(result: Any) -> str:
        if not isinstance(result, list | tuple):
            return f"returned {_shown(result)}, not a list (each item {kind})"
        for item in result:
            if not check(item):
                return f"returned {_shown(item)} in its list, not {kind}"
        return ""

    return problem


def _one_of(kind: str, types: tuple[type, ...]) -> Callable[[Any], str]:
    return lambda result: "" if isinstance(result, types) else f"returned {_shown(result)}, not {kind}"


def _limits_by_handle(result: Any) -> str:
    from timebank.limits import Limits

    if not isinstance(result, dict):
        return f"returned {_shown(result)}, not a dict of handle to Limits"
    for handle, limits in result.items():
        if not isinstance(handle, str) or not isinstance(limits, Limits):
            return f"returned {_shown(handle)}: {_shown(limits)} in its dict, not a handle and Limits"
    return ""


def _minutes(result: Any) -> str:
    """Whole minutes, 0 or more (a bool is not a number of minutes)."""
    if isinstance(result, int) and not isinstance(result, bool) and result >= 0:
        return ""
    return f"returned {_shown(result)}, not a number of minutes (a whole number, 0 or more)"


def _is(*types: type) -> Callable[[Any], bool]:
    return lambda item: isinstance(item, types)


def _screen(item: Any) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 3
        and isinstance(item[0], str)
        and isinstance(item[1], str)
        and isinstance(item[2], type)
    )


def _result_checks() -> dict[str, Callable[[Any], str] | None]:
    """What each hook must return (besides None), checked in one place for every plugin.

    The hooks' docstrings in ``timebank.hookspecs`` say the same in words. Checks that need
    the call's context (a batch's length, postings summing to zero, an account existing) are
    made where the results are used, in ``timebank.pipeline``. ``None`` means the result is
    not used.
    """
    from timebank.listings import Match
    from timebank.models import Account, Decision, Draft, ExchangeField, Posting, Problem, Report
    from timebank.publishing.disclosure import Figure, Measure

    def per_exchange(result: Any) -> str:
        """One list of postings (or None) per exchange; the batch's length, known accounts
        and sums to zero need the call's context and are checked in ``timebank.pipeline``."""
        if not isinstance(result, list | tuple):
            return f"returned {_shown(result)}, not a list (one list of postings per exchange)"
        for postings in result:
            if postings is not None and not isinstance(postings, list | tuple):
                return f"returned {_shown(postings)} in its list, not a list of postings"
            for posting in postings or ():
                if not isinstance(posting, Posting) or type(posting.amount) is not int:
                    return f"returned {_shown(posting)}, not a Posting in minutes"
        return ""

    problems = _list_of("a Problem", _is(Problem))
    return {
        "declare_settings": _list_of("a Setting", _is(Setting)),
        "validate_settings": problems,
        "declare_flags": _list_of("a flag name (text)", _is(str)),
        "declare_member_classes": _list_of("a member class name (text)", _is(str)),
        "declare_categories": _list_of("a category name (text)", _is(str)),
        "declare_system_accounts": _list_of("an Account", _is(Account)),
        "declare_member_accounts": _list_of("an Account", _is(Account)),
        "declare_tables": _list_of("an SQL statement (text)", _is(str)),
        "validate_member": problems,
        "validate_exchanges": problems,
        "validate_drafts": problems,
        "check_permission": problems,
        "make_postings": per_exchange,
        "add_postings": per_exchange,
        "decide_recording": _one_of("a Decision or a Problem", (Decision, Problem)),
        "entries_for_member_change": _list_of("a Draft", _is(Draft)),
        "close_period": _list_of("a Draft", _is(Draft)),
        "make_reports": _list_of("a Report", _is(Report)),
        "contribute_public_figures": _list_of("a Measure or a Figure", _is(Measure, Figure)),
        "add_tui_screens": _list_of("a (name, title, screen class) tuple", _screen),
        "after_entries_recorded": None,
        "register_commands": None,
        "add_demo_records": None,
        "validate_listing": problems,
        "refuse_matches": problems,
        "rank_matches": _list_of("a Match", _is(Match)),
        "member_limits": _limits_by_handle,
        "near_limit_within": _minutes,
        "exchange_fields": _list_of("an ExchangeField", _is(ExchangeField)),
    }


RESULT_CHECKS: dict[str, Callable[[Any], str] | None] = {}


def plugin_name(module_name: str) -> str:
    """A built-in's short name: ``timebank.plugins.credit_limits`` -> ``credit_limits``."""
    return module_name.rsplit(".", 1)[-1]


def _refusal(manager: pluggy.PluginManager, plugin: object, name: str) -> str:
    """Why timebank cannot run ``plugin`` as pluggy would (empty if it can)."""
    for caller in manager.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            kind = "wrapper" if impl.wrapper else "hookwrapper" if impl.hookwrapper else ""
            if impl.plugin is plugin and kind:
                return (
                    f"plugin {name!r} is refused: its {caller.name} hook is marked {kind}=True, "
                    f"which timebank does not run because it calls each plugin in turn, so drop "
                    f"{kind}=True and return the hook's result"
                )
    return ""


class _Manager(pluggy.PluginManager):
    """pluggy's manager, refusing at registration what ``Plugins`` would not run as pluggy
    does; entry points and the plugins folder register through here too."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        if registered is not None:
            reason = _refusal(self, plugin, registered)
            if reason:
                self.unregister(plugin)
                raise PluginRefused(registered, reason)
        return registered


class Plugins:
    """Registered plugins and the calls into them."""

    def __init__(self, *, entry_points: bool = True, plugins_dir: str | Path | None = None):
        # Plugins of the plugins folder that could not be loaded, with why: left out, so
        # that verify, backup and the rest still work (rules that enable one name it).
        self.failed: dict[str, str] = {}
        self.pm = _Manager("timebank")
        self.pm.add_hookspecs(hookspecs)
        for module_name in BUILTIN_PLUGINS:
            self.register(importlib.import_module(module_name), plugin_name(module_name))
        if entry_points:
            self._load_entry_points()
        folder = plugins_dir or os.environ.get(PLUGINS_DIR_ENV)
        if folder:
            self.load_folder(Path(folder))

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register ``plugin``; raises ``PluginRefused`` for one timebank cannot run."""
        return self.pm.register(plugin, name=name)

    def _load_entry_points(self) -> None:
        """Installed plugins (entry point group ``timebank``); a refused one is left out
        and recorded in ``failed``, like a broken file in the plugins folder."""
        while True:
            try:
                self.pm.load_setuptools_entrypoints("timebank")
                return
            except PluginRefused as exc:
                # pluggy stops at the refused one; it is now blocked, so loading again
                # skips it and goes on with the rest
                self.pm.set_blocked(exc.plugin)
                self.failed[exc.plugin] = str(exc)

    def load_folder(self, folder: Path) -> None:
        """Register every ``*.py`` file in ``folder`` as a plugin named after the file.

        A file that fails to import is left out and recorded in ``failed``: one broken file
        must not stop ``verify`` or ``backup`` of every ledger.
        """
        for path in sorted(folder.glob("*.py")):
            spec = importlib.util.spec_from_file_location(f"timebank_local_{path.stem}", path)
            assert spec and spec.loader
            module: ModuleType = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                self.failed[path.stem] = (
                    f"plugin {path.stem!r} could not be loaded from {path} ({type(exc).__name__}: {exc})"
                )
                continue
            try:
                self.register(module, path.stem)
            except PluginRefused as exc:
                self.failed[path.stem] = str(exc)

    def names(self) -> list[str]:
        """Registered plugins (a refused entry point stays blocked by name, with no plugin)."""
        return [name for name, plugin in self.pm.list_name_plugin() if plugin is not None]

    def describe(self) -> list[dict[str, Any]]:
        """Each plugin's name, version (from its distribution if any) and hooks."""
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked: refused (see ``failed``)
                continue
            dist = dists.get(id(plugin))
            version = dist.version if dist else getattr(plugin, "__version__", None)
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            out.append({"name": name, "version": version or "built-in", "hooks": hooks})
        return out

    def _impls(self, hook: str, rules: Rules | None) -> Iterator[tuple[str, Any, list[str]]]:
        """Implementations in pluggy's call order (last registered, tryfirst first)."""
        enabled = None if rules is None else set(rules.enabled)
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if enabled is None or impl.plugin_name in enabled:
                yield impl.plugin_name, impl.function, impl.argnames

    def implements(self, hook: str, rules: Rules | None) -> bool:
        """Whether any plugin (any enabled one, given ``rules``) implements ``hook``."""
        return any(True for _ in self._impls(hook, rules))

    def firstresult(self, hook: str) -> bool:
        """Whether ``hook`` is declared ``firstresult``: the first answer ends the call."""
        spec = getattr(self.pm.hook, hook).spec
        return bool(spec and spec.opts.get("firstresult"))

    def call(self, hook: str, rules: Rules | None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` on each plugin (enabled ones when ``rules`` is given).

        Returns ``(plugin, result)`` pairs for results that are not None; for a
        ``firstresult`` hook, only the first (later plugins are not called). A plugin
        that raises, or returns what the hook does not promise, becomes ``PluginFailed``
        naming it.
        """
        only_first = self.firstresult(hook)
        results = []
        for name, result in self._each(hook, rules, kwargs):
            if result is not None:
                results.append((name, result))
                if only_first:
                    break
        return results

    def first(self, hook: str, rules: Rules | None, **kwargs: Any) -> tuple[str, Any] | None:
        """A ``firstresult`` hook's answer as ``(plugin, result)``, None if no plugin answers."""
        if not self.firstresult(hook):
            raise ValueError(f"{hook} is not a firstresult hook: every plugin's answer counts")
        found = self.call(hook, rules, **kwargs)
        return found[0] if found else None

    def callers(self, hook: str, rules: Rules | None) -> Iterator[tuple[str, Callable[..., Any]]]:
        """Each implementation as ``(plugin, call)``, in call order, for hooks whose
        arguments change from one plugin to the next (``make_postings`` passes on only the
        exchanges earlier plugins left). ``call(**kwargs)`` adds the plugin's settings."""
        for name, function, argnames in self._impls(hook, rules):
            yield name, functools.partial(self._call_one, hook, rules, name, function, argnames)

    @staticmethod
    def _call_one(
        hook: str, rules: Rules | None, name: str, function: Any, argnames: Sequence[str], **kwargs: Any
    ) -> Any:
        if "settings" in argnames:
            kwargs["settings"] = rules.settings(name) if rules is not None else {}
        try:
            result = function(**{a: kwargs[a] for a in argnames})
        except PluginFailed:
            raise
        except Exception as exc:
            raise PluginFailed(name, hook, f"{type(exc).__name__}: {exc}") from exc
        if result is not None:
            if not RESULT_CHECKS:
                RESULT_CHECKS.update(_result_checks())
            check = RESULT_CHECKS.get(hook)
            problem = check(result) if check is not None else ""
            if problem:
                raise PluginFailed(name, hook, problem)
        return result

    def _each(self, hook: str, rules: Rules | None, kwargs: dict) -> Iterable[tuple[str, Any]]:
        for name, call in self.callers(hook, rules):
            yield name, call(**kwargs)

    def declared_settings(self) -> dict[str, tuple[Setting, ...]]:
        """Every registered plugin's settings, by plugin name (empty if it declares none)."""
        declared = {name: () for name in self.names()}
        for name, settings in self.call("declare_settings", None):
            declared[name] = tuple(settings)
        return declared


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugin set: built-ins, entry points and the plugins folder."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default
