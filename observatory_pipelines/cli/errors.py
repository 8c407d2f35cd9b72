"""Exit codes of ``observatory`` and the one error type its commands raise."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1  # invalid input, or refused (ambiguous name, file exists, bad cursor, ...)
EXIT_USAGE = 2  # argparse: unknown command or option, missing argument
EXIT_NOT_FOUND = 3  # the design, run or user named does not exist
EXIT_UNAVAILABLE = 4  # the database or object store cannot be reached, or is not migrated
EXIT_FAILED = 5  # anything else; the line names the exception

EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_REFUSED: "refused or invalid input (nothing changed)",
    EXIT_USAGE: "usage error (unknown command or option, missing argument)",
    EXIT_NOT_FOUND: "not found (design, run, user)",
    EXIT_UNAVAILABLE: "database or object store unreachable, or database not migrated",
    EXIT_FAILED: "failed for another reason (the line names it)",
}


class CliError(Exception):
    """One line for stderr and the exit code it ends with."""

    def __init__(self, message: str, code: int = EXIT_REFUSED):
        super().__init__(" ".join(str(message).split()))
        self.code = code


class NotFound(CliError, LookupError):
    def __init__(self, message: str):
        super().__init__(message, EXIT_NOT_FOUND)
