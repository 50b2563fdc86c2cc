"""Files written and read around the page cache (O_DIRECT), each on its own thread:
the image cache's entries and the filesystem store's images.

Why: a fill or an upload writes a whole image once.  Through the page cache
every byte needs a newly allocated page, and on a VM whose freed memory is
handed back to its host (free page reporting) each new page costs a host
fault: about 0.6 CPU-s per 512 MiB here, more than the download's own work.
Direct I/O moves the data by DMA instead, and a multi-gigabyte image no
longer evicts the pages the node serves hot.  The price: the first read of
such a file goes to the disk.

O_DIRECT wants block-aligned buffers, lengths and offsets, so data goes
through page-aligned buffers and only a file's last partial block is
written buffered.  A filesystem that refuses O_DIRECT (or one direct read or
write) gets buffered I/O.
The I/O runs on a thread so the disk's wait overlaps the network's.
"""
import errno
import fcntl
import mmap
import os
import queue
import threading
import time

from glance.store.hashing import Waits, end_queue

BLOCK = 4096            # a multiple of any logical block size O_DIRECT asks for
STAGE = 4 << 20         # bytes per direct write
DEPTH = 4               # chunks queued between a download and its writer thread
READ_AHEAD = 2 * STAGE  # bytes a cached download reads ahead (its memory)


def set_direct(fd, on=True):
    """Switch O_DIRECT on ``fd``; :returns: False when its filesystem refuses it."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT if on else flags & ~os.O_DIRECT)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return False
    return True


class Writer:
    """Write the chunks given to :meth:`write` to ``fd``, in order, on a thread.

    :meth:`close` waits for the last byte (and raises what went wrong);
    :meth:`abandon` stops without writing what is queued.  ``fd`` stays the
    caller's, to close after either.  Memory: ``depth`` queued chunks, and with
    O_DIRECT a ``stage`` of that many bytes (a multiple of BLOCK) per write.
    """

    def __init__(self, fd, direct, name, depth=DEPTH, stage=STAGE):
        self.fd = fd
        self.stage_size = stage
        self.direct = direct and set_direct(fd)
        self.error = None
        self.waits = Waits(name)        # logged at close: is the disk the bottleneck?
        self._abandoned = False
        self._chunks = queue.Queue(depth)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, chunk):
        """Queue ``chunk`` (blocks while the disk is behind); False once writing failed."""
        if self.error is not None or self._abandoned:
            return False
        self.waits.put(self._chunks, chunk)
        return True

    def close(self):
        """Wait until everything queued is written. :raises OSError: it could not be."""
        self._chunks.put(None)
        self._thread.join()
        self.waits.log()
        if self.error is not None:
            raise self.error

    def abandon(self):
        """Stop; returns once the thread is done with ``fd`` (so it can be closed)."""
        self._abandoned = True
        if self._thread.is_alive():
            end_queue(self._chunks)
        self._thread.join()

    def _run(self):
        stage = _Stage(self.stage_size) if self.direct else None
        waits = self.waits
        try:
            while (chunk := waits.get(self._chunks)) is not None:
                if not self._abandoned and self.error is None:
                    began = time.perf_counter()
                    self._guarded(stage.add if stage else _write_chunk, chunk)
                    waits.busy += time.perf_counter() - began
                    waits.chunks += 1
                    waits.bytes += len(chunk)
            if stage and not self._abandoned and self.error is None:
                self._guarded(stage.flush_tail)
        finally:
            if stage:
                stage.release()

    def _guarded(self, write, *chunk):
        try:
            write(*chunk, self.fd)
        except Exception as exc:    # noqa: BLE001 - the cache must never stall a download
            # The rest is drained unwritten; close() raises it.
            self.error = exc if isinstance(exc, OSError) else OSError(0, repr(exc))


class _Buffer:
    """``size`` bytes of page-aligned memory (an anonymous mapping); none for size 0."""

    def __init__(self, size):
        self.mapping = mmap.mmap(-1, size) if size else None
        self.view = memoryview(self.mapping) if size else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def release(self):
        if self.mapping is not None:
            self.view.release()
            self.mapping.close()


class _Stage(_Buffer):
    """A page-aligned buffer of ``size`` bytes that goes to the disk whenever it is full."""

    def __init__(self, size):
        super().__init__(size)
        self.size = size
        self.filled = 0

    def add(self, chunk, fd):
        data = memoryview(chunk)
        while data:
            n = min(len(data), self.size - self.filled)
            self.view[self.filled:self.filled + n] = data[:n]
            self.filled += n
            data = data[n:]
            if self.filled == self.size:
                _write_all(fd, self.view)
                self.filled = 0

    def flush_tail(self, fd):
        """Write what is left: whole blocks directly, the last partial block buffered."""
        whole = self.filled - self.filled % BLOCK
        _write_all(fd, self.view[:whole])
        if whole < self.filled:
            set_direct(fd, False)
            _write_all(fd, self.view[whole:self.filled])
        self.filled = 0


def read_chunks(handle, size, chunk_size, direct):
    """Yield the first ``size`` bytes of the file ``handle`` in ``chunk_size`` pieces, read
    ahead on a thread (directly where the filesystem allows); a file that shrank ends
    short.  Closes ``handle`` when done or when the consumer stops early (a generator
    never started leaves it to the garbage collector)."""
    fd = handle.fileno()
    direct = direct and set_direct(fd)
    chunks = queue.Queue(max(1, READ_AHEAD // max(chunk_size, STAGE)))
    stop = threading.Event()
    thread = threading.Thread(target=_read, args=(fd, size, chunk_size, direct, chunks, stop),
                              name="cache-read", daemon=True)
    thread.start()
    try:
        while (pieces := chunks.get()) is not None:
            if isinstance(pieces, OSError):
                raise pieces
            yield from pieces
    finally:
        stop.set()
        while thread.is_alive():    # it may be waiting to put: empty the queue
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                pass
        handle.close()


def _read(fd, size, chunk_size, direct, chunks, stop):
    offset = 0
    try:
        with _Buffer(STAGE if direct else 0) as buffer:
            while offset < size and not stop.is_set():
                if direct:
                    # STAGE bytes per read (fewer, larger DMAs), sent in chunk_size pieces.
                    try:
                        got = os.preadv(fd, [buffer.view], offset)
                    except OSError as exc:
                        if exc.errno != errno.EINVAL:
                            raise
                        set_direct(fd, False)
                        direct = False          # the rest is read buffered
                        continue
                    want = min(got, size - offset)
                    pieces = [buffer.view[at:min(at + chunk_size, want)].tobytes()
                              for at in range(0, want, chunk_size)]
                    full = STAGE
                else:
                    want = full = min(chunk_size, size - offset)
                    pieces = [os.pread(fd, want, offset)]
                    got = len(pieces[0])
                chunks.put([piece for piece in pieces if piece])
                if got < full:
                    break           # the file ends early (it shrank)
                offset += want
    except OSError as exc:
        chunks.put(exc)
    finally:
        chunks.put(None)


def _write_chunk(chunk, fd):
    _write_all(fd, memoryview(chunk))


def _write_all(fd, view):
    """Write all of ``view``; a direct write the filesystem refuses (EINVAL: it wants
    a larger alignment than BLOCK) is retried, and the rest written, buffered."""
    while view:
        try:
            view = view[os.write(fd, view):]
        except OSError as exc:
            if exc.errno != errno.EINVAL or not _is_direct(fd):
                raise
            set_direct(fd, False)


def _is_direct(fd):
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
