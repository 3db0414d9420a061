"""Our keys: RFC 7638 kids, the published JWKS, rotation without breaking verification."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from grader.lti.errors import ConfigError
from grader.lti.jwks_client import parse_jwks
from grader.lti.keys import KeyState
from grader.lti.keys import active_key
from grader.lti.keys import jwk_thumbprint
from grader.lti.keys import jwks_document
from grader.lti.keys import key_record_from_pem
from grader.lti.keys import prune_retired
from grader.lti.keys import rotate
from tests.lti.fake_platform import pooled_key
from tests.lti.tool_harness import pooled_key_record


def test_rfc7638_thumbprint_vector() -> None:
    """The worked example of RFC 7638 §3.1."""
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
            "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
            "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
            "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_jwks_publishes_every_state_active_first() -> None:
    records = [
        pooled_key_record(2, KeyState.RETIRED),
        pooled_key_record(3, KeyState.NEXT),
        pooled_key_record(4, KeyState.ACTIVE),
    ]
    document = jwks_document(records)
    assert [k["kid"] for k in document["keys"]] == [records[2].kid, records[1].kid, records[0].kid]
    for key in document["keys"]:
        assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}
        assert (key["alg"], key["use"]) == ("RS256", "sig")
        assert jwk_thumbprint(key) == key["kid"]
    assert "PRIVATE" not in repr(records)


def test_exactly_one_active_key_signs() -> None:
    with pytest.raises(ConfigError):
        active_key([pooled_key_record(2, KeyState.NEXT)])
    with pytest.raises(ConfigError):
        active_key([pooled_key_record(2, KeyState.ACTIVE), pooled_key_record(3, KeyState.ACTIVE)])


def test_rotation_keeps_recent_tokens_verifiable() -> None:
    old = pooled_key_record(2, KeyState.ACTIVE)
    new = pooled_key_record(3, KeyState.NEXT)
    token = jwt.encode({"x": 1}, old.private_key(), algorithm="RS256", headers={"kid": old.kid})

    rotated = rotate([old, new], generate_next=False)

    assert active_key(rotated).kid == new.kid
    assert {r.kid: r.state for r in rotated} == {
        old.kid: KeyState.RETIRED,
        new.kid: KeyState.ACTIVE,
    }
    published = parse_jwks(jwks_document(rotated))
    assert jwt.decode(token, published[old.kid], algorithms=["RS256"]) == {"x": 1}
    assert [r.kid for r in prune_retired(rotated)] == [new.kid]


def test_rotation_needs_a_published_next_key() -> None:
    with pytest.raises(ConfigError) as info:
        rotate([pooled_key_record(2, KeyState.ACTIVE)])
    assert info.value.code == "no_next_key"


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_a_trusted_pem_loads_without_the_rsa_check_to_the_same_key() -> None:
    pem = _pem(pooled_key(5))
    checked = key_record_from_pem(pem, KeyState.ACTIVE)
    trusted = key_record_from_pem(pem, KeyState.ACTIVE, trusted=True)
    assert trusted == checked
    assert trusted.loaded is not None
    assert trusted.public_jwk() == checked.public_jwk()
    token = jwt.encode({"x": 1}, trusted.private_key(), algorithm="RS256")
    assert jwt.decode(token, checked.private_key().public_key(), algorithms=["RS256"]) == {"x": 1}


def test_an_inconsistent_rsa_key_is_refused_unless_trusted() -> None:
    numbers = pooled_key(6).private_numbers()
    broken = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d,
        dmp1=numbers.dmp1 ^ 2,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    with pytest.raises(ConfigError) as info:
        key_record_from_pem(_pem(broken), KeyState.NEXT)
    assert info.value.code == "bad_key"
    with pytest.raises(ConfigError):
        key_record_from_pem(
            b"-----BEGIN PRIVATE KEY-----\nnot a key\n", KeyState.NEXT, trusted=True
        )


def test_public_jwk_is_computed_once_and_returned_as_a_copy() -> None:
    record = pooled_key_record(2, KeyState.ACTIVE)
    first = record.public_jwk()
    first["kid"] = "changed"
    assert record.public_jwk()["kid"] == record.kid
    assert replace(record, state=KeyState.RETIRED).loaded is record.loaded
