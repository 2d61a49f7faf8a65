"""The stored password hash is a standard Argon2id PHC string that argon2-cffi verifies (on each backend)."""
import argon2

from conftest import sql


def stored_hash(server, username):
    return sql(server, "SELECT password_hash FROM users WHERE username = :'name'", name=username)


def test_stored_hash_verifies_with_argon2_cffi(server):
    encoded = stored_hash(server, "alice")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    assert hasher.verify(encoded, "correct horse battery")
    assert not hasher.check_needs_rehash(encoded)
    try:
        hasher.verify(encoded, "wrong password")
        raise AssertionError("argon2-cffi accepted a wrong password")
    except argon2.exceptions.VerifyMismatchError:
        pass


def test_hash_made_by_argon2_cffi_logs_in(server):
    server.cli("user", "add", "dave", "--password-stdin", stdin="initial password\n")
    foreign = argon2.PasswordHasher(time_cost=3, memory_cost=20000, parallelism=1).hash("set by argon2-cffi")
    sql(server, "UPDATE users SET password_hash = :'hash' WHERE username = 'dave'", hash=foreign)
    assert server.login("dave", "set by argon2-cffi")["access_token"]
