"""The standalone simulator: a threaded WSGI server answering the API at the root URL."""

from __future__ import annotations

import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

URLCONF = "locks.simulator.standalone_urls"


class StandaloneHandler(WSGIHandler):
    """Django's WSGI handler, routed through the simulator's root URLconf instead of the app's."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = URLCONF
        return super().get_response(request)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler keeps headers with underscores (client_id, access_token), unlike Django's runserver."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        pass


def build_server(host: str, port: int, *, quiet: bool = False) -> WSGIServer:
    return make_server(
        host,
        port,
        StandaloneHandler(),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler if quiet else WSGIRequestHandler,
    )
