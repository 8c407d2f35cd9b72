"""Resource configuration from the environment, for variables that may be unset."""

import os

import dagster as dg


def optional_env(name: str) -> dg.EnvVar | None:
    """``EnvVar(name)`` when set, so the UI shows where a value came from; else None."""
    return dg.EnvVar(name) if os.environ.get(name) else None
