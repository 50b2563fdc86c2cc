"""Notifications of image events, as Glance 2011.3 (Diablo) sent them.

``notifier_strategy`` picks where they go:

* ``noop``: nowhere (the default).
* ``logging``: one log line per event, JSON, on the ``glance.notifier``
  logger at the event's level (WARN, INFO, ERROR).
* ``rabbit``: to RabbitMQ, on the durable queue ``<topic>.<PRIORITY>``
  (``glance_notifications.INFO``) as Diablo's kombu ``SimpleQueue`` did,
  so a consumer written for Diablo reads them unchanged.

A request never waits for the broker: events go to a bounded in-memory
queue and one background thread sends them.  When the broker is down or
goes away the thread logs it once, keeps the newest events (dropping the
oldest when the queue is full, and counting them), retries, and sends what
it kept when the broker is back.
"""
import collections
import datetime
import json
import logging
import socket
import threading
import time
import uuid

from glance.config import ConfigError

LOG = logging.getLogger("glance.notifier")

WARN, INFO, ERROR = "WARN", "INFO", "ERROR"
LEVELS = {WARN: logging.WARNING, INFO: logging.INFO, ERROR: logging.ERROR}


def message(event_type, priority, payload, publisher_id=None):
    """One notification, in Diablo's format.

    :param event_type: e.g. ``image.upload``.
    :param priority: WARN, INFO or ERROR.
    :param payload: anything JSON can encode (never a location or a credential).
    :param publisher_id: default: this host's name.
    """
    return {
        "message_id": str(uuid.uuid4()),
        "publisher_id": publisher_id or socket.gethostname(),
        "event_type": event_type,
        "priority": priority,
        "payload": payload,
        # naive UTC, as Diablo's str(datetime.utcnow()) (deprecated since Python 3.12)
        "timestamp": str(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)),
    }


class Notifier:
    """What glance-api calls: ``info``/``warn``/``error(event_type, payload)``; never raises."""

    def __init__(self, strategy):
        self.strategy = strategy

    def notify(self, event_type, priority, payload):
        try:
            self.strategy.send(message(event_type, priority, payload))
        except Exception:       # an event is never worth a failed request
            LOG.exception("Could not send notification %s", event_type)

    def info(self, event_type, payload):
        self.notify(event_type, INFO, payload)

    def warn(self, event_type, payload):
        self.notify(event_type, WARN, payload)

    def error(self, event_type, payload):
        self.notify(event_type, ERROR, payload)

    def sending(self, chunks, image, ctx, request=None):
        """``chunks``, counted; ``image.send`` once the last one has gone out.

        A download cut short (client gone, store error) sends nothing.
        Closing this closes ``chunks``.

        :param image: the image being downloaded (only its id and owner are sent).
        :param ctx: the receiver's :class:`glance.context.RequestContext`.
        :param request: the HTTP request (its ``remote_addr``), if any.
        """
        # Read now: the response is streamed after the request context is gone.
        payload = {"image_id": image.get("id"), "owner_id": image.get("owner"),
                   "receiver_tenant_id": ctx.tenant, "receiver_user_id": ctx.user,
                   "destination_ip": getattr(request, "remote_addr", None)}
        return self._counted(chunks, payload)

    def _counted(self, chunks, payload):
        sent = 0
        try:
            for chunk in chunks:
                yield chunk
                sent += len(chunk)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        self.info("image.send", {"bytes_sent": sent, **payload})

    def close(self):
        """Send what is queued (at most the send timeout), then stop."""
        self.strategy.close()


class NoopStrategy:
    def send(self, msg):
        pass

    def close(self):
        pass


class LoggingStrategy:
    """Each event as a JSON log line at its priority's level."""

    def __init__(self, logger=None):
        self.log = logger or logging.getLogger("glance.notifier.logging_notifier")

    def send(self, msg):
        self.log.log(LEVELS.get(msg["priority"], logging.INFO), json.dumps(msg))

    def close(self):
        pass


def _kombu():
    try:
        import kombu      # optional dependency (extra "rabbit"): only for this strategy
    except ImportError:
        raise ConfigError("notifier_strategy = rabbit needs kombu "
                          "(pip install kombu, or apt install python3-kombu)") from None
    return kombu


class RabbitStrategy:
    """Events to RabbitMQ from one background thread, through a bounded queue.

    :param conf: the options ``rabbit_*`` and ``notifier_*``.
    """

    def __init__(self, conf):
        self.kombu = _kombu()
        self.conf = conf
        self.topic = conf.rabbit_notification_topic
        self.timeout = float(conf.notifier_send_timeout)
        self.retry_interval = float(conf.notifier_retry_interval)
        self.where = f"{conf.rabbit_host}:{conf.rabbit_port}"
        self.pending = collections.deque()
        self.limit = max(1, int(conf.notifier_queue_size))
        self.cond = threading.Condition()
        self.closing = False
        self.deadline = None
        self.dropped = 0          # during the current outage (or since the last report)
        self.outage = None        # reason of the outage in progress, or None
        self.connection = None
        self.queues = {}
        self.thread = threading.Thread(target=self._run, name="glance-notifier", daemon=True)
        self.thread.start()

    # -- called by request threads: never blocks on the broker --

    def send(self, msg):
        with self.cond:
            if self.closing:
                return
            if len(self.pending) >= self.limit:
                self.pending.popleft()
                self.dropped += 1
                if self.dropped == 1:
                    LOG.warning("Notification queue full (%d): dropping the oldest "
                                "notifications until %s takes them again", self.limit, self.where)
            self.pending.append(msg)
            self.cond.notify()

    def close(self):
        with self.cond:
            self.closing = True
            self.deadline = time.monotonic() + self.timeout
            self.cond.notify()
        self.thread.join(self.timeout + 1)
        if self.pending:
            LOG.warning("Stopping with %d notifications not sent to %s",
                        len(self.pending), self.where)
        self._disconnect()

    # -- the sender thread --

    def _next(self):
        """The oldest pending message (left in the queue until sent), or None to stop."""
        with self.cond:
            while not self.pending and not self.closing:
                self.cond.wait()
            if not self.pending:
                return None
            if self.closing and time.monotonic() > self.deadline:
                return None
            return self.pending[0]

    def _run(self):
        while True:
            msg = self._next()
            if msg is None:
                return
            try:
                self._publish(msg)
            except self.kombu.exceptions.EncodeError as exc:
                LOG.error("Notification %s cannot be encoded, dropped: %s",
                          msg.get("event_type"), exc)
            except Exception as exc:     # any broker or network failure: keep it, retry
                self._down(exc)
                self._disconnect()
                with self.cond:
                    if not self.closing:
                        self.cond.wait(self.retry_interval)
                    elif time.monotonic() > self.deadline:
                        return
                continue
            with self.cond:
                if self.pending and self.pending[0] is msg:
                    self.pending.popleft()
            self._up()

    def _connect(self):
        conf, timeout = self.conf, self.timeout
        connection = self.kombu.Connection(
            hostname=conf.rabbit_host, port=int(conf.rabbit_port), userid=conf.rabbit_userid,
            password=conf.rabbit_password, virtual_host=conf.rabbit_virtual_host,
            ssl=bool(conf.rabbit_use_ssl), transport="pyamqp", connect_timeout=timeout,
            # confirm_publish: a message counts as sent only once the broker took it;
            # the socket timeouts bound every wait on a broker that stops answering.
            transport_options={"confirm_publish": True, "read_timeout": timeout,
                               "write_timeout": timeout})
        # One attempt: retrying is the sender loop's job (connect() would sleep 2 s and retry).
        connection.ensure_connection(max_retries=0)
        return connection

    def _publish(self, msg):
        if self.connection is None:
            self.connection = self._connect()
        name = f"{self.topic}.{msg['priority']}"
        queue = self.queues.get(name)
        if queue is None:
            # SimpleQueue(name): durable queue bound to a direct exchange of the
            # same name with routing key name, as Diablo's consumers expect.
            queue = self.queues[name] = self.connection.SimpleQueue(name, serializer="json")
        queue.put(msg, serializer="json")

    def _disconnect(self):
        queues, connection = list(self.queues.values()), self.connection
        self.queues, self.connection = {}, None
        for item in queues + ([connection] if connection else []):
            try:
                item.close()
            except Exception:    # already broken: nothing to release
                pass

    def _down(self, exc):
        exc = exc.__cause__ or exc      # kombu wraps socket errors in OperationalError
        if isinstance(exc, (TimeoutError, socket.timeout)):
            reason = f"no answer within notifier_send_timeout ({self.timeout:g}s)"
        else:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self.outage is None:
            LOG.warning("Cannot send notifications to RabbitMQ at %s (%s); keeping up to %d "
                        "and retrying every %gs", self.where, reason, self.limit,
                        self.retry_interval)
        self.outage = reason

    def _up(self):
        if self.outage is None and not self.dropped:
            return
        with self.cond:
            dropped, self.dropped = self.dropped, 0
        if self.outage is not None:
            LOG.warning("RabbitMQ at %s takes notifications again; %d were dropped meanwhile "
                        "(queue full)", self.where, dropped)
        elif dropped:
            LOG.warning("%d notifications were dropped: the queue was full", dropped)
        self.outage = None


STRATEGIES = {"noop": lambda conf: NoopStrategy(),
              "logging": lambda conf: LoggingStrategy(),
              "rabbit": RabbitStrategy}


def build_notifier(conf, start=True):
    """The :class:`Notifier` for ``conf.notifier_strategy`` (its default: noop).

    :param start: False only checks that the strategy can run (kombu for rabbit)
        and gives a noop notifier: for the parent of worker processes, which
        sends nothing and must not fork with a sender thread running.
    :raises ConfigError: rabbit without kombu.
    """
    name = conf.notifier_strategy
    if not start:
        if name == "rabbit":
            _kombu()
        return Notifier(NoopStrategy())
    return Notifier(STRATEGIES[name](conf))
