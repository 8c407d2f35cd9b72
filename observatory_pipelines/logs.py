"""structlog, configured once: JSON lines on stderr, and the same events in Dagster's run log.

Inside a Dagster step an event goes to ``context.log`` (so the UI's run log
shows it); anywhere else (CLIs, tests, services) it is one JSON line on stderr.
Values of secret-looking keys are replaced before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
import threading

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


def _dagster_log():
    # No step can be running where Dagster was never imported; don't import it to find out.
    if "dagster" not in sys.modules:
        return None
    try:
        from dagster import OpExecutionContext

        return OpExecutionContext.get().log
    except Exception:
        return None


class _RoutingLogger:
    """Decides per event: Dagster's run log when inside a step, stderr otherwise."""

    def _emit(self, level: str, message: str) -> None:
        target = _dagster_log() or _stderr_logger()
        getattr(target, "error" if level == "exception" else level)(message)

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
