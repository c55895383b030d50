"""The master key ring's text form: ids, newest first, and errors that never show key material."""

from __future__ import annotations

import base64

import pytest

from troth.errors import BadRequest
from troth.keys.ring import MasterKey, MasterRing, fingerprint, parse_ring

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_entries_with_ids_keep_their_order_newest_first() -> None:
    ring = parse_ring(f"# a comment\nnew:{b64(KEY_B)}\n\nold:{b64(KEY_A)}\n", "ring")
    assert ring.ids == ("new", "old")
    assert ring.newest.key == KEY_B
    assert ring.get("old") == MasterKey("old", KEY_A)
    assert ring.get("gone") is None


def test_environment_form_separates_entries_with_commas_or_spaces() -> None:
    ring = parse_ring(f"new:{b64(KEY_B)}, old:{b64(KEY_A)}", "env")
    assert ring.ids == ("new", "old")


def test_a_bare_key_gets_a_stable_id_from_its_fingerprint() -> None:
    ring = parse_ring(b64(KEY_A), "env")
    assert ring.ids == (fingerprint(KEY_A),)
    assert parse_ring(b64(KEY_A), "env").ids == ring.ids
    assert fingerprint(KEY_A) != fingerprint(KEY_B)


def test_url_safe_base64_is_accepted() -> None:
    key = bytes([0xFB, 0xFF] * 16)
    assert parse_ring(base64.urlsafe_b64encode(key).decode(), "env").newest.key == key


def test_the_text_form_reads_back_to_the_same_ring() -> None:
    ring = MasterRing((MasterKey.generate(), MasterKey("old", KEY_A)))
    assert parse_ring(ring.text(), "file") == ring


def test_generated_keys_differ_and_have_valid_ids() -> None:
    one, two = MasterKey.generate(), MasterKey.generate()
    assert one.key != two.key
    assert len(one.key) == 32
    assert parse_ring(one.entry(), "x").ids == (one.id,)


def test_prepend_and_only_newest() -> None:
    old = MasterRing((MasterKey("old", KEY_A),))
    both = old.prepend(MasterKey("new", KEY_B))
    assert both.ids == ("new", "old")
    assert both.only_newest().ids == ("new",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "ring: no master key in it"),
        ("# only a comment\n", "ring: no master key in it"),
        ("k1:not*base64", "ring: entry 1: the key is not base64"),
        (f"k1:{b64(KEY_A)} k2:{b64(b'short')}", "ring: entry 2: the key is 5 bytes"),
        (f"bad!id:{b64(KEY_A)}", "ring: entry 1: a key id is 1-40 letters"),
        (f"k1:{b64(KEY_A)}\nk1:{b64(KEY_B)}", "names the same key id twice"),
    ],
)
def test_a_bad_ring_fails_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_ring(text, "ring")
    assert message in caught.value.message
    assert b64(KEY_A) not in caught.value.message


def test_a_master_key_never_shows_its_bytes() -> None:
    key = MasterKey("k1", KEY_A)
    assert repr(key) == "MasterKey(id='k1')"
    assert str(KEY_A) not in repr(MasterRing((key,)))
