"""api.users: device users, home users, roles, validity periods, removed users, a user's devices."""

from __future__ import annotations

from locks.tuya.api import DeviceUser, Role, ScheduleWindow, Sex, UnlockDpCode

DEV = "vdevo16232264458xxxx"


def test_add_device_user(api, fake):
    fake.reply({"user_id": "u-1"})
    result = api.users.add_device_user(
        DEV, nick_name="Ann", sex=Sex.FEMALE, birthday=631152000000, height=170, weight=60000, contact="ann@x"
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.0/devices/{DEV}/user")
    assert sent.json == {
        "nick_name": "Ann",
        "sex": 2,
        "birthday": 631152000000,
        "height": 170,
        "weight": 60000,
        "contact": "ann@x",
    }
    assert result.user_id == "u-1"


def test_modify_device_user(api, fake):
    assert api.users.modify_device_user(DEV, "u-1", nick_name="Bob", sex=1)
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "PUT",
        f"/v1.0/devices/{DEV}/users/u-1",
        {"nick_name": "Bob", "sex": 1},
    )


def test_set_user_role_accepts_a_reply_without_result(api, fake):
    fake.reply_envelope({"success": True, "t": 1614147303662})
    result = api.users.set_user_role(DEV, "8923iu", Role.ADMIN)
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "PUT",
        f"/v1.0/smart-lock/devices/{DEV}/users/8923iu/actions/role",
        {"role": "admin"},
    )
    assert result.ok is True


def test_delete_device_user(api, fake):
    assert api.users.delete_device_user(DEV, "u-1")
    sent = fake.only()
    assert (sent.method, sent.path, sent.body) == ("DELETE", f"/v1.0/devices/{DEV}/users/u-1", None)


def test_get_device_user(api, fake):
    fake.reply(
        {"device_id": DEV, "nick_name": "Ann", "sex": 2, "birthday": 1, "height": 170, "weight": 60, "contact": "c"}
    )
    user = api.users.get_device_user(DEV, "u-1")
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/users/u-1")
    assert user == DeviceUser(
        user_id="", device_id=DEV, nick_name="Ann", sex=2, birthday=1, height=170, weight=60, contact="c", raw={}
    )


def test_get_device_user_v11_defaults_to_the_current_user(api, fake):
    fake.reply(
        {
            "avatar_url": "https://a",
            "lock_user_id": 1,
            "nick_name": "Alan",
            "user_contact": "",
            "user_id": "38028607",
            "user_type": 50,
            "time_schedule_info": {
                "permanent": False,
                "effective_time": 1628179200,
                "expired_time": 1638806399,
                "operate": "MODIFY",
                "delivery_status": "SUCCESS",
                "schedule_details": [{"start_minute": 450, "end_minute": 1050, "working_day": 62, "all_day": False}],
            },
        }
    )
    user = api.users.get_device_user_v11(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.1/devices/{DEV}/users/0")
    assert (user.user_id, user.nick_name, user.user_type, user.lock_user_id) == ("38028607", "Alan", 50, 1)
    schedule = user.time_schedule_info
    assert schedule is not None
    assert schedule.expired_time == 1638806399
    assert schedule.delivery_status == "SUCCESS"
    assert schedule.schedule_details[0] == ScheduleWindow(working_day=62, start_minute=450, end_minute=1050)


def test_list_device_users(api, fake):
    fake.reply([{"device_id": DEV, "nick_name": "A", "sex": 1}, {"nick_name": "B"}])
    users = api.users.list_device_users(DEV)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == ("GET", f"/v1.0/devices/{DEV}/users", {})
    assert [u.nick_name for u in users] == ["A", "B"]


def test_list_device_users_v11_sends_empty_filters(api, fake):
    fake.reply(
        {
            "has_more": True,
            "records": [{"user_id": "30665363", "user_type": 50, "time_schedule_info": {"permanent": True}}],
            "total": 14,
            "total_pages": 14,
        }
    )
    page = api.users.list_device_users_v11(DEV, page_no=1, page_size=10)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.1/devices/{DEV}/users")
    assert sent.query == {"keyword": "", "role": "", "page_no": "1", "page_size": "10"}
    assert (page.has_more, page.total, page.total_pages) == (True, 14, 14)
    assert page[0].time_schedule_info is not None
    assert page[0].time_schedule_info.permanent is True


def test_list_device_users_v11_with_filters(api, fake):
    fake.reply({"records": []})
    api.users.list_device_users_v11(DEV, keyword="test", role="admin", page_no=2, page_size=5)
    assert fake.only().query == {"keyword": "test", "role": "admin", "page_no": "2", "page_size": "5"}


def test_allocate_to_user(api, fake):
    assert api.users.allocate_to_user(DEV, "u-1", no="3", type="fingerprint")
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "POST",
        f"/v1.0/devices/{DEV}/device-lock/users/u-1/allocate",
        {"no": "3", "type": "fingerprint"},
    )


def test_list_home_users(api, fake):
    fake.reply(
        {
            "has_more": False,
            "records": [
                {
                    "avatar_url": "https://x",
                    "lock_user_id": 5,
                    "nick_name": "Test 1",
                    "uid": "ay1541490670142A1Dti",
                    "unlock_detail": [
                        {
                            "dp_code": "unlock_password",
                            "count": 1,
                            "unlock_list": [
                                {
                                    "unlock_id": "12-3",
                                    "unlock_sn": 3,
                                    "unlock_name": "pw",
                                    "unlock_attr": 1,
                                    "op_mode_id": 729548,
                                    "photo_unlock": False,
                                    "admin": True,
                                }
                            ],
                        }
                    ],
                    "user_contact": "86-13757150532",
                    "user_id": "38823920",
                    "user_type": 10,
                }
            ],
            "total": 18,
            "total_pages": 1,
        }
    )
    page = api.users.list_home_users(DEV, codes=[UnlockDpCode.FINGERPRINT, "unlock_password"], page_size=100)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/smart-lock/devices/{DEV}/users")
    assert sent.query == {"codes": "unlock_fingerprint,unlock_password", "page_no": "1", "page_size": "100"}
    user = page[0]
    assert (page.total, user.user_id, user.uid, user.user_type) == (18, "38823920", "ay1541490670142A1Dti", 10)
    key = user.unlock_detail[0].unlock_list[0]
    assert (user.unlock_detail[0].dp_code, key.unlock_sn, key.op_mode_id, key.admin, key.unlock_attr) == (
        "unlock_password",
        3,
        729548,
        True,
        1,
    )


def test_update_user_schedule(api, fake):
    window = ScheduleWindow(working_day=99, start_minute=420, end_minute=1438, time_zone_id="Europe/Paris")
    assert api.users.update_user_schedule(
        DEV, "130", permanent=False, effective_time=1628179200, expired_time=1640015999, schedule_details=[window]
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("PUT", f"/v1.0/smart-lock/devices/{DEV}/users/130/schedule")
    assert sent.json == {
        "permanent": False,
        "effective_time": 1628179200,
        "expired_time": 1640015999,
        "schedule_details": [
            {
                "start_minute": 420,
                "end_minute": 1438,
                "working_day": 99,
                "all_day": False,
                "time_zone_id": "Europe/Paris",
            }
        ],
    }


def test_update_user_schedule_permanent(api, fake):
    api.users.update_user_schedule(DEV, "130", permanent=True)
    assert fake.only().json == {"permanent": True}


def test_list_absent_users(api, fake):
    fake.reply([{"user_id": "390981", "user_type": 10, "lock_user_id": 2}])
    users = api.users.list_absent_users(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/absent-users")
    assert (users[0].user_id, users[0].user_type, users[0].lock_user_id) == ("390981", 10, 2)


def test_delete_users_joins_ids_with_commas(api, fake):
    assert api.users.delete_users(DEV, ["u1", "u2"])
    sent = fake.only()
    assert (sent.method, sent.path, sent.body) == (
        "POST",
        f"/v1.0/smart-lock/devices/{DEV}/users/u1,u2/actions/delete-users-issue",
        None,
    )


def test_list_user_devices_hides_local_keys(api, fake):
    fake.reply(
        {
            "has_more": False,
            "records": [{"id": "6c8d95e9b2d8cfe1a", "local_key": "dc1ba7ed034abcdc", "name": "Lock", "online": True}],
            "total": 2,
            "total_pages": 1,
        }
    )
    page = api.users.list_user_devices("bay1629701943556", page_no=1, page_size=10)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        "/v1.0/smart-lock/users/bay1629701943556/devices",
        {"page_no": "1", "page_size": "10"},
    )
    assert (page.total, page[0].id, page[0].local_key) == (2, "6c8d95e9b2d8cfe1a", "dc1ba7ed034abcdc")
    assert "dc1ba7ed034abcdc" not in repr(page)
