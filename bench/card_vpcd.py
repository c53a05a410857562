#!/usr/bin/python3
"""Card bench through PC/SC: loads and installs the purse with the interop
test's pyscard host (tests/interop/purse_host.py), then times purse DEBITs
sent through pcscd and vpcd to seam card serve.

usage: card_vpcd.py READER PURSE.wasm DEBITS"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
from purse_host import connect, install, purse  # noqa: E402


def main():
    reader, path, debits = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = connect(reader)
    install(conn, path)  # leaves the purse selected, PIN verified, balance 75
    purse(conn, 0x30, 1_000_000)
    start = time.monotonic()
    for _ in range(debits):
        purse(conn, 0x40, 1)
    seconds = time.monotonic() - start
    print("purse DEBIT through pcscd+vpcd: %d APDUs in %.3f s: %.0f APDUs/s (%.1f us each)"
          % (debits, seconds, debits / seconds, seconds * 1e6 / debits))


main()
