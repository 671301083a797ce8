import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locks.tuya import crypto, errors
from tests.conftest import vectors


@pytest.fixture
def vector():
    return vectors("lock-password")[0]


def test_ticket_key_decrypts_to_the_vector_key(vector):
    key = crypto.decrypt_ticket_key(vector["ticket_key_hex"], vector["inputs"]["access_secret"])
    assert key.hex() == vector["decrypted_K_hex"]
    assert key == vector["inputs"]["ticket_plain_key_K"].encode()


def test_pin_encrypts_to_the_vector_upper_hex(vector):
    key = bytes.fromhex(vector["decrypted_K_hex"])
    assert crypto.encrypt_pin(vector["inputs"]["pin_digits"], key) == vector["encrypted_password_hex_upper"]
    assert (
        crypto.encrypt_pin_for_ticket(
            vector["inputs"]["pin_digits"],
            ticket_key=vector["ticket_key_hex"],
            access_secret=vector["inputs"]["access_secret"],
        )
        == vector["encrypted_password_hex_upper"]
    )


def test_lower_case_ciphertext_decrypts_too(vector):
    key = bytes.fromhex(vector["decrypted_K_hex"])
    assert crypto.decrypt_pin(vector["encrypted_password_hex_lower"], key) == vector["inputs"]["pin_digits"]


def test_wrong_access_secret_is_a_clear_error(vector):
    with pytest.raises(errors.TuyaValidationError, match="check the secret"):
        crypto.decrypt_ticket_key(vector["ticket_key_hex"], "x" * 32)


@pytest.mark.parametrize("ticket_key", ["", "zz", "ABC", "00" * 15])
def test_malformed_ticket_key_is_a_clear_error(ticket_key):
    with pytest.raises(errors.TuyaValidationError):
        crypto.decrypt_ticket_key(ticket_key, "x" * 32)


@pytest.mark.parametrize("pin", ["12a4567", "", "１２３４５６"])
def test_pin_must_be_ascii_digits(pin):
    with pytest.raises(errors.TuyaValidationError):
        crypto.encrypt_pin(pin, b"k" * 16)


@given(pin=st.text("0123456789", min_size=6, max_size=7), key=st.binary(min_size=16, max_size=16))
def test_pin_round_trip(pin, key):
    assert crypto.decrypt_pin(crypto.encrypt_pin(pin, key), key) == pin


@given(plain=st.binary(max_size=5000), key=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=16, max_size=16))
def test_media_round_trip(plain, key):
    assert crypto.decrypt_media(crypto.encrypt_media(plain, key), key) == plain


def test_media_layout_matches_the_spec():
    blob = crypto.encrypt_media(b"jpeg bytes", "k" * 16, iv=b"I" * 16)
    assert blob[:4] == bytes(4)
    assert blob[4:20] == b"I" * 16
    assert len(blob[64:]) % 16 == 0


def test_media_streams_large_files_in_chunks():
    plain = os.urandom(3 * 1024 * 1024 + 5)
    source = io.BytesIO(crypto.encrypt_media(plain, "k" * 16))
    target = io.BytesIO()
    assert crypto.decrypt_media_stream(source, target, "k" * 16) == len(plain)
    assert target.getvalue() == plain


def test_media_with_wrong_key_is_a_clear_error():
    # A fixed IV: with a random one, about one wrong key in 256 passes the padding check by chance.
    blob = crypto.encrypt_media(b"x" * 100, "a" * 16, iv=bytes(16))
    with pytest.raises(errors.TuyaMediaError, match="wrong key or corrupt"):
        crypto.decrypt_media(blob, "b" * 16)


@pytest.mark.parametrize("cut", [0, 10, 63, 64, 64 + 5])
def test_truncated_media_is_a_clear_error(cut):
    blob = crypto.encrypt_media(b"x" * 100, "a" * 16)
    with pytest.raises(errors.TuyaMediaError, match="truncated"):
        crypto.decrypt_media(blob[:cut], "a" * 16)


def test_media_key_of_wrong_length_is_a_clear_error():
    with pytest.raises(errors.TuyaMediaError, match="16, 24 or 32"):
        crypto.decrypt_media(b"\0" * 80, "short")
