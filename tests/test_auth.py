"""Users, roles and argon2 passwords against a real database."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher

from simulator import auth
from simulator.store import ConflictError

PASSWORD = "correct horse battery"


def test_roles_constant():
    assert auth.ROLES == ("trainee", "trainer", "hr", "admin")


def test_hash_is_argon2_not_the_password_and_verifies():
    hashed = auth.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert auth.hash_password(PASSWORD) != hashed  # salted
    assert auth.verify_password(hashed, PASSWORD)
    assert not auth.verify_password(hashed, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)


def test_create_user_stores_a_hash_and_authenticates(repo):
    user = auth.create_user(repo, "dewi", "trainer", PASSWORD, email="dewi@example.id")
    stored = repo.get_password_hash(user.id)
    assert stored is not None and stored != PASSWORD and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert "hash" not in repr(user) and PASSWORD not in repr(user)

    assert auth.authenticate(repo, "dewi", PASSWORD) == user


def test_wrong_password_unknown_user_and_passwordless_user_rejected(repo):
    auth.create_user(repo, "dewi", "trainee", PASSWORD)
    repo.add_user("oidc-user", "trainee", None, email="o@example.id")  # OIDC: no password
    assert auth.authenticate(repo, "dewi", "wrong password") is None
    assert auth.authenticate(repo, "dewi", "") is None
    assert auth.authenticate(repo, "Dewi", PASSWORD) is None
    assert auth.authenticate(repo, "nobody", PASSWORD) is None
    assert auth.authenticate(repo, "oidc-user", PASSWORD) is None
    assert auth.authenticate(repo, "oidc-user", "") is None


def test_inactive_user_rejected(repo):
    user = auth.create_user(repo, "dewi", "trainee", PASSWORD)
    repo.set_user_active(user.id, False)
    assert auth.authenticate(repo, "dewi", PASSWORD) is None
    repo.set_user_active(user.id, True)
    assert auth.authenticate(repo, "dewi", PASSWORD) is not None


def test_outdated_hash_is_upgraded_on_login(repo):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = repo.add_user("lama", "trainee", weak)
    assert auth.authenticate(repo, "lama", PASSWORD) == user
    upgraded = repo.get_password_hash(user.id)
    assert upgraded != weak
    assert not auth._hasher.check_needs_rehash(upgraded)
    assert auth.authenticate(repo, "lama", PASSWORD) == user


def test_hashing_parameters_meet_owasp_and_old_default_hashes_are_upgraded(repo):
    """argon2id with at least OWASP's m = 19 MiB, t = 2, p = 1; a hash made with the library's
    defaults (64 MiB, t = 3, p = 4: what earlier versions stored) is re-hashed at sign-in."""
    from argon2 import extract_parameters

    params = extract_parameters(auth.hash_password(PASSWORD))
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2 and params.parallelism == 1
    old = PasswordHasher().hash(PASSWORD)
    user = repo.add_user("lama", "trainee", old)
    assert auth.authenticate(repo, "lama", PASSWORD) == user
    assert extract_parameters(repo.get_password_hash(user.id)) == params


def test_unknown_user_costs_about_as_much_as_a_wrong_password(repo):
    auth.create_user(repo, "dewi", "trainee", PASSWORD)
    auth.authenticate(repo, "nobody", PASSWORD)  # warm up (the dummy hash is made once)

    def median_seconds(name: str) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            assert auth.authenticate(repo, name, "wrong password") is None
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    known, unknown = median_seconds("dewi"), median_seconds("nobody")
    # Without the dummy verification an unknown name would answer in ~1% of the time.
    assert unknown > 0.3 * known


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), ("x" * 65, "name"), (" lead", "name"), ("two  spaces", "name"), ("semi;colon", "name")],
)
def test_create_user_rejects_bad_names(repo, name, field):
    with pytest.raises(ValueError, match=field) as info:
        auth.create_user(repo, name, "trainee", PASSWORD)
    assert repr(name) in str(info.value)
    assert repo.count_users() == 0


def test_create_user_accepts_reasonable_names(repo):
    for name in ["Siti Rahmawati", "budi.santoso", "ana-maria", "andi_2", "Ñoño", "x" * 64]:
        assert auth.create_user(repo, name, "trainee", PASSWORD).name == name


def test_create_user_errors_name_the_field_never_the_password(repo):
    with pytest.raises(ValueError, match="password") as info:
        auth.create_user(repo, "dewi", "trainee", "short7!")
    assert "short7!" not in str(info.value)
    with pytest.raises(ValueError, match="password"):
        auth.create_user(repo, "dewi", "trainee", " " * 12)
    with pytest.raises(ValueError, match="role.*'superuser'"):
        auth.create_user(repo, "dewi", "superuser", PASSWORD)
    with pytest.raises(ValueError, match="email"):
        auth.create_user(repo, "dewi", "trainee", PASSWORD, email="nope")
    assert repo.count_users() == 0
    auth.create_user(repo, "dewi", "trainee", "exactly8")  # 8 characters is enough


def test_duplicate_names_rejected(repo):
    auth.create_user(repo, "dewi", "trainee", PASSWORD)
    with pytest.raises(ConflictError, match="'dewi'"):
        auth.create_user(repo, "dewi", "admin", PASSWORD + "2")
    with pytest.raises(ValueError):  # ConflictError is a ValueError for callers that only know that
        auth.create_user(repo, "dewi", "admin", PASSWORD + "2")


def test_set_password(repo):
    user = auth.create_user(repo, "dewi", "trainee", PASSWORD)
    auth.set_password(repo, user.id, "a new passphrase")
    assert auth.authenticate(repo, "dewi", PASSWORD) is None
    assert auth.authenticate(repo, "dewi", "a new passphrase") == user


def test_needs_first_admin_until_someone_exists(repo):
    assert auth.needs_first_admin(repo)  # a fresh database has no users: no default accounts
    assert repo.count_users() == 0
    auth.create_user(repo, "admin", "admin", PASSWORD)
    assert not auth.needs_first_admin(repo)


def test_sign_in_is_rate_limited_per_name(repo):
    from datetime import UTC, datetime

    from simulator.auth import LOCKOUT, MAX_FAILED_SIGN_INS, TooManyAttempts, sign_in

    auth.create_user(repo, "dewi", "trainee", "a-long-password")
    auth.create_user(repo, "rina", "trainee", "a-long-password")
    for _ in range(MAX_FAILED_SIGN_INS):
        assert sign_in(repo, "dewi", "wrong-password") is None
    with pytest.raises(TooManyAttempts):
        sign_in(repo, "dewi", "a-long-password")  # refused even with the right password
    assert sign_in(repo, "rina", "a-long-password") is not None  # other names are not affected
    later = datetime.now(UTC) + LOCKOUT
    assert sign_in(repo, "dewi", "a-long-password", now=later) is not None
