"""The one error type the command line turns into a one-line message."""


class CliError(Exception):
    """Bad input from the user: printed as one line on stderr, exit status 2."""

    exit_code = 2


class ToolMissingError(CliError):
    """A program a command needs (Graphviz's `dot`) is missing or failed: not bad input,
    so exit status 1 rather than 2."""

    exit_code = 1
