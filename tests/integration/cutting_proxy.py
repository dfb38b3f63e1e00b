"""A TCP proxy in front of redis-server that cuts one client connection at its Nth EXEC: the lost-reply case."""

from __future__ import annotations

import socket
import threading
import time

EXEC = b"*1\r\n$4\r\nEXEC\r\n"


class CuttingProxy:
    """Relays Redis connections to `port`; at the `at`-th EXEC it cuts that connection, once.

    `applied=True`: the EXEC reaches the server, which runs the transaction, and its reply is held
    back until the connection is cut (the client cannot know the transaction was applied).
    `applied=False`: the EXEC never reaches the server, so the transaction is discarded.
    """

    def __init__(self, port: int, at: int, applied: bool) -> None:
        self.upstream = ("127.0.0.1", port)
        self.at, self.applied = at, applied
        self.execs = 0
        self.cut = 0  # connections cut so far
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            muted = threading.Event()  # the server's replies are held back from the client
            threading.Thread(target=self._to_server, args=(client, server, muted), daemon=True).start()
            threading.Thread(target=self._to_client, args=(server, client, muted), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket, muted: threading.Event) -> None:
        while data := _recv(client):
            with self._lock:
                self.execs += data.count(EXEC)
                cutting = EXEC in data and self.execs >= self.at and not self.cut
                if cutting:
                    self.cut += 1
            if cutting:
                muted.set()
                if self.applied:
                    server.sendall(data)
                    time.sleep(0.3)  # the server runs the transaction; its reply goes nowhere
                for end in (client, server):
                    _close(end)
                return
            server.sendall(data)
        _close(server)

    def _to_client(self, server: socket.socket, client: socket.socket, muted: threading.Event) -> None:
        while data := _recv(server):
            if not muted.is_set():
                try:
                    client.sendall(data)
                except OSError:
                    break
        _close(client)


def _recv(end: socket.socket) -> bytes:
    try:
        return end.recv(65536)
    except OSError:
        return b""


def _close(end: socket.socket) -> None:
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()
