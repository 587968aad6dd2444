"""Errors that tumorsim reports to users as one plain line."""


class InputError(ValueError):
    """Bad user input: a name, file, key or value that is not allowed.

    The message is one line that names the offending file, key or flag and
    says what is allowed; the command line prints it without a traceback.
    """


class UnknownName(InputError, KeyError):
    """A name looked up like a key (``result["X"]``) that does not exist: an InputError that is also a KeyError."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class SolverError(RuntimeError):
    """The ODE solver failed or produced an answer that cannot be trusted."""
