"""The HTTP server of glance-registry: waitress, with limits on slow clients.

waitress reads requests in its main loop and gives a worker thread only a
complete request, so a slow client never holds a worker.  It still holds a
connection, and past ``connection_limit`` waitress stops accepting: 100 clients
trickling header bytes would lock everyone out, since waitress's own idle
timeout counts any byte as activity.  :func:`close_slow_clients` closes, with
408, a connection whose request line and headers take longer than
``header_timeout`` or whose body stays silent for ``body_timeout``.
"""
import time

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

SWEEP_INTERVAL = 0.5


class Channel(HTTPChannel):
    """waitress's connection, plus when the request it is reading began."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.began = self.creation_time      # a new connection must send its headers in time
        self.heard = False

    def received(self, data):
        if self.request is None and self.heard:
            self.began = time.time()         # between requests: from the next one's first byte
        self.heard = self.heard or bool(data)
        return super().received(data)

    def overdue(self, now, header_timeout, body_timeout):
        """Why this connection must be closed now, or None."""
        if self.requests or self.will_close or self.close_when_flushed:
            return None                      # a complete request is being answered
        request = self.request
        if request is None:
            if not self.heard and now - self.began > header_timeout:
                return f"Request headers not received within {header_timeout} seconds"
            return None                      # idle between requests: channel_timeout
        if not request.headers_finished:
            if now - self.began > header_timeout:
                return f"Request headers not received within {header_timeout} seconds"
        elif now - self.last_activity > body_timeout:
            return f"Request body stalled for more than {body_timeout} seconds"
        return None


def make_server(conf, app, sock, backlog):
    """A waitress server for ``app`` on the listening socket ``sock`` (of ``backlog``), with
    the limits of ``conf`` (not serving yet)."""
    server = create_server(app, sockets=[sock], backlog=backlog,
                           threads=conf.server_threads, channel_timeout=conf.server_timeout,
                           connection_limit=conf.max_connections,
                           max_request_header_size=conf.max_header_size,
                           max_request_body_size=conf.max_request_body_size,
                           ident=None, asyncore_use_poll=True)
    for item in channel_map(server).values():
        if isinstance(item, BaseWSGIServer):
            item.channel_class = Channel
    return server


def channel_map(server):
    """The asyncore map of ``server``: its listening sockets and connections."""
    return getattr(server, "map", None) or server._map


class SlowClients:
    """Close connections that break ``header_timeout`` or ``body_timeout``; call :meth:`sweep`
    from the main loop (it does the work at most every ``SWEEP_INTERVAL`` seconds)."""

    def __init__(self, conf):
        self.header_timeout = conf.header_timeout
        self.body_timeout = conf.body_timeout
        self.next = 0.0

    def sweep(self, channels):
        now = time.time()
        if now < self.next:
            return
        self.next = now + SWEEP_INTERVAL
        for channel in list(channels):
            if not isinstance(channel, Channel):
                continue
            reason = channel.overdue(now, self.header_timeout, self.body_timeout)
            if reason is not None:
                body = reason.encode() + b"\n"
                channel.send(b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))
                channel.will_close = True
