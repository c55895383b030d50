"""The visitor's address behind trusted proxies (X-Forwarded-For), for the collect path.

The rest of the app goes through uvicorn's proxy-headers middleware; the collector, which
answers before it, reads the header here with the same rules (`forwarded_allow_ips`): when
the peer is trusted, the address is the right-most entry that is not a trusted proxy, or
the left-most when all are. What differs is the cost. uvicorn parses each address with the
`ipaddress` module behind an LRU cache of every address it has seen; this compares text
first, which is exact for the usual lists of proxy addresses, parses only where text cannot
decide (networks, IPv6), and remembers only what parsing found trusted: proxies' addresses,
or whatever a network the operator trusts covers, never an untrusted visitor's.
"""

from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_REMEMBERED = 1024


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        """`spec` as uvicorn's `forwarded_allow_ips`: "*", or addresses, networks and other
        names (a socket path, say), separated by commas."""
        self.everyone = spec == "*"
        self.texts: set[str] = set()
        """Names and the canonical text of each address: a match is trusted."""
        self.addresses: set[Address] = set()
        self.networks: list[Network] = []
        self.remembered: set[str] = set()
        """Other spellings found trusted by parsing (proxies' addresses only)."""
        for entry in (item.strip() for item in spec.split(",")):
            try:
                if "/" in entry:
                    self.networks.append(ipaddress.ip_network(entry))
                    continue
                address = ipaddress.ip_address(entry)
            except ValueError:
                self.texts.add(entry)
                continue
            self.addresses.add(address)
            self.texts.add(str(address))
        self.has_v6 = any(address.version == 6 for address in self.addresses)

    def trusts(self, host: str) -> bool:
        if self.everyone:
            return True
        if not host:
            return False
        if host in self.texts or host in self.remembered:
            return True
        # An IPv4 address parses only from its canonical text, so without networks text
        # decides; an IPv6 one has many spellings.
        if not self.networks and not (self.has_v6 and ":" in host):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a name is trusted only as written (in self.texts)
        trusted = address in self.addresses or any(address in net for net in self.networks)
        if trusted and len(self.remembered) < MAX_REMEMBERED:
            self.remembered.add(host)
        return trusted

    def client(self, peer: str, forwarded: str) -> str:
        """The visitor's address: `peer` (the connection's) unless it is a trusted proxy
        with an X-Forwarded-For value (`forwarded`, repeated headers joined by commas)."""
        if not forwarded or not self.trusts(peer):
            return peer
        hosts = [item.strip() for item in forwarded.split(",")]
        for entry in reversed(hosts):
            host = _host(entry)
            if not self.trusts(host):
                return host or peer
        return _host(hosts[0]) or peer  # every entry a trusted proxy: the first one


def _host(entry: str) -> str:
    """An X-Forwarded-For entry without its port: "[v6]:port", "v4:port", or as it is."""
    if entry.startswith("["):
        end = entry.find("]")
        rest = entry[end + 1 :]
        if end == -1 or (rest and not rest.startswith(":")):
            return entry
        return entry[1:end]
    if entry.count(":") == 1:
        host, port = entry.rsplit(":", 1)
        return host if _is_port(port) else entry
    return entry


def _is_port(text: str) -> bool:
    """Whether int() would read it: what uvicorn's own parser asks of a port."""
    try:
        int(text)
    except ValueError:
        return False
    return True
