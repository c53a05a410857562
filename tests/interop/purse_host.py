#!/usr/bin/python3
"""Interoperability check with an applet through PC/SC (X1, X2, X4): a pyscard
host, independent of seam's own code, opens SCP03 (C-MAC) with the ISD, loads
the purse (INSTALL [for load], then the module as a C4 load file in C-MACed
LOAD blocks), installs and selects it, verifies the PIN, credits and debits;
or, after a restart of seam card serve, checks that the balance is intact.

usage: purse_host.py READER install PURSE.wasm
       purse_host.py READER check BALANCE COUNTER
Exits 0 when every check holds, 1 with a message otherwise."""
import os
import sys

from smartcard.System import readers

from scp03_host import ISD, KEY, cmac, fail, kdf, transmit

PACKAGE = bytes.fromhex("A00000055055")
APPLET = bytes.fromhex("A0000005505501")
BLOCK = 200


def connect(reader_name):
    match = [r for r in readers() if str(r).startswith(reader_name)]
    if not match:
        fail("no reader named %r among %s" % (reader_name, [str(r) for r in readers()]))
    conn = match[0].createConnection()
    conn.connect()
    return conn


class Channel:
    """An SCP03 channel at security level 01 (C-MAC) with the ISD."""

    def __init__(self, conn):
        self.conn = conn
        transmit(conn, b"\x00\xA4\x04\x00\x08" + ISD + b"\x00")
        host_challenge = os.urandom(8)
        resp, _ = transmit(conn, b"\x80\x50\x00\x00\x08" + host_challenge + b"\x00")
        if len(resp) != 32 or resp[10:12] != b"\x30\x03":
            fail("INITIALIZE UPDATE response " + resp.hex())
        context = host_challenge + resp[13:21]
        self.s_mac = kdf(KEY, 0x06, context, 128)
        if kdf(self.s_mac, 0x00, context, 64) != resp[21:29]:
            fail("card cryptogram does not verify")
        self.chain = bytes(16)
        self.send(0x82, 0x01, 0x00, kdf(self.s_mac, 0x01, context, 64), le=False)

    def send(self, ins, p1, p2, data, expect=0x9000, le=True):
        header = bytes([0x84, ins, p1, p2, len(data) + 8])
        self.chain = cmac(self.s_mac, self.chain + header + data)
        return transmit(self.conn, header + data + self.chain[:8] + (b"\x00" if le else b""),
                        expect)


def lv(b):
    return bytes([len(b)]) + b


def purse(conn, ins, amount=None, expect=0x9000):
    data = b"" if amount is None else amount.to_bytes(4, "big")
    apdu = bytes([0x00, ins, 0, 0]) + (bytes([len(data)]) + data if data else b"\x00")
    return transmit(conn, apdu, expect)[0]


def balance(conn):
    resp = purse(conn, 0x50)
    if len(resp) != 8:
        fail("BALANCE answered " + resp.hex())
    return int.from_bytes(resp[:4], "big"), int.from_bytes(resp[4:], "big")


def install(conn, path):
    module = open(path, "rb").read()
    load_file = b"\xC4\x82" + len(module).to_bytes(2, "big") + module
    ch = Channel(conn)
    ch.send(0xE6, 0x02, 0x00, lv(PACKAGE) + b"\x00\x00\x00\x00")  # INSTALL [for load]
    blocks = [load_file[i:i + BLOCK] for i in range(0, len(load_file), BLOCK)]
    for n, block in enumerate(blocks):
        ch.send(0xE8, 0x80 if n == len(blocks) - 1 else 0x00, n, block)
    params = b"\xC9\x05\x04" + b"1234"
    ch.send(0xE6, 0x0C, 0x00,
            lv(PACKAGE) + lv(APPLET) + lv(APPLET) + b"\x01\x00" + lv(params) + b"\x00")
    transmit(conn, b"\x00\xA4\x04\x00" + lv(APPLET) + b"\x00")
    purse(conn, 0x30, 100, expect=0x6985)  # CREDIT without the PIN
    transmit(conn, b"\x00\x20\x00\x00\x04" + b"1234")
    purse(conn, 0x30, 100)
    purse(conn, 0x40, 25)
    purse(conn, 0x40, 1000, expect=0x6985)  # more than the balance
    got = balance(conn)
    if got != (75, 2):
        fail("balance and counter %s, expected (75, 2)" % (got,))
    print("interop: pyscard loaded %d bytes of purse in %d C-MACed LOAD blocks, installed it; "
          "balance 75 after a credit and a debit" % (len(module), len(blocks)))


def check(conn, want_balance, want_counter):
    transmit(conn, b"\x00\xA4\x04\x00" + lv(APPLET) + b"\x00")
    got = balance(conn)
    if got != (want_balance, want_counter):
        fail("balance and counter %s, expected %s" % (got, (want_balance, want_counter)))
    purse(conn, 0x40, 1, expect=0x6985)  # the PIN state did not survive
    print("interop: the purse's balance %d (counter %d) survived" % got)


def main():
    conn = connect(sys.argv[1])
    if sys.argv[2] == "install":
        install(conn, sys.argv[3])
    elif sys.argv[2] == "check":
        check(conn, int(sys.argv[3]), int(sys.argv[4]))
    else:
        fail("unknown mode " + sys.argv[2])


if __name__ == "__main__":
    main()
