"""Reads the function app's own registrations: names, triggers and the Python callables."""

import importlib
import inspect
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import azure.functions as func

log = logging.getLogger(__name__)

SUPPORTED = {"httpTrigger": "http", "queueTrigger": "queue", "timerTrigger": "timer"}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class FunctionSpec:
    """One registered function, as the host needs it."""

    name: str
    kind: str  # "http" | "queue" | "timer"
    trigger: dict[str, Any]
    user_function: Callable[..., Any]

    @property
    def arg_name(self) -> str:
        """The parameter the trigger value is passed as."""
        return str(self.trigger["name"])

    @property
    def is_async(self) -> bool:
        """Async functions run on the event loop, sync ones in the thread pool."""
        return inspect.iscoroutinefunction(self.user_function)


def load_app(project_dir: Path, module: str = "function_app") -> func.FunctionApp:
    """Import ``function_app.py`` from the project folder and return its ``FunctionApp``."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    namespace = importlib.import_module(module)
    apps = [value for value in vars(namespace).values() if isinstance(value, func.FunctionApp)]
    if len(apps) != 1:
        raise RuntimeError(f"{module}.py must define exactly one FunctionApp, found {len(apps)}")
    return apps[0]


_SETTING = re.compile(r"%([^%\s]+)%")


def resolve(value: Any, environ: Mapping[str, str]) -> Any:
    """A binding property with its ``%AppSetting%`` expressions replaced, as the host does."""
    if not isinstance(value, str):
        return value

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise RuntimeError(f"binding expression %{name}% names an app setting that is not set")
        return environ[name]

    return _SETTING.sub(setting, value)


def discover(app: func.FunctionApp, environ: Mapping[str, str] | None = None) -> list[FunctionSpec]:
    """Every function the app registered whose trigger this host can serve.

    ``%AppSetting%`` expressions in trigger properties (a queue name, a schedule) are resolved
    from ``environ`` (the process environment by default).
    """
    environ = os.environ if environ is None else environ
    specs = []
    # get_functions() records every name it has seen and refuses to list them a second time.
    app.functions_bindings = None
    for function in app.get_functions():
        name = str(function.get_function_name())
        declared = function.get_trigger()
        if declared is None:
            raise RuntimeError(f"function {name} has no trigger")
        trigger = {k: resolve(_plain(v), environ) for k, v in declared.get_dict_repr().items()}
        kind = SUPPORTED.get(trigger["type"])
        if kind is None:
            log.warning("function %s: %s triggers are not served locally", name, trigger["type"])
            continue
        user_function = function.get_user_function()
        extra = set(inspect.signature(user_function).parameters) - {trigger["name"]}
        if extra:
            raise RuntimeError(f"function {name}: bindings {sorted(extra)} are not served locally")
        specs.append(FunctionSpec(name, kind, trigger, user_function))
    return specs
