"""The sandbox's localstripe holds the demo's payments and answers anyone without a real key:
it listens on 127.0.0.1 only, never on the machine's other addresses."""

import socket
import subprocess
from pathlib import Path

import pytest

LISTEN = "0A"  # the TCP state of a listening socket in /proc/net/tcp


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, as the kernel lists them (hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (none in some containers)."""
    listing = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.split()[3].split("/")[0] for line in listing.splitlines()]


def test_localstripe_listens_on_loopback_only(sandbox_session):
    port = sandbox_session.localstripe_port
    # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex); no "::" or 0.0.0.0.
    assert listening_addresses(port) == {"0100007F"}
    for address in other_addresses():
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection((address, port), timeout=2),
        ):
            pass
