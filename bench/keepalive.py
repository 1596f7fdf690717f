"""A keep-alive HTTP/1.1 connection that costs its caller little CPU: for a benchmark's many client threads, which
share the machine with the server they measure (bench/claim_race.py)."""

import socket


class KeptConnection:
    """A keep-alive connection to a server on the loopback: the request goes out as ready bytes, and the answer
    is read by its Content-Length, its status line and two headers parsed; it reconnects after a close.

    The claim race's 200 client threads took 0.26–0.48 ms of CPU a request with http.client, which parses every
    answer's headers with the email package: about a tenth of the machine. With this, 0.15–0.22 ms
    (bench/README.md, the claim race, 2026-12-06).
    """

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send `request`; the answer's status and body. OSError or ValueError when the answer is not one."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].split(b"\r\n"), self.buffer[end + 4 :]
        status = int(head[0].split(b" ", 2)[1])  # HTTP/1.1 200 OK
        length, closing = None, False
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ValueError(f"a {value.strip().decode()} answer: only a Content-Length is read")
        if length is None:
            raise ValueError("an answer without Content-Length")
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if closing:
            self.close()
        return status, body

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
