"""A tiny SMTP server on a free loopback port, for tests of what the portal does when mail is
sent, refused or never answered: Django's real SMTP backend talks to it over TCP."""

import socketserver
import threading
from contextlib import contextmanager

from tests.sandbox_process import free_port


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        server: SMTPServer = self.server.owner
        if server.mode == "silent":  # accepts the connection, never greets: the client times out
            server.released.wait(30)
            return
        if server.mode == "refuse":
            self._reply("554 5.3.2 Not accepting mail just now")
            return
        self._reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                self._reply("250 localhost")
            elif command in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self._reply("250 OK")
            elif command == b"DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                message = b"".join(iter(self.rfile.readline, b".\r\n"))
                server.released.wait(server.delay)  # holds the sender: widens a race's window
                server.messages.append(message)
                self._reply("250 OK: queued")
            elif command == b"QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class SMTPServer:
    """`mode`: "accept" (messages land in `messages`, each after `delay` seconds), "refuse"
    (554 at the greeting) or "silent" (never answers)."""

    def __init__(self, mode: str = "accept", delay: float = 0.0):
        self.mode, self.delay = mode, delay
        self.messages: list[bytes] = []
        self.released = threading.Event()
        self.port = free_port()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self


def point_smtp_at(settings, port: int, timeout: float = 5) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


@contextmanager
def smtp_server(mode: str = "accept", delay: float = 0.0):
    server = SMTPServer(mode, delay)
    thread = threading.Thread(target=server._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server._server.shutdown()
        server._server.server_close()
        thread.join()
