"""``X-Hub-Signature`` signing and verification (WebSub 7.1).

The HMAC is computed over the exact body bytes, keyed with the UTF-8 secret,
and written ``method=hexdigest`` in lowercase. Verification compares in
constant time and accepts only the four algorithms WebSub names.
"""

from __future__ import annotations

import hmac

#: Algorithms WebSub 7.1.1 allows, in the order of the spec.
ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")


def _digest(secret: str | bytes, body: bytes, algorithm: str) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, algorithm).hexdigest()


def sign(secret: str | bytes, body: bytes, algorithm: str = "sha256") -> str:
    """The ``X-Hub-Signature`` value for *body*: ``"sha256=<hex>"``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unsupported signature algorithm {algorithm!r}")
    return f"{algorithm}={_digest(secret, body, algorithm)}"


def verify(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether *header* is a valid signature of *body* with *secret*.

    A missing or malformed header, an unknown algorithm or a wrong digest all
    return ``False``; this never raises on hostile input.
    """
    if not header or "=" not in header:
        return False
    method, _, received = header.strip().partition("=")
    method = method.strip().lower()
    if method not in ALGORITHMS:
        return False
    expected = _digest(secret, body, method)
    # Hex is compared case-insensitively, in constant time; a non-ASCII
    # header cannot match and must not raise.
    try:
        candidate = received.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), candidate)


def algorithm_of(header: str | None) -> str | None:
    """The algorithm named by *header* if it is one we accept, else ``None``."""
    if not header or "=" not in header:
        return None
    method = header.partition("=")[0].strip().lower()
    return method if method in ALGORITHMS else None
