"""The network guard itself: outside addresses are stopped before a packet leaves."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

import netguard


def test_connect_outside_loopback_is_refused_and_recorded():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(netguard.NetworkGuardViolation):
            s.connect(("198.51.100.7", 80))
    finally:
        s.close()
    violations = netguard.take_violations()
    assert violations and "198.51.100.7" in violations[0]


def test_udp_sendto_and_name_resolution_are_refused():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(netguard.NetworkGuardViolation):
            s.sendto(b"x", ("8.8.8.8", 53))
    finally:
        s.close()
    with pytest.raises(netguard.NetworkGuardViolation):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(netguard.NetworkGuardViolation):
        socket.create_connection(("example.org", 80), timeout=1)
    assert len(netguard.take_violations()) == 3


def test_swallowed_violation_still_fails_the_test(pytester_like=None):
    """Code that catches the error cannot hide it: the violation stays recorded."""
    try:
        socket.create_connection(("10.1.2.3", 443), timeout=1)
    except OSError:
        pass
    assert netguard.take_violations(), "a swallowed violation must still be recorded"


def test_loopback_is_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    for host in ("127.0.0.1", "localhost", "127.9.9.9"):
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.settimeout(2)
        if host == "127.9.9.9":
            assert client.connect_ex((host, port)) != 0 or True  # any 127/8 address is allowed
        else:
            client.connect((host, port))
            server.accept()[0].close()
        client.close()
    server.close()
    assert netguard.take_violations() == []


def test_guard_is_installed_in_subprocesses(guarded_env):
    code = ("import socket\n"
            "try:\n    socket.create_connection(('93.184.216.34', 80), timeout=1)\n"
            "except ConnectionRefusedError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=guarded_env, capture_output=True, text=True, timeout=60)
    assert "refused: network guard" in out.stdout
