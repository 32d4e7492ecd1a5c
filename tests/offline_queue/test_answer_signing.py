"""Signed answers: the pure functions both sides share (protocol section 5.1)."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import sign_answer, verify_answer


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
