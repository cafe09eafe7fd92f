#!/usr/bin/env python3
"""Generates the checksum-bearing values of the PII corpus: valid IBANs, payment card numbers and
BSNs, and look-alikes with one check digit off. Deterministic (fixed seed); every value is
cross-checked with python-stdnum, an implementation independent of Schild's.

    pip install python-stdnum && python3 generate.py
"""
import random

from stdnum import iban, luhn
from stdnum.nl import bsn

rng = random.Random(13616)


def make_iban(country, bban):
    # ISO 13616: check digits = 98 - (BBAN + country + "00" as number mod 97)
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    value = f"{country}{check:02d}{bban}"
    assert iban.is_valid(value), value
    return value


def wrong_iban(value):
    check = int(value[2:4])
    bad = f"{value[:2]}{(check + 1) % 100:02d}{value[4:]}"
    assert not iban.is_valid(bad), bad
    return bad


def make_card(prefix, length):
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    value = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(value), value
    return value


def wrong_card(value):
    bad = value[:-1] + str((int(value[-1]) + 1) % 10)
    assert not luhn.is_valid(bad), bad
    return bad


def make_bsn():
    while True:
        value = "".join(str(rng.randrange(10)) for _ in range(9))
        if value[0] != "0" and bsn.is_valid(value):
            return value


def wrong_bsn():
    while True:
        value = "".join(str(rng.randrange(10)) for _ in range(9))
        if value[0] != "0" and not bsn.is_valid(value):
            return value


def group(value, size=4):
    return " ".join(value[i:i + size] for i in range(0, len(value), size))


def main():
    banks = ["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ"]
    print("# Dutch IBANs (valid / wrong check digits)")
    for bank in banks:
        value = make_iban("NL", bank + "".join(str(rng.randrange(10)) for _ in range(10)))
        print(value, group(value), wrong_iban(value))
    print("# other SEPA IBANs")
    for country, bban in [
        ("DE", "37040044" + "".join(str(rng.randrange(10)) for _ in range(10))),
        ("BE", "".join(str(rng.randrange(10)) for _ in range(10)) + "00"),
        ("FR", "2004101005" + "0500013M026"),
        ("GB", "NWBK601613" + "".join(str(rng.randrange(10)) for _ in range(4))),
        ("ES", "2100041845" + "".join(str(rng.randrange(10)) for _ in range(10))),
        ("IT", "X0542811101000000" + "".join(str(rng.randrange(10)) for _ in range(6))),
        ("AT", "19043" + "".join(str(rng.randrange(10)) for _ in range(11))),
        ("NO", "8601" + "".join(str(rng.randrange(10)) for _ in range(7))),
        ("IE", "AIBK931152" + "".join(str(rng.randrange(10)) for _ in range(8))),
        ("LU", "0019" + "".join(str(rng.randrange(10)) for _ in range(12))),
    ]:
        try:
            value = make_iban(country, bban)
        except AssertionError:
            continue
        print(value, group(value), wrong_iban(value))
    print("# cards (valid / Luhn off by one)")
    for prefix, length in [
        ("4", 16), ("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
        ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("6759", 16), ("3528", 16),
        ("36", 14), ("62", 16), ("4", 19),
    ]:
        value = make_card(prefix, length)
        print(value, group(value), wrong_card(value))
    print("# BSNs (valid / invalid)")
    for _ in range(16):
        print(make_bsn(), wrong_bsn())


if __name__ == "__main__":
    main()
