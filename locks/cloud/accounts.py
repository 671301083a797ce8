"""The cloud of a cloud account, as the port (locks/cloud/port.py): the one place that picks an account's adapter.

Every account is a Tuya project today; a second vendor adds its adapter and its choice here, nothing above.
"""

from __future__ import annotations

from locks.cloud.port import LockCloud
from locks.cloud.tuya.adapter import TuyaCloud
from locks.cloud.tuya.client import api_for
from locks.models import CloudAccount


def cloud_for(account: CloudAccount) -> LockCloud:
    """The account's cloud: one client per account and process, its token shared through Redis; an account whose
    endpoint this server may not call gets one whose every call raises EndpointRefused, with nothing sent."""
    return TuyaCloud(api_for(account))
