"""The visitor's IP address as the declaration says to keep it (CO3, `collection.ip`).

- drop: nothing is kept.
- truncate: the network part only, /24 for IPv4 ("203.0.113.0") and /48 for IPv6.
- encrypt: the whole address, for the fraud-prevention purpose only, sealed with
  AES-256-GCM under a key the caller supplies and stored as base64 text.
"""

from __future__ import annotations

import base64
import socket

from troth.keys.aead import associated_data, open_box, seal
from troth.policy.schema import IpHandling

_AAD = associated_data("troth.collect.ip")
_V4_MAPPED = bytes(10) + b"\xff\xff"


def _packed(ip: str) -> bytes | None:
    """4 bytes for IPv4 (also when written IPv4-mapped in IPv6), 16 for IPv6, None if neither.

    socket's C parsers are several times faster than the ipaddress module.
    """
    ip = ip.strip()
    try:
        return socket.inet_pton(socket.AF_INET, ip)
    except OSError:
        pass
    try:
        raw = socket.inet_pton(socket.AF_INET6, ip.split("%", 1)[0])
    except OSError:
        return None
    return raw[12:] if raw[:12] == _V4_MAPPED else raw


def _text(packed: bytes) -> str:
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed)


def truncate_ip(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network address; "" for anything that is not an IP."""
    ip = ip.strip()
    try:  # the text of an IPv4 address the parser accepts is canonical: cut it as text
        socket.inet_pton(socket.AF_INET, ip)
        return ip[: ip.rindex(".")] + ".0"
    except OSError:
        pass
    packed = _packed(ip)
    if packed is None:
        return ""
    keep = 3 if len(packed) == 4 else 6
    return _text(packed[:keep] + bytes(len(packed) - keep))


def encrypt_ip(ip: str, key: bytes) -> str:
    packed = _packed(ip)
    if packed is None:
        return ""
    return base64.b64encode(seal(key, _text(packed).encode(), _AAD)).decode("ascii")


def decrypt_ip(text: str, key: bytes) -> str:
    """The address `encrypt_ip` sealed; raises `InvalidTag` for a wrong key or altered text."""
    return open_box(key, base64.b64decode(text, validate=True), _AAD).decode()


def handle_ip(ip: str, mode: IpHandling, key: bytes | None = None) -> str:
    """What is stored for `ip` under `mode`; `key` (16, 24 or 32 bytes) is needed to encrypt."""
    if mode is IpHandling.drop:
        return ""
    if mode is IpHandling.truncate:
        return truncate_ip(ip)
    if key is None:
        raise ValueError("collection.ip is 'encrypt' but no key was given")
    return encrypt_ip(ip, key)
