#!/usr/bin/env python3
"""Reference figures for BENCHMARKS.md: the same operations as crates/core/benches, done by the
common Python libraries, so our figures can be given as ratios measured on the same machine.

- argon2-cffi: Argon2id hash and verify at m=19456 KiB, t=2, p=1, 32-byte tag, 16-byte salt
  (the parameters of schild-core's Argon2Params::OWASP_MINIMUM).
- pyotp: TOTP verify, SHA-1, 6 digits, 30 s, valid_window=1 (our ±1 step), correct and wrong code.
- PyJWT (EdDSA through `cryptography`): sign and verify an access token with our claim set
  (iss, aud, sub, sid, jti, iat, exp, roles; header kid and typ at+jwt).

Prints one JSON object per line: {"name", "ns_per_op", "ops_per_s", "iters", "rounds", ...},
then a final {"summary": {...}} line. Median of several rounds; each round long enough to
swamp timer overhead. Run through benches/reference/run, which sets up the venv.
"""

import json
import os
import platform
import statistics
import sys
import time
import uuid
from importlib.metadata import version


def measure(name, fn, *, round_seconds=0.5, rounds=7, min_iters=1, **extra):
    """Median ns/op over `rounds` rounds of about `round_seconds` each (after one warm-up round)."""
    # Calibrate: how many iterations fill one round.
    iters = min_iters
    while True:
        start = time.perf_counter_ns()
        for _ in range(iters):
            fn()
        elapsed = time.perf_counter_ns() - start
        if elapsed >= round_seconds * 1e9 * 0.2 or iters >= 1 << 24:
            break
        iters *= 2
    iters = max(min_iters, int(iters * (round_seconds * 1e9) / max(elapsed, 1)))
    per_op = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(iters):
            fn()
        per_op.append((time.perf_counter_ns() - start) / iters)
    median = statistics.median(per_op)
    result = {
        "name": name,
        "ns_per_op": round(median, 1),
        "ops_per_s": round(1e9 / median, 1),
        "min_ns": round(min(per_op), 1),
        "max_ns": round(max(per_op), 1),
        "iters": iters,
        "rounds": rounds,
        **extra,
    }
    print(json.dumps(result), flush=True)
    return result


def bench_argon2():
    from argon2 import PasswordHasher, Type

    ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16,
                        type=Type.ID)
    password = "copper kettle wander orbit"
    stored = ph.hash(password)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), stored
    assert ph.verify(stored, password)
    params = {"lib": f"argon2-cffi {version('argon2-cffi')} (bindings {version('argon2-cffi-bindings')})", "params": "m=19456 t=2 p=1"}
    out = [
        measure("argon2id/hash", lambda: ph.hash(password), round_seconds=2.0, rounds=5, **params),
        measure("argon2id/verify", lambda: ph.verify(stored, password), round_seconds=2.0, rounds=5,
                **params),
    ]
    return out


def bench_totp():
    import hashlib
    import pyotp

    # A fixed 160-bit secret and the same instant as crates/core/benches/credentials.rs.
    secret = pyotp.random_base32(32)
    totp = pyotp.TOTP(secret, digits=6, interval=30, digest=hashlib.sha1)
    when = 1_700_000_015
    code = totp.at(when)
    wrong = "000000" if code != "000000" else "111111"
    assert totp.verify(code, for_time=when, valid_window=1)
    assert not any(totp.at(when, counter_offset=o) == wrong for o in (-1, 0, 1))
    assert not totp.verify(wrong, for_time=when, valid_window=1)
    params = {"lib": f"pyotp {version('pyotp')}",
              "params": "SHA-1 6 digits 30 s valid_window=1"}
    return [
        # pyotp stops at the first match: a current-step code costs 2 HMACs (steps -1, 0).
        measure("totp/verify (correct)", lambda: totp.verify(code, for_time=when, valid_window=1),
                hmacs=2, **params),
        # A wrong code costs all 3 HMACs, as every call of ours does.
        measure("totp/verify (wrong)", lambda: totp.verify(wrong, for_time=when, valid_window=1),
                hmacs=3, **params),
    ]


def bench_jwt():
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    issuer, audience = "https://schild.example", "schild-api"
    headers = {"kid": "bench-key-1", "typ": "at+jwt"}
    sub, sid = str(uuid.uuid4()), str(uuid.uuid4())

    def claims():
        iat = int(time.time())
        return {"iss": issuer, "aud": audience, "sub": sub, "sid": sid, "jti": str(uuid.uuid4()),
                "iat": iat, "exp": iat + 900, "roles": ["user"]}

    def sign():
        return jwt.encode(claims(), private, algorithm="EdDSA", headers=headers)

    token = sign()

    def verify():
        return jwt.decode(token, public, algorithms=["EdDSA"], audience=audience, issuer=issuer,
                          options={"require": ["exp", "iss", "aud", "sub"]})

    decoded = verify()
    assert decoded["sid"] == sid and jwt.get_unverified_header(token)["alg"] == "EdDSA"
    params = {"lib": f"PyJWT {version('PyJWT')} + cryptography {version('cryptography')}",
              "params": "EdDSA Ed25519, 8 claims, kid+typ header", "token_len": len(token)}
    return [
        measure("jwt/sign_access", sign, **params),
        measure("jwt/verify_access", verify, **params),
    ]


def main():
    only = set(sys.argv[1:])
    groups = {"argon2": bench_argon2, "totp": bench_totp, "jwt": bench_jwt}
    meta = {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "loadavg_start": os.getloadavg()}
    print(json.dumps({"meta": meta}), flush=True)
    results = []
    for key, fn in groups.items():
        if not only or key in only:
            results.extend(fn())
    summary = {r["name"]: r["ns_per_op"] for r in results}
    print(json.dumps({"summary": summary, "loadavg_end": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
