"""The Tuya adapter of the cloud port: the only app package that imports the client, `locks.tuya`
(tests/test_architecture.py holds the rule)."""
