"""Production mode (DEBUG off): refuses to start without its secrets, passes Django's deployment checks, serves
compressed static files with hashed names. Each case runs manage.py in a fresh process: settings are read once."""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client, override_settings
from django.urls import Resolver404, clear_url_caches, resolve

ROOT = Path(__file__).resolve().parents[2]


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    unset = ("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "EMBEDDED_SIMULATOR", "TUYA_ALLOW_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="doors.example.com",
        VAR_DIR=str(var_dir),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_naming_every_missing_variable(tmp_path: Path) -> None:
    env = production_env(tmp_path, SECRET_KEY="<unset>", FIELD_ENCRYPTION_KEYS="", ALLOWED_HOSTS="<unset>")
    result = manage(env, "check")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert "SECRET_KEY, FIELD_ENCRYPTION_KEYS, ALLOWED_HOSTS" in last


def test_production_refuses_the_dev_secret_key_and_a_malformed_fernet_key(tmp_path: Path) -> None:
    result = manage(production_env(tmp_path, SECRET_KEY="dev-insecure-secret-key-do-not-use-in-production"), "check")
    assert "must be set: SECRET_KEY." in result.stderr
    bad_key = "not-a-key-" + secrets.token_hex(8)
    keys = f"{Fernet.generate_key().decode()},{bad_key}"
    result = manage(production_env(tmp_path, FIELD_ENCRYPTION_KEYS=keys), "check")
    assert "FIELD_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr
    assert bad_key not in result.stderr


def test_production_without_https_behind_a_proxy_is_flagged_by_the_deployment_checks(tmp_path: Path) -> None:
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.slow
def test_collected_static_files_are_served_compressed_with_hashed_names(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    collected = manage(env, "collectstatic", "--no-input", "-v", "0")
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    probe = (
        "from django.test import Client; from django.templatetags.static import static;"
        "url = static('css/app.css'); print(url);"
        "r = Client(HTTP_ACCEPT_ENCODING='gzip').get(url, HTTP_HOST='doors.example.com', secure=True);"
        "print(r.status_code, r.headers.get('Content-Encoding'), r.headers.get('Cache-Control'))"
    )
    result = manage(env, "shell", "-c", probe)
    assert result.returncode == 0, result.stderr
    url, response = result.stdout.strip().splitlines()[-2:]
    assert url.startswith("/static/css/app.")
    assert url.endswith(".css")
    assert url != "/static/css/app.css"
    status, encoding, cache = response.split(" ", 2)
    assert (status, encoding) == ("200", "gzip")
    assert "immutable" in cache


def test_the_embedded_simulator_on_in_production_fails_the_deployment_checks(tmp_path: Path) -> None:
    # Unauthenticated and CSRF-exempt, it would let anyone create devices and read PINs: never on in production.
    result = manage(production_env(tmp_path, EMBEDDED_SIMULATOR="true"), "check", "--deploy")
    assert result.returncode != 0
    assert "simulator.E001" in result.stderr + result.stdout
    assert "EMBEDDED_SIMULATOR" in result.stderr + result.stdout
    # Only the deployment checks say so: the simulator's own processes (manage.py tuya_simulator) still start.
    assert manage(production_env(tmp_path, EMBEDDED_SIMULATOR="true"), "check").returncode == 0


def test_the_embedded_simulator_in_debug_passes_the_deployment_check_for_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMBEDDED_SIMULATOR"))}
    env.update(DEBUG="true", EMBEDDED_SIMULATOR="true", VAR_DIR=str(tmp_path))
    result = manage(env, "check", "--deploy")
    assert "simulator.E001" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("setting", "check"), [("TUYA_ALLOW_URL_ENDPOINTS", "locks.W001"), ("TUYA_ALLOW_PRIVATE_ENDPOINTS", "locks.W002")]
)
def test_endpoint_rules_opened_in_production_are_flagged_by_the_deployment_checks(
    tmp_path: Path, setting: str, check: str
) -> None:
    result = manage(production_env(tmp_path, **{setting: "true"}), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert check in output
    assert setting in output
    assert manage(production_env(tmp_path, **{setting: "true"}), "check").returncode == 0  # it still starts
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TUYA_ALLOW_"))}
    env.update(DEBUG="true", VAR_DIR=str(tmp_path), **{setting: "true"})
    debug = manage(env, "check", "--deploy")
    assert check not in debug.stdout + debug.stderr  # in debug it is the default


@contextlib.contextmanager
def urlconf_with(embedded_simulator: bool) -> Iterator[None]:
    """config.urls as imported with EMBEDDED_SIMULATOR so (the setting is read when the URLconf loads)."""
    import config.urls

    def reload() -> None:
        importlib.reload(config.urls)
        clear_url_caches()

    try:
        with override_settings(EMBEDDED_SIMULATOR=embedded_simulator):
            reload()
            yield
    finally:
        reload()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/tuya-sim/_sim/devices"),
        ("get", "/tuya-sim/_sim/devices"),
        ("get", "/tuya-sim/_sim/"),
        ("get", "/tuya-sim/_sim/devices/vdevo0000/passwords"),
        ("get", "/tuya-sim/v1.0/token?grant_type=1"),
        ("post", "/tuya-sim/v1.0/devices/vdevo0000/door-lock/password-ticket"),
    ],
)
def test_the_simulator_is_not_mounted_when_the_setting_is_off(method: str, path: str) -> None:
    with urlconf_with(embedded_simulator=False):
        assert getattr(Client(), method)(path).status_code == 404
        with pytest.raises(Resolver404):
            resolve(path.partition("?")[0])
    with urlconf_with(embedded_simulator=True):
        assert resolve(path.partition("?")[0]).namespace == "simulator"
