"""The network guard: no connection may leave 127.0.0.0/8 (or ::1).

Installed for the whole test session by ``tests/conftest.py`` and, for subprocesses the
tests start, by ``tests/guard/sitecustomize.py`` (put ``tests/guard`` on PYTHONPATH).
Any attempt to connect, send to or resolve a name outside loopback raises
:class:`NetworkGuardViolation` *before* anything is sent, and is recorded so that the
test fails even when the code under test swallows the exception.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

ALLOWED_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_violations: list[str] = []
_installed = False
_real = {}


class NetworkGuardViolation(ConnectionRefusedError):
    """Raised by the guard; a ConnectionError so network code handles it like a refusal."""


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    host = host.strip("[]").split("%", 1)[0]
    if host.lower() in ALLOWED_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _deny(what: str) -> None:
    message = f"network guard: {what} is outside 127.0.0.0/8 (pid {os.getpid()})"
    _violations.append(message)
    print(message, file=sys.stderr)
    raise NetworkGuardViolation(message)


def _check_address(sock: socket.socket, address: object, op: str) -> None:
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets, netlink ...: not the network
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        _deny(f"{op} to {address!r}")


def install() -> None:
    """Patch the socket module (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    cls = socket.socket
    _real.update(connect=cls.connect, connect_ex=cls.connect_ex, sendto=cls.sendto,
                 sendmsg=cls.sendmsg, getaddrinfo=socket.getaddrinfo,
                 gethostbyname=socket.gethostbyname, gethostbyname_ex=socket.gethostbyname_ex,
                 create_connection=socket.create_connection)

    def connect(self, address):
        _check_address(self, address, "connect")
        return _real["connect"](self, address)

    def connect_ex(self, address):
        _check_address(self, address, "connect")
        return _real["connect_ex"](self, address)

    def sendto(self, data, *args):
        _check_address(self, args[-1], "sendto")
        return _real["sendto"](self, data, *args)

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None):
        if address is not None:
            _check_address(self, address, "sendmsg")
            return _real["sendmsg"](self, buffers, ancdata, flags, address)
        return _real["sendmsg"](self, buffers, ancdata, flags)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not is_loopback(host):
            _deny(f"name resolution of {host!r}")
        return _real["getaddrinfo"](host, *args, **kwargs)

    def gethostbyname(host):
        if not is_loopback(host):
            _deny(f"name resolution of {host!r}")
        return _real["gethostbyname"](host)

    def gethostbyname_ex(host):
        if not is_loopback(host):
            _deny(f"name resolution of {host!r}")
        return _real["gethostbyname_ex"](host)

    cls.connect = connect
    cls.connect_ex = connect_ex
    cls.sendto = sendto
    cls.sendmsg = sendmsg
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex


def take_violations() -> list[str]:
    """Return and forget the violations recorded so far."""
    out = list(_violations)
    _violations.clear()
    return out
