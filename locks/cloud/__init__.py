"""The lock cloud, in the app's terms: the port (port.py), where accounts may point (endpoints.py), the cloud of an
account (accounts.py), and one adapter per vendor (tuya/). docs/architecture.md, "The cloud port".

Nothing is imported here, so that `locks.models` can use `locks.cloud.endpoints` without loading the rest.
"""
