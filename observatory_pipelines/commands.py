"""What a domain's command-line module is handed to mount its commands on.

argparse's ``add_subparsers()`` object has a private class; a domain's ``register`` only
needs its ``add_parser``, so this names that (a Protocol: any argparse version fits).
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol


class Subcommands(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...
