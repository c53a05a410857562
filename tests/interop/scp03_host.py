#!/usr/bin/python3
"""Interoperability check through PC/SC (X1, X2, X4): a host written with pyscard
and python3-cryptography, independent of seam's own code, opens an SCP03 secure
channel to a seam card served through pcscd's vpcd driver, sends a C-MACed
command, and reports the card's sequence counter.

usage: scp03_host.py READER EXPECTED_COUNTER_BEFORE
Exits 0 when every check holds, 1 with a message otherwise."""
import sys

from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms
from smartcard.System import readers

KEY = bytes(range(0x40, 0x50))  # GlobalPlatform test key, AES-128, key version 0x30
ISD = bytes.fromhex("A000000151000000")


def cmac(key, data):
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def kdf(key, constant, context, bits):
    """SCP03 KDF (GP Amendment D 4.1.5): CMAC in counter mode."""
    out = b""
    i = 1
    while len(out) * 8 < bits:
        block = bytes(11) + bytes([constant, 0]) + bits.to_bytes(2, "big") + bytes([i]) + context
        out += cmac(key, block)
        i += 1
    return out[: bits // 8]


def fail(message):
    print("interop: FAIL: " + message)
    sys.exit(1)


def transmit(conn, apdu, expect=0x9000):
    data, sw1, sw2 = conn.transmit(list(apdu))
    sw = sw1 << 8 | sw2
    if expect is not None and sw != expect:
        fail("%s answered %04X, expected %04X" % (bytes(apdu).hex(), sw, expect))
    return bytes(data), sw


def main():
    reader_name, expected_before = sys.argv[1], int(sys.argv[2])
    match = [r for r in readers() if str(r).startswith(reader_name)]
    if not match:
        fail("no reader named %r among %s" % (reader_name, [str(r) for r in readers()]))
    conn = match[0].createConnection()
    conn.connect()
    atr = bytes(conn.getATR())
    if atr[0] != 0x3B:
        fail("unexpected ATR " + atr.hex())

    fci, _ = transmit(conn, b"\x00\xA4\x04\x00\x08" + ISD + b"\x00")
    if ISD not in fci:
        fail("the FCI does not name the ISD: " + fci.hex())

    host_challenge = bytes.fromhex("0011223344556677")
    resp, _ = transmit(conn, b"\x80\x50\x00\x00\x08" + host_challenge + b"\x00")
    if len(resp) != 32 or resp[10:12] != b"\x30\x03":
        fail("INITIALIZE UPDATE response " + resp.hex())
    card_challenge, card_cryptogram = resp[13:21], resp[21:29]
    counter = int.from_bytes(resp[29:32], "big")
    if counter != expected_before + 1:
        fail("sequence counter %d, expected %d" % (counter, expected_before + 1))
    if card_challenge != kdf(KEY, 0x02, resp[29:32] + ISD, 64):
        fail("the pseudo-random card challenge does not follow from the counter")

    context = host_challenge + card_challenge
    s_enc = kdf(KEY, 0x04, context, 128)
    s_mac = kdf(KEY, 0x06, context, 128)
    if kdf(s_mac, 0x00, context, 64) != card_cryptogram:
        fail("card cryptogram does not verify: wrong keys or KDF")
    host_cryptogram = kdf(s_mac, 0x01, context, 64)

    header = b"\x84\x82\x01\x00\x10"
    chain = cmac(s_mac, bytes(16) + header + host_cryptogram)
    transmit(conn, header + host_cryptogram + chain[:8])

    # a C-MACed GET DATA (key information template) inside the channel
    header = b"\x84\xCA\x00\xE0\x08"
    chain = cmac(s_mac, chain + header)
    data, _ = transmit(conn, header + chain[:8] + b"\x00")
    if not data.startswith(b"\xE0") or b"\xC0\x04\x01\x30\x88\x10" not in data:
        fail("key information template " + data.hex())
    # the same command again must fail: the MAC chain moved on
    transmit(conn, header + chain[:8] + b"\x00", expect=0x6982)
    del s_enc
    print("interop: pyscard opened SCP03 (C-MAC) with the test keys; counter now %d" % counter)


if __name__ == "__main__":
    main()
