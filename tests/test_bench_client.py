"""The claim race's client connection (bench/keepalive.py, `KeptConnection`): answers read whole however they
arrive, kept alive between requests, closed when the server says so, and refused when they are not read by length."""

import socket
import threading
import time

import pytest
from support import bench_script


@pytest.fixture(scope="module")
def race_module():
    return bench_script("claim_race")


class ScriptedServer:
    """A loopback server that answers each request it reads with the next of `answers` (lists of byte pieces,
    sent with a pause between them), and counts the connections and requests it was sent."""

    def __init__(self, answers: list[list[bytes]]):
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.answers:
            conn, _ = self.listener.accept()
            self.connections += 1
            with conn:
                buffer = b""
                while self.answers:
                    while b"\r\n\r\n" not in buffer:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buffer += chunk
                    if b"\r\n\r\n" not in buffer:
                        break  # the client closed this connection: wait for its next one
                    request, _, buffer = buffer.partition(b"\r\n\r\n")
                    self.requests.append(request)
                    pieces = self.answers.pop(0)
                    for piece in pieces:
                        conn.sendall(piece)
                        time.sleep(0.01)
                    if b"Connection: close" in pieces[0]:
                        break

    def close(self) -> None:
        self.listener.close()


def answer(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_answers_are_read_whole_however_they_arrive_and_the_connection_is_kept(race_module):
    body = '{"status": "claimed", "title": "陪老人去医院复查"}'.encode()
    whole = answer("200 OK", body, "Content-Type: application/json")
    server = ScriptedServer(
        [
            # split mid-status, mid-header and twice mid-body
            [whole[:7], whole[7:40], whole[40:-20], whole[-20:-10], whole[-10:]],
            [answer("409 CONFLICT", b'{"error": {"code": "state_conflict"}}')],
        ]
    )
    connection = race_module.KeptConnection(server.port)
    try:
        assert connection.exchange(b"POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n") == (200, body)
        status, second = connection.exchange(b"POST /b HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    finally:
        connection.close()
        server.close()
    assert (status, race_module.error_code(second.decode())) == (409, "state_conflict")
    assert server.connections == 1  # kept alive
    assert [r.split(b" ")[1] for r in server.requests] == [b"/a", b"/b"]


def test_a_connection_the_server_closes_is_opened_anew_for_the_next_request(race_module):
    server = ScriptedServer([[answer("200 OK", b"one", "Connection: close")], [answer("200 OK", b"two")]])
    connection = race_module.KeptConnection(server.port)
    try:
        assert connection.exchange(b"GET /1 HTTP/1.1\r\n\r\n") == (200, b"one")
        assert connection.sock is None
        assert connection.exchange(b"GET /2 HTTP/1.1\r\n\r\n") == (200, b"two")
    finally:
        connection.close()
        server.close()
    assert server.connections == 2


def test_an_answer_not_read_by_its_length_is_refused(race_module):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    server = ScriptedServer([[chunked]])
    connection = race_module.KeptConnection(server.port)
    try:
        with pytest.raises(ValueError, match="chunked"):
            connection.exchange(b"GET / HTTP/1.1\r\n\r\n")
    finally:
        connection.close()
        server.close()
