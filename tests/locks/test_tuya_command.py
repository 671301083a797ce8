"""`manage.py tuya ...` as an operator runs it: a real process, real HTTP, one clear line on failure."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from locks.tuya import crypto
from tests.tuya.cloud_server import FakeTuyaCloud

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "cliclientid000000001"
SECRET = "climysecretclimysecretclimysecr1"


def run_tuya(*args, endpoint="", access_id=CLIENT_ID, secret=SECRET):
    env = {**os.environ, "TUYA_ENDPOINT": endpoint, "TUYA_ACCESS_ID": access_id, "TUYA_ACCESS_SECRET": secret}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "tuya", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def cloud():
    with FakeTuyaCloud(CLIENT_ID, SECRET) as server:
        yield server


def assert_one_clear_line(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert SECRET not in result.stderr + result.stdout


def test_request_prints_the_envelope(cloud):
    cloud.reply("GET", "/v1.0/devices/d1", lambda r: {"id": "d1", "query": r.query})
    result = run_tuya("request", "get", "/v1.0/devices/d1", "--query", "a=1", "--query", "b=x y", endpoint=cloud.url)
    assert result.returncode == 0, result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["success"] is True
    assert envelope["result"] == {"id": "d1", "query": {"a": "1", "b": "x y"}}


def test_request_sends_the_body_as_given(cloud):
    cloud.reply("POST", "/v1.0/echo", lambda r: {"raw": r.body.decode()})
    body = '{"name": "guest",  "type":0}'
    result = run_tuya("request", "POST", "/v1.0/echo", "--body", body, endpoint=cloud.url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"] == {"raw": body}


def test_failure_envelope_exits_non_zero_with_code_and_msg(cloud):
    cloud.reply("GET", "/v1.0/denied", {"success": False, "code": 1106, "msg": "permission deny"})
    result = run_tuya("request", "GET", "/v1.0/denied", endpoint=cloud.url)
    assert_one_clear_line(result, "1106", "permission deny")
    assert json.loads(result.stdout)["code"] == 1106


def test_wrong_credentials_say_what_to_check(cloud):
    result = run_tuya("request", "GET", "/v1.0/x", endpoint=cloud.url, secret="w" * 32)
    assert_one_clear_line(result, "1004", "sign invalid", "access secret")


def test_bad_region_name(cloud):
    assert_one_clear_line(run_tuya("request", "GET", "/v1.0/x", endpoint="atlantis"), "region name")


def test_malformed_json_body(cloud):
    result = run_tuya("request", "POST", "/v1.0/x", "--body", "{nope", endpoint=cloud.url)
    assert_one_clear_line(result, "not valid JSON")


def test_unreachable_endpoint():
    assert_one_clear_line(run_tuya("request", "GET", "/v1.0/x", endpoint="http://127.0.0.1:9"), "Could not connect")


def test_non_json_reply(cloud):
    cloud.reply("GET", "/v1.0/page", {"_http_status": 200, "_body": b"<html></html>"})
    assert_one_clear_line(run_tuya("request", "GET", "/v1.0/page", endpoint=cloud.url), "not a Tuya JSON envelope")


def test_missing_credentials():
    assert_one_clear_line(run_tuya("request", "GET", "/v1.0/x", endpoint="eu", access_id=""), "TUYA_ACCESS_ID")


def test_decrypt_media(tmp_path):
    (tmp_path / "in.bin").write_bytes(crypto.encrypt_media(b"\xff\xd8 a jpeg", "k" * 16))
    result = run_tuya("decrypt-media", "--key", "k" * 16, str(tmp_path / "in.bin"), str(tmp_path / "out.jpg"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.jpg").read_bytes() == b"\xff\xd8 a jpeg"


def test_decrypt_media_with_wrong_key_leaves_no_output(tmp_path):
    (tmp_path / "in.bin").write_bytes(crypto.encrypt_media(b"x" * 50, "k" * 16, iv=bytes(16)))  # fixed: see test_crypto
    result = run_tuya("decrypt-media", "--key", "j" * 16, str(tmp_path / "in.bin"), str(tmp_path / "out.jpg"))
    assert_one_clear_line(result, "wrong key")
    assert list(tmp_path.iterdir()) == [tmp_path / "in.bin"]


def test_decrypt_media_missing_input(tmp_path):
    result = run_tuya("decrypt-media", "--key", "k" * 16, str(tmp_path / "nope"), str(tmp_path / "out"))
    assert_one_clear_line(result, "No such file")
