"""Operator tools for any Tuya-compatible endpoint.

python manage.py tuya request METHOD PATH [--query KEY=VALUE ...] [--body JSON]
python manage.py tuya decrypt-media --key FILE_KEY INPUT OUTPUT
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from locks.tuya import TuyaClient, TuyaError, crypto

METHODS = ("GET", "POST", "PUT", "DELETE")


def _one_line(exc: TuyaError) -> str:
    return f"{exc} — {exc.hint}"


class Command(BaseCommand):
    help = "Make a raw signed Tuya Open API call, or decrypt a downloaded lock media file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        request = sub.add_parser(
            "request",
            help="A signed call against TUYA_ENDPOINT with TUYA_ACCESS_ID / TUYA_ACCESS_SECRET; prints the envelope.",
        )
        request.add_argument("method", type=str.upper, choices=METHODS)
        request.add_argument("path", help="The API path, e.g. /v1.0/devices/DEVICE_ID")
        request.add_argument("--query", action="append", default=[], metavar="KEY=VALUE")
        request.add_argument("--body", help="A JSON body, sent as given")
        media = sub.add_parser("decrypt-media", help="Decrypt a media file downloaded from a lock's file_url.")
        media.add_argument("--key", required=True, help="The file_key that came with the media info")
        media.add_argument("input")
        media.add_argument("output")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] < 2:  # the answer or one error line; retries are shown with -v 2
            logging.getLogger("locks.tuya").setLevel(logging.WARNING)
        if options["action"] == "request":
            self._request(options)
        else:
            self._decrypt_media(options)

    def _request(self, options: dict[str, Any]) -> None:
        path: str = options["path"]
        if not path.startswith("/"):
            raise CommandError(f"The path must start with '/', e.g. /v1.0/devices/DEVICE_ID (got {path!r}).")
        query: dict[str, str] = {}
        for item in options["query"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--query takes KEY=VALUE, got {item!r}.")
            query[key] = value
        body = options["body"]
        if body is not None:
            try:
                json.loads(body)
            except ValueError as exc:
                raise CommandError(f"--body is not valid JSON: {exc}.") from None
        if not settings.TUYA_ACCESS_ID or not settings.TUYA_ACCESS_SECRET:
            raise CommandError("Set TUYA_ACCESS_ID and TUYA_ACCESS_SECRET (and TUYA_ENDPOINT) in the environment.")
        try:
            client = TuyaClient(
                settings.TUYA_ENDPOINT,
                settings.TUYA_ACCESS_ID,
                settings.TUYA_ACCESS_SECRET,
                timeout=(5.0, settings.TUYA_TIMEOUT_SECONDS),
                max_retries=1,
            )
            envelope = client.request(
                options["method"],
                path,
                query=query or None,
                body=body.encode() if body is not None else None,
                idempotent=False,
            )
        except TuyaError as exc:
            if exc.envelope is not None:  # the cloud answered success: false
                self.stdout.write(json.dumps(exc.envelope, indent=2, ensure_ascii=False))
            raise CommandError(_one_line(exc)) from None
        self.stdout.write(json.dumps(envelope, indent=2, ensure_ascii=False))

    def _decrypt_media(self, options: dict[str, Any]) -> None:
        source = Path(options["input"])
        target = Path(options["output"])
        if not source.is_file():
            raise CommandError(f"No such file: {source}")
        # Write beside the target and rename at the end, so a failure leaves no half-decrypted file.
        temp_name = None
        try:
            handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".decrypt-")
            with source.open("rb") as src, os.fdopen(handle, "wb") as dst:
                size = crypto.decrypt_media_stream(src, dst, options["key"])
            os.replace(temp_name, target)
        except TuyaError as exc:
            raise CommandError(_one_line(exc)) from None
        except OSError as exc:
            raise CommandError(f"Could not write {target}: {exc.strerror}") from None
        finally:
            if temp_name and os.path.exists(temp_name):
                os.unlink(temp_name)
        sys.stderr.write(f"Decrypted {size} bytes to {target}\n")
