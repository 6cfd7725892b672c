"""Errors that name the file, field or line that is wrong."""

from __future__ import annotations


class TeachwhyError(Exception):
    """A user-facing error: its message names what is wrong and where."""


class InputError(TeachwhyError):
    """A bad input file, record or field."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem
