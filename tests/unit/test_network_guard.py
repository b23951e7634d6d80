import socket

import pytest


def test_non_loopback_connect_is_refused():
    """The session guard stops a test from reaching any address outside loopback."""
    with socket.socket() as sock, pytest.raises(RuntimeError, match="loopback"):
        sock.connect(("192.0.2.1", 80))


def test_privacy_masks_cpr_variants():
    """CPR numbers with and without hyphen, and with the leading zero lost, are masked."""
    from batch.privacy import mask_cpr

    text = "a 0101084123 b 010108-4123 c 101084123 d 12345678 e 12345678901"
    assert mask_cpr(text) == "a 010108-XXXX b 010108-XXXX c 010108-XXXX d 12345678 e 12345678901"
