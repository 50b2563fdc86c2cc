"""WSGI plumbing shared by both servers."""
import logging
import time


class RequestLog:
    """Log every request once, when its response has been sent.

    The line gives method, path, status, bytes sent and time taken.  Bytes are
    counted as the body is streamed, so a download is logged when it ends.
    """

    def __init__(self, app, logger_name):
        self.app = app
        self.log = logging.getLogger(logger_name)

    def __call__(self, environ, start_response):
        began = time.monotonic()
        status = ["-"]

        def recording_start(code, headers, exc_info=None):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        body = self.app(environ, recording_start)
        return _Counted(body, self, environ, status, began)

    def done(self, environ, status, sent, began, error=None):
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        elapsed = time.monotonic() - began
        line = "%s %s %s %d %.4fs"
        args = (environ.get("REQUEST_METHOD"), path, status, sent, elapsed)
        if error is not None:
            self.log.error(line + " (response aborted: %s)", *args, error)
        else:
            self.log.info(line, *args)


class _Counted:
    """Response iterable that counts bytes and logs when closed."""

    def __init__(self, body, owner, environ, status, began):
        self.body, self.owner, self.environ = body, owner, environ
        self.status, self.began, self.sent, self.error = status, began, 0, None

    def __iter__(self):
        try:
            for chunk in self.body:
                self.sent += len(chunk)
                yield chunk
        except Exception as exc:
            self.error = exc
            raise

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.owner.done(self.environ, self.status[0], self.sent, self.began, self.error)
