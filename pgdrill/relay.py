"""A relay between the learner's session and the server that caps what reaches the grader.

Why a relay, not a wrapper around the learner's query: libpq receives a row as one message
and keeps all of it before psycopg sees a byte, so once a 300 MB value is on its way the
grader's memory holds it; the bound has to act before the bytes reach libpq. Wrapping a
named query in a measuring ``SELECT`` (as ``pgdrill.checks.sql.bounded`` does for the grader's own
reads) would change the learner's statement: its text in ``pg_stat_activity``,
``pg_stat_statements`` and the server log, its plan, and it cannot wrap what a learner may
name besides a plain query (``EXPLAIN``, ``FETCH``, ``EXECUTE``, ``… RETURNING``, a WITH that
changes data, ``SELECT INTO``). The relay leaves the statement exactly as written: the server
runs the learner's own text once, and only what comes back is measured.

The learner's session connects to a private unix socket of this relay (a folder only the
grader's user can open), which copies bytes to the real server. The server-to-client
direction is read as protocol messages (a type byte and a length, from the first byte: over
a unix socket or with ``sslmode=disable`` there is no TLS to see through), in chunks: a
message the relay does not forward is never held whole.

- A row (``DataRow``, or ``CopyData``) larger than ``ROW_BYTES``, or past ``TOTAL_BYTES``
  of rows in one statement: for a **named** statement (``begin(named=True)``), its result is
  what the checks grade, so it must be whole or nothing: the relay stops forwarding rows,
  sends the server a cancel request (so the statement ends as any cancelled statement does:
  its changes rolled back), and the client receives, in place of the server's own error or
  command-complete, an error ``54000`` that says which cap and why. For an **unnamed**
  statement, whose rows the runner only counts, the row is dropped and counted
  (``Stats.dropped``): the statement runs to its end, unchanged.
- An error or notice larger than ``MESSAGE_BYTES`` (``RAISE EXCEPTION '%', repeat(…)``)
  reaches the client cut to that size, with its severity and SQLSTATE; a parameter report
  or notification that large is dropped.
- ``BackendKeyData`` is read to cancel; the cancel's answer (the postmaster closing the
  socket) is awaited before anything else is forwarded, so it can never hit the next statement.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass

# A row of a learner's result the grader will receive, in bytes on the wire.
ROW_BYTES = 1024 * 1024
# Rows of one named statement the grader will receive, in bytes on the wire.
TOTAL_BYTES = 32 * 1024 * 1024
# An error, a notice, a parameter report or a notification.
MESSAGE_BYTES = 64 * 1024
_CHUNK = 256 * 1024
_CANCEL_CODE = 80877102


def mib(n: int) -> str:
    """A cap as people say it: 32 MiB, 64 KiB, 900 bytes."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MiB"
    return f"{n / 1024:g} KiB" if n >= 1024 else f"{n} bytes"


def row_cap_message(row_bytes: int) -> str:
    return (f"a row of its result is larger than {mib(row_bytes)}, the most the grader reads of one row: "
            "return less per row (shorter values, fewer columns)")


def total_cap_message(total_bytes: int) -> str:
    return (f"its result is larger than {mib(total_bytes)} in all, the most the grader reads of a named "
            "query: return fewer or smaller rows")


@dataclass
class Stats:
    """What the relay did to the current statement's result (reset by ``Relay.begin``)."""

    named: bool = False
    row_bytes: int = 0  # the limits in force, read when the statement begins
    total_bytes: int = 0
    received: int = 0  # bytes of rows forwarded
    dropped: int = 0  # rows of an unnamed statement not forwarded
    failed: str = ""  # a named statement stopped: the learner-facing reason


class _Pair:
    """One client connection and its server connection."""

    def __init__(self, relay: "Relay", client: socket.socket, server: socket.socket) -> None:
        self.relay, self.client, self.server = relay, client, server
        self.key: bytes = b""  # BackendKeyData's body: process id and secret key
        self.failing = False  # a named statement's rows are being cut off until ReadyForQuery

    def close(self) -> None:
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def upstream(self) -> None:
        """Client to server: bytes as they come."""
        try:
            while True:
                data = self.client.recv(_CHUNK)
                if not data:
                    break
                self.server.sendall(data)
        except OSError:
            pass
        finally:
            self.close()

    def downstream(self) -> None:
        """Server to client: message by message, each forwarded, dropped or replaced."""
        header = bytearray()
        kind, remaining, mode = b"", 0, ""
        kept = bytearray()  # a message's head, for the modes that look at it
        try:
            while True:
                data = self.server.recv(_CHUNK)
                if not data:
                    break
                out = bytearray()
                view, i = memoryview(data), 0
                while i < len(data):
                    if not mode:
                        take = min(5 - len(header), len(data) - i)
                        header += view[i:i + take]
                        i += take
                        if len(header) < 5:
                            break
                        kind, remaining = bytes(header[:1]), struct.unpack("!i", header[1:5])[0] - 4
                        mode = self._decide(kind, remaining)
                        if mode == "forward":
                            out += header
                        header.clear()
                        kept.clear()
                    else:
                        take = min(remaining, len(data) - i)
                        if mode == "forward":
                            out += view[i:i + take]
                        elif mode == "keep":
                            kept += view[i:i + min(take, max(0, MESSAGE_BYTES - len(kept)))]
                        i += take
                        remaining -= take
                    if mode and remaining == 0:
                        out += self._finish(kind, mode, bytes(kept))
                        mode = ""
                if out:
                    self.client.sendall(out)
        except OSError:
            pass
        finally:
            self.close()

    def _decide(self, kind: bytes, size: int) -> str:
        stats = self.relay.stats
        if kind in (b"D", b"d"):
            if self.failing:
                return "drop"
            if size > stats.row_bytes or stats.received + size > stats.total_bytes:
                if not stats.named:
                    stats.dropped += 1
                    return "drop"
                stats.failed = (row_cap_message(stats.row_bytes) if size > stats.row_bytes
                                else total_cap_message(stats.total_bytes))
                self.failing = True
                self._cancel()
                return "drop"
            stats.received += size
            return "forward"
        if self.failing and kind in (b"E", b"C"):
            return "keep"  # replaced by the cap's error
        if kind == b"K" or (kind in (b"E", b"N") and size > MESSAGE_BYTES):
            return "keep"
        if kind in (b"S", b"A") and size > MESSAGE_BYTES:
            return "drop"
        return "forward"

    def _finish(self, kind: bytes, mode: str, body: bytes) -> bytes:
        if mode != "keep":
            if kind == b"Z":
                self.failing = False
            return b""
        if kind == b"K":
            self.key = body
            return _message(kind, body)
        if self.failing:
            # The server's own answer says whether the cancel came in time: an error (the
            # cancel's, or any) means the statement's changes are undone with it; a command
            # complete means it had finished (an INSERT … RETURNING computes its rows first).
            what = ("; the statement had already finished, so its changes were kept" if kind == b"C"
                    else "; the statement was cancelled")
            return _error({b"S": b"ERROR", b"V": b"ERROR", b"C": b"54000"}, self.relay.stats.failed + what)
        return _cut(kind, body)

    def _cancel(self) -> None:
        """Ask the server to cancel this session's statement; return once it was asked."""
        if len(self.key) < 8:
            return
        packet = struct.pack("!ii", 8 + len(self.key), _CANCEL_CODE) + self.key
        try:
            with self.relay.connect_server() as s:
                s.settimeout(5)
                s.sendall(packet)
                while s.recv(64):
                    pass
        except OSError:
            pass


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _fields(body: bytes) -> dict[bytes, bytes]:
    """The fields of an ErrorResponse / NoticeResponse body, the last one possibly cut."""
    fields: dict[bytes, bytes] = {}
    i = 0
    while i < len(body) and body[i] != 0:
        end = body.find(b"\0", i + 1)
        cut = end < 0
        fields[body[i:i + 1]] = body[i + 1:] if cut else body[i + 1:end]
        if cut:
            fields[b"\0cut"] = b""
            break
        i = end + 1
    return fields


def _error(fields: dict[bytes, bytes], text: str) -> bytes:
    body = b"".join(k + v + b"\0" for k, v in fields.items()) + b"M" + text.encode() + b"\0\0"
    return _message(b"E", body)


def _cut(kind: bytes, head: bytes) -> bytes:
    """An error or notice too large to forward, from its first MESSAGE_BYTES: severity, code
    and the message's start, and a note that says it was cut."""
    fields = _fields(head)
    keep = {k: fields[k] for k in (b"S", b"V", b"C") if k in fields}
    primary = fields.get(b"M", b"")[: MESSAGE_BYTES // 2].decode("utf-8", "replace")
    note = f" … (cut: the message was longer than {mib(MESSAGE_BYTES)})"
    body = b"".join(k + v + b"\0" for k, v in keep.items()) + b"M" + (primary + note).encode() + b"\0\0"
    return _message(kind, body)


class Relay:
    """A private unix socket that relays to ``target`` (a unix socket path, or host and port).

    ``params()`` are the connection parameters that go through it; ``begin(named)`` starts a
    statement's accounting, ``stats`` says what happened. One learner session at a time is
    expected (a cancel request may come beside it). ``close()`` ends every connection.
    """

    def __init__(self, target: str | tuple[str, int], port: int, *, parent: str | None = None) -> None:
        self.target = target
        self.port = port
        self.stats = Stats()
        # Inside the cluster's own folder when there is room for a socket path (about 100
        # bytes): whatever removes the cluster, even after a crash, removes this too.
        if parent is not None and (len(str(parent)) > 70 or not os.path.isdir(parent)):
            parent = None
        self.dir = tempfile.mkdtemp(prefix="pgdrill-relay-", dir=parent)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(os.path.join(self.dir, f".s.PGSQL.{port}"))
        self._listener.listen(8)
        self._pairs: list[_Pair] = []
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._accepting = threading.Thread(target=self._accept, name="pgdrill-relay", daemon=True)
        self._accepting.start()

    @classmethod
    def for_server(cls, server, dbname: str) -> "Relay":
        params = server.connect_params(dbname, None)
        host, port = str(params.get("host") or "/var/run/postgresql"), int(params.get("port") or 5432)
        target = os.path.join(host, f".s.PGSQL.{port}") if host.startswith("/") else (host, port)
        base = getattr(server, "base_dir", None)
        return cls(target, port, parent=str(base) if base else None)

    def params(self) -> dict:
        # No TLS or GSS encryption between the session and the relay: the relay must read the
        # messages (a unix socket never uses them anyway).
        return {"host": self.dir, "port": self.port, "sslmode": "disable", "gssencmode": "disable"}

    def begin(self, named: bool) -> Stats:
        self.stats = Stats(named=named, row_bytes=ROW_BYTES, total_bytes=TOTAL_BYTES)
        return self.stats

    def connect_server(self) -> socket.socket:
        if isinstance(self.target, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            s = socket.socket(socket.AF_INET6 if ":" in self.target[0] else socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(self.target)
        except OSError:
            s.close()
            raise
        return s

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = self.connect_server()
            except OSError:
                client.close()
                continue
            pair = _Pair(self, client, server)
            self._pairs.append(pair)
            for target in (pair.upstream, pair.downstream):
                thread = threading.Thread(target=target, name="pgdrill-relay", daemon=True)
                thread.start()
                self._threads.append(thread)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._accepting.join(timeout=5)
        for pair in self._pairs:
            pair.close()
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
