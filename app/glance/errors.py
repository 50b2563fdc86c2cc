"""The base of every error that goes with an HTTP status.

The API and the registry raise them to answer a request; their clients
raise them for an error answer.  No imports: ``glance.client`` stays free
of the servers' dependencies.
"""


class StatusError(Exception):
    """A readable ``message`` and the HTTP ``status`` it goes with.

    Subclasses fix ``status``; a caller may give another one.
    """

    status = 500

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


def by_status(*classes):
    """``{status: class}``: which exception an error answer becomes."""
    return {cls.status: cls for cls in classes}
