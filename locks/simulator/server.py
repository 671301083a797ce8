"""The standalone simulator: a threaded WSGI server answering the API at the root URL."""

from __future__ import annotations

import socket
import socketserver
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

from locks.simulator.push import PushServer, start_push_server

URLCONF = "locks.simulator.standalone_urls"
DROP_HEADER = "X-Sim-Drop-Connection"  # set by the API view for a lost reply; this server then hangs up


class StandaloneHandler(WSGIHandler):
    """Django's WSGI handler, routed through the simulator's root URLconf instead of the app's."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = URLCONF  # type: ignore[attr-defined]  # Django documents it; django-stubs omits it
        return super().get_response(request)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    push: PushServer | None = None  # the message service beside the API, when asked for

    def server_close(self) -> None:
        super().server_close()
        if self.push is not None:
            self.push.stop()
            self.push = None


class _DroppingServerHandler(ServerHandler):
    """Hangs up instead of answering when the view asks for it (the "lost_reply" fault)."""

    request_handler: WSGIRequestHandler

    def finish_response(self) -> None:
        headers: Headers | None = self.headers  # type: ignore[attr-defined]  # BaseHandler's; typeshed omits it
        if headers is not None and headers.get(DROP_HEADER):
            self.request_handler.close_connection = True
            self.request_handler.connection.shutdown(socket.SHUT_RDWR)
            self.close()
            return
        super().finish_response()


class SimRequestHandler(WSGIRequestHandler):
    """wsgiref's handler, which keeps headers with underscores (client_id, access_token) unlike Django's
    runserver, plus the ability to drop a connection without a reply."""

    quiet = False

    def handle(self) -> None:
        # As WSGIRequestHandler.handle, with the dropping ServerHandler.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _DroppingServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # a binary file: typeshed types it BufferedIOBase, not IO[bytes]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        if not self.quiet:
            super().log_message(format, *args)


class QuietSimRequestHandler(SimRequestHandler):
    quiet = True


def build_server(
    host: str, port: int, *, quiet: bool = False, push_port: int | None = None, push_poll_seconds: float = 0.2
) -> ThreadingWSGIServer:
    """The API server; with `push_port` (0 = any free port) also the message service, started at once in a daemon
    thread: `server.push.url`. `server_close()` stops both."""
    server = make_server(
        host,
        port,
        StandaloneHandler(),
        server_class=ThreadingWSGIServer,
        handler_class=QuietSimRequestHandler if quiet else SimRequestHandler,
    )
    assert isinstance(server, ThreadingWSGIServer)
    if push_port is not None:
        server.push = start_push_server(host, push_port, poll_seconds=push_poll_seconds)
    return server
