"""api.device: device details, with the local key kept out of repr."""

from __future__ import annotations

from locks.tuya.api import DeviceStatus

DEV = "60613135b121cddc294xxxx"


def test_get_device(api, fake):
    fake.reply(
        {
            "active_time": 1589505938,
            "biz_type": 299009,
            "category": "ms",
            "create_time": 1560827137,
            "icon": "smart/icon/x.png",
            "id": DEV,
            "ip": "120.198.1.1",
            "local_key": "3a9b50126fe47300",
            "name": "Front door",
            "online": True,
            "owner_id": "1070",
            "product_id": "g0er6hSK",
            "product_name": "Wi-Fi lock",
            "status": [{"code": "residual_electricity", "value": "80"}, {"code": "hijack", "value": "false"}],
            "sub": False,
            "time_zone": "+08:00",
            "uid": "ay157896239864843g",
            "update_time": 1589764585,
            "uuid": "60613135b23cddc294",
            "new_field": 1,
        }
    )
    device = api.device.get_device(DEV)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query, sent.body) == ("GET", f"/v1.0/devices/{DEV}", {}, None)
    assert (device.id, device.name, device.local_key, device.online, device.sub) == (
        DEV,
        "Front door",
        "3a9b50126fe47300",
        True,
        False,
    )
    assert (device.category, device.product_name, device.active_time, device.biz_type) == (
        "ms",
        "Wi-Fi lock",
        1589505938,
        299009,
    )
    assert device.status[0] == DeviceStatus(code="residual_electricity", value="80")
    assert "3a9b50126fe47300" not in repr(device)
    assert device.raw["result"]["new_field"] == 1


def test_get_device_tolerates_a_sparse_result(api, fake):
    fake.reply({"id": DEV})
    device = api.device.get_device(DEV)
    assert (device.id, device.local_key, device.status, device.online) == (DEV, "", (), False)
