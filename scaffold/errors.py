"""The error the generators raise for bad input."""

from pylon_trace.errors import CliError


class ScaffoldError(CliError):
    """A name, directory or project the generators refuse; one line, exit status 2.

    A CliError subclass so the command line prints it without a traceback, while
    code calling the generators directly can catch just this.
    """
