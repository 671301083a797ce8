"""A client for the Tuya Open API smart-lock endpoints. Plain Python: no Django imports here."""

from .client import RawResponse, Transport, TuyaClient, Urllib3Transport
from .errors import *  # noqa: F403 - the error classes are part of the public API
from .regions import REGIONS, resolve_endpoint
from .tokens import MemoryTokenStore, RedisTokenStore, Token, TokenStore

__all__ = [
    "REGIONS",
    "MemoryTokenStore",
    "RawResponse",
    "RedisTokenStore",
    "Token",
    "TokenStore",
    "Transport",
    "TuyaClient",
    "Urllib3Transport",
    "resolve_endpoint",
]
