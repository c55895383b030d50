from __future__ import annotations

import datetime as dt
import stat
import threading
from pathlib import Path

import pytest

from troth.collect.visitor import (
    FileSalts,
    MemorySalts,
    SaltSource,
    cookieless_key,
    salt_day,
    valid_visitor_id,
    visitor_key,
)

from .support import CHROME_MAC

DAY = dt.date(2026, 5, 4)
VID = "0123456789abcdef0123456789abcdef"
SITE = "lumeninsights.example"


def key(salts: SaltSource, *, day: dt.date = DAY, site: str = SITE, **kw: object) -> str:
    args: dict[str, object] = {
        "cookie_mode": False,
        "visitor_id": "",
        "site": site,
        "ip": "203.0.113.77",
        "user_agent": CHROME_MAC,
        "day": day,
        "salts": salts,
    }
    args.update(kw)
    return visitor_key(**args).key  # type: ignore[arg-type]


def test_co5_consented_visitor_is_keyed_by_the_cookie_id() -> None:
    result = visitor_key(
        cookie_mode=True, visitor_id=VID, site=SITE, ip="203.0.113.77",
        user_agent=CHROME_MAC, day=DAY, salts=MemorySalts(),
    )  # fmt: skip
    assert (result.key, result.cookieless) == (VID, False)


def test_co5_cookie_id_is_the_same_on_every_day() -> None:
    salts = MemorySalts()
    later = DAY + dt.timedelta(days=30)
    assert key(salts, cookie_mode=True, visitor_id=VID) == key(
        salts, cookie_mode=True, visitor_id=VID, day=later
    )


@pytest.mark.parametrize(
    "visitor_id",
    ["", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef", VID + "00", "g" * 32, VID[:-1]],
)
def test_invalid_visitor_id_is_ignored(visitor_id: str) -> None:
    assert not valid_visitor_id(visitor_id)
    salts = MemorySalts()
    result = visitor_key(
        cookie_mode=True, visitor_id=visitor_id, site=SITE, ip="203.0.113.77",
        user_agent=CHROME_MAC, day=DAY, salts=salts,
    )  # fmt: skip
    assert result.cookieless
    assert result.key == key(salts)


def test_co6_without_consent_the_cookie_id_is_not_used() -> None:
    result = visitor_key(
        cookie_mode=False, visitor_id=VID, site=SITE, ip="203.0.113.77",
        user_agent=CHROME_MAC, day=DAY, salts=MemorySalts(),
    )  # fmt: skip
    assert result.cookieless
    assert result.key != VID
    assert len(result.key) == 32
    assert valid_visitor_id(result.key)


def test_co6_cookieless_key_is_stable_within_a_day() -> None:
    salts = MemorySalts()
    assert key(salts) == key(salts)


def test_co6_cookieless_key_rotates_across_days() -> None:
    salts = MemorySalts()
    assert key(salts) != key(salts, day=DAY + dt.timedelta(days=1))


def test_co6_cookieless_key_differs_per_site_ip_and_agent() -> None:
    salts = MemorySalts()
    base = key(salts)
    assert key(salts, site="other.example") != base
    assert key(salts, ip="203.0.113.78") != base
    assert key(salts, user_agent=CHROME_MAC + " extra") != base


def test_cookieless_key_is_keyed_by_the_salt() -> None:
    a, b = b"a" * 32, b"b" * 32
    assert cookieless_key(a, SITE, "1.2.3.4", "x") != cookieless_key(b, SITE, "1.2.3.4", "x")
    assert cookieless_key(a, "ab", "c", "x") != cookieless_key(a, "a", "bc", "x")


def test_salt_day_is_the_utc_day() -> None:
    late = dt.datetime(2026, 5, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert salt_day(late) == dt.date(2026, 5, 5)


def test_co6_file_salts_are_private_and_shared_between_instances(tmp_path: Path) -> None:
    first, second = FileSalts(tmp_path), FileSalts(tmp_path)
    salt = first.salt_for(DAY)
    assert len(salt) == 32
    assert second.salt_for(DAY) == salt
    path = tmp_path / "collect" / "salts" / DAY.isoformat()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [DAY.isoformat()]  # no temp left


def test_co6_concurrent_creators_agree_on_one_salt(tmp_path: Path) -> None:
    sources = [FileSalts(tmp_path) for _ in range(8)]
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(s.salt_for(DAY))) for s in sources
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1


def test_co6_salts_older_than_yesterday_are_deleted(tmp_path: Path) -> None:
    salts = FileSalts(tmp_path)
    old = salts.salt_for(DAY - dt.timedelta(days=2))
    salts.salt_for(DAY - dt.timedelta(days=1))
    salts.salt_for(DAY)
    names = sorted(p.name for p in salts.folder.iterdir())
    assert names == [(DAY - dt.timedelta(days=1)).isoformat(), DAY.isoformat()]
    # the day-before-yesterday's salt is gone for good: asking again makes a new one
    assert FileSalts(tmp_path).salt_for(DAY - dt.timedelta(days=2)) != old


def test_co6_prune_forgets_salts_held_in_memory(tmp_path: Path) -> None:
    salts = FileSalts(tmp_path)
    old = salts.salt_for(DAY)
    salts.prune(DAY + dt.timedelta(days=2))
    assert not any(salts.folder.iterdir())
    assert salts.salt_for(DAY) != old


def test_memory_salts_prune() -> None:
    salts = MemorySalts()
    old = salts.salt_for(DAY)
    salts.prune(DAY + dt.timedelta(days=2))
    assert salts.salt_for(DAY) != old


def test_a_damaged_salt_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "collect" / "salts"
    folder.mkdir(parents=True)
    (folder / DAY.isoformat()).write_bytes(b"short")
    with pytest.raises(OSError, match="expected 32"):
        FileSalts(tmp_path).salt_for(DAY)
