"""structlog, configured once: JSON lines on stderr, and the same events in Dagster's run log.

Inside a Dagster step an event goes to ``context.log`` (so the UI's run log
shows it); anywhere else (CLIs, tests, services) it is one JSON line on stderr.
Values of secret-looking keys are replaced before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

import structlog

SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey", "credential", "authorization")
_LEVELS = ("debug", "info", "warning", "error", "critical", "exception")
_lock = threading.Lock()
_configured = False


def redact_secrets(_logger, _method, event_dict: dict) -> dict:
    for key in list(event_dict):
        if any(marker in key.lower() for marker in SECRET_KEYS):
            event_dict[key] = "***"
    return event_dict


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (pytest and CLIs swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _stderr_logger() -> logging.Logger:
    logger = logging.getLogger("observatory")
    if not logger.handlers:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def set_stderr_level(level: int) -> None:
    """Only events at ``level`` or above reach stderr (a CLI whose stderr is for its errors)."""
    _stderr_logger().setLevel(level)


_run_log_finders: list[Callable[[], Any]] = []


def route_to_run_log(finder: Callable[[], Any]) -> None:
    """Register ``finder``: it returns the current run's logger (or None outside a run).

    The Dagster edge registers one (``resources/__init__.py``); plain code never imports
    Dagster to look for a step.
    """
    if finder not in _run_log_finders:
        _run_log_finders.append(finder)


def _run_log():
    for finder in _run_log_finders:
        try:
            target = finder()
        except Exception:
            target = None
        if target is not None:
            return target
    return None


class _RoutingLogger:
    """Decides per event: the run log when inside a step, stderr otherwise.

    Logging never raises into the work: when the run log cannot take an event (its
    storage is the database that just went away, say), the event goes to stderr.
    """

    def _emit(self, level: str, message: str) -> None:
        method = "error" if level == "exception" else level
        target = _run_log()
        if target is not None:
            try:
                getattr(target, method)(message)
                return
            except Exception:
                pass
        try:
            getattr(_stderr_logger(), method)(message)
        except Exception:
            pass

    def __getattr__(self, level: str):
        if level not in _LEVELS and level != "msg":
            raise AttributeError(level)
        return lambda message: self._emit("info" if level == "msg" else level, message)


def configure_logging(level: int = logging.INFO) -> None:
    global _configured
    with _lock:
        if _configured:
            return
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                redact_secrets,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=lambda *_args: _RoutingLogger(),
            cache_logger_on_first_use=True,
        )
        _configured = True


def get_logger(name: str):
    configure_logging()
    return structlog.get_logger(name).bind(logger=name)
