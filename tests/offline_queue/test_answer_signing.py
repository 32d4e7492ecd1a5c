"""Signed answers: the pure functions both sides share (protocol section 5.1)."""

import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import AnswerSigner, sign_answer, verify_answer


def test_answer_signature_round_trip_and_tampering():
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    sig = sign_answer(key, "dev-1", "ab" * 16, 200, b'{"ok":true}')
    assert verify_answer(pub, sig, "dev-1", "ab" * 16, 200, b'{"ok":true}')
    assert not verify_answer(pub, sig, "dev-1", "ab" * 16, 200, b'{"ok":false}')
    assert not verify_answer(pub, sig, "dev-1", "cd" * 16, 200, b'{"ok":true}')
    assert not verify_answer(pub, sig, "dev-2", "ab" * 16, 200, b'{"ok":true}')
    assert not verify_answer(pub, sig, "dev-1", "ab" * 16, 201, b'{"ok":true}')
    assert not verify_answer(pub, None, "dev-1", "ab" * 16, 200, b'{"ok":true}')
    assert not verify_answer(pub, "not base64!", "dev-1", "ab" * 16, 200, b"")
    other = Ed25519PrivateKey.generate()
    assert not verify_answer(other.public_key(), sig, "dev-1", "ab" * 16, 200, b'{"ok":true}')


def test_the_hall_s_libsodium_signer_signs_byte_for_byte_as_cryptography():
    # Ed25519 is deterministic (RFC 8032): libsodium's signature under the same seed is the very
    # bytes OpenSSL's is, so a kiosk verifying with cryptography takes the hall's answers as before.
    for number in range(50):
        key = Ed25519PrivateKey.generate()
        signer = AnswerSigner(key)
        body = os.urandom(number * 7)
        nonce = os.urandom(16).hex()
        assert signer.sign(body) == key.sign(body)
        mine = sign_answer(signer, f"dev-{number}", nonce, 200 + number, body)
        assert mine == sign_answer(key, f"dev-{number}", nonce, 200 + number, body)
        assert verify_answer(key.public_key(), mine, f"dev-{number}", nonce, 200 + number, body)
