import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_push import signatures


def reference_hex(secret: str, body: bytes, algorithm: str) -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_sign_matches_an_independent_hmac(algorithm):
    header = signatures.sign("s3cret", b"<feed/>", algorithm)
    method, _, digest = header.partition("=")
    assert method == algorithm
    assert digest == reference_hex("s3cret", b"<feed/>", algorithm)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_verify_accepts_every_websub_algorithm(algorithm):
    header = f"{algorithm}={reference_hex('k', b'body', algorithm)}"
    assert signatures.verify("k", b"body", header)


def test_verify_is_case_insensitive_on_hex_and_method():
    header = "SHA256=" + reference_hex("k", b"body", "sha256").upper()
    assert signatures.verify("k", b"body", header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256",
        "md5=" + hashlib.md5(b"x").hexdigest(),  # noqa: S324
        "sha224=" + reference_hex("k", b"body", "sha224"),
        "sha256=" + "0" * 64,
        "sha256=é",
        "=abc",
    ],
)
def test_verify_rejects_bad_headers(header):
    assert not signatures.verify("k", b"body", header)


def test_verify_rejects_a_signature_over_other_bytes():
    header = signatures.sign("k", b"body")
    assert not signatures.verify("k", b"body ", header)
    assert not signatures.verify("other", b"body", header)


def test_sign_refuses_unknown_algorithm():
    with pytest.raises(ValueError, match="md5"):
        signatures.sign("k", b"", "md5")


def test_algorithm_of():
    assert signatures.algorithm_of("SHA384=ab") == "sha384"
    assert signatures.algorithm_of("md5=ab") is None
    assert signatures.algorithm_of(None) is None
    assert signatures.algorithm_of("nohash") is None


@given(st.binary(max_size=256), st.text(max_size=50))
def test_verify_never_raises_on_arbitrary_headers(body, header):
    assert signatures.verify("k", body, header) in (True, False)


@given(st.binary(max_size=512), st.text(min_size=1, max_size=64))
def test_sign_then_verify_round_trips(body, secret):
    assert signatures.verify(secret, body, signatures.sign(secret, body, "sha512"))
