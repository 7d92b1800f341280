"""The one exception type that reaches the user as a single line."""


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, an unknown name.

    The message says what went wrong, where, and how to fix it. The CLI prints it on one line
    and exits non-zero; library callers can catch it.
    """
