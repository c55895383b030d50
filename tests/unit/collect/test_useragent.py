from __future__ import annotations

import pytest

from troth.collect.bots import looks_automated
from troth.collect.useragent import (
    BOT,
    DESKTOP,
    MOBILE,
    TABLET,
    device_for_screen,
    parse_agent,
)

from .support import CHROME_MAC

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CUBOT = (
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
)


def test_co3_browser_and_os_with_major_versions() -> None:
    agent = parse_agent(FIREFOX_WINDOWS)
    assert (agent.browser, agent.browser_version) == ("Firefox", "133")
    assert (agent.os, agent.os_version) == ("Windows", "10")
    assert agent.device == DESKTOP
    chrome = parse_agent(CHROME_MAC)
    assert (chrome.browser, chrome.browser_version, chrome.os) == ("Chrome", "131", "Mac OS X")


@pytest.mark.parametrize(
    ("user_agent", "device", "os"),
    [
        (IPHONE, MOBILE, "iOS"),
        (IPAD, TABLET, "iOS"),
        (ANDROID_PHONE, MOBILE, "Android"),
        (ANDROID_TABLET, TABLET, "Android"),
        (CUBOT, MOBILE, "Android"),
    ],
)
def test_co3_device_class(user_agent: str, device: str, os: str) -> None:
    agent = parse_agent(user_agent)
    assert (agent.device, agent.os) == (device, os)
    assert not agent.is_bot


def test_parse_is_cached() -> None:
    assert parse_agent(IPHONE) is parse_agent(IPHONE)


def test_a_huge_header_is_cut_before_parsing_and_caching() -> None:
    agent = parse_agent(FIREFOX_WINDOWS + " x" * 50_000)
    assert agent is parse_agent(FIREFOX_WINDOWS + " x" * 60_000)
    assert agent.browser == "Firefox"


def test_unknown_agent_has_empty_fields_not_other() -> None:
    agent = parse_agent("Mozilla/5.0 (SomethingNew 1.0)")
    assert agent.browser == ""
    assert agent.os == ""


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.31.0",
        "Wget/1.21.4",
        "Go-http-client/2.0",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1",
        "Mediapartners-Google",
        "Mozilla/5.0",
        "",
        "   ",
    ],
)
def test_bots_and_automation_are_flagged(user_agent: str) -> None:
    assert parse_agent(user_agent).device == BOT
    assert parse_agent(user_agent).is_bot


@pytest.mark.parametrize("user_agent", [IPHONE, ANDROID_PHONE, FIREFOX_WINDOWS, CHROME_MAC, CUBOT])
def test_browsers_are_not_automated(user_agent: str) -> None:
    assert not looks_automated(user_agent)


def test_spider_device_counts_as_bot_without_a_marker_word() -> None:
    # ua-parser knows this crawler by name; no generic marker word is in the string
    user_agent = "Mozilla/5.0 (compatible; Qwantify/2.4w; +https://www.qwant.com/)/2.4w"
    assert not looks_automated(user_agent)
    assert parse_agent(user_agent).is_bot


@pytest.mark.parametrize(
    ("device", "width", "expected"),
    [
        (DESKTOP, 0, DESKTOP),
        (DESKTOP, 1920, DESKTOP),
        (DESKTOP, 820, TABLET),  # an iPad sending a Mac user agent
        (DESKTOP, 390, MOBILE),
        (MOBILE, 1200, MOBILE),
        (BOT, 390, BOT),
    ],
)
def test_screen_width_refines_a_desktop_guess(device: str, width: int, expected: str) -> None:
    assert device_for_screen(device, width) == expected
