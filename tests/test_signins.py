"""Sign-ins behind the session cookie (simulator/signins.py): hand-off, expiry and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator import auth
from simulator.signins import HANDOFF_MAX_AGE, Policy, SignIns, shared_secret

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def user(repo):
    return auth.create_user(repo, "Bu Ratna", "trainee", "correct horse 7")


@pytest.fixture
def signins(repo):
    return SignIns(repo, shared_secret(repo), Policy(idle=timedelta(minutes=30), absolute=timedelta(hours=8)))


def _cookie(signins, user, now=T0):
    pending = signins.start(user.id, now=now)
    cookie = signins.redeem(pending.code, now=now + timedelta(seconds=5))
    assert cookie is not None
    return pending, cookie


def test_a_redeemed_code_gives_a_cookie_that_signs_the_user_in(signins, user):
    pending, cookie = _cookie(signins, user)
    assert signins.redeemed(pending.sign_in_id)
    found = signins.resolve(cookie, now=T0 + timedelta(minutes=1))
    assert found is not None and found.user_id == user.id and found.sign_in_id == pending.sign_in_id
    assert pending.code not in cookie and "." in cookie  # a signed value, not the code


def test_a_code_works_once_and_only_for_a_short_while(signins, user):
    pending = signins.start(user.id, now=T0)
    assert signins.redeem(pending.code, now=T0) is not None
    assert signins.redeem(pending.code, now=T0) is None  # replayed
    late = signins.start(user.id, now=T0)
    assert signins.redeem(late.code, now=T0 + timedelta(seconds=HANDOFF_MAX_AGE + 1)) is None
    assert signins.redeem("forged.code.value") is None


def test_a_tampered_or_foreign_cookie_signs_nobody_in(repo, signins, user):
    _, cookie = _cookie(signins, user)
    assert signins.resolve(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    other = SignIns(repo, "another key entirely", signins.policy)
    assert other.resolve(cookie) is None
    assert signins.resolve("") is None and signins.resolve(None) is None


def test_idle_and_absolute_expiry(signins, user):
    _, cookie = _cookie(signins, user)
    # used every 20 minutes: still signed in after 7 hours (idle limit 30 minutes)...
    for minutes in range(20, 7 * 60, 20):
        assert signins.resolve(cookie, now=T0 + timedelta(minutes=minutes)) is not None
    # ...but never beyond the absolute limit of 8 hours
    assert signins.resolve(cookie, now=T0 + timedelta(hours=8, minutes=5)) is None
    _, idle = _cookie(signins, user)
    assert signins.resolve(idle, now=T0 + timedelta(minutes=31)) is None
    assert signins.resolve(idle, now=T0 + timedelta(minutes=1)) is None  # expired stays ended


def test_sign_out_password_change_and_disabling_revoke(repo, signins, user):
    pending, cookie = _cookie(signins, user)
    signins.revoke(pending.sign_in_id)
    assert signins.resolve(cookie, now=T0) is None

    _, cookie = _cookie(signins, user)
    auth.set_password(repo, user.id, "a new password 8")
    assert signins.resolve(cookie, now=T0) is None

    _, cookie = _cookie(signins, user)
    repo.set_user_active(user.id, False)
    assert signins.resolve(cookie, now=T0) is None
    repo.set_user_active(user.id, True)
    assert signins.resolve(cookie, now=T0) is None  # re-enabling does not revive old sign-ins


def test_the_sign_out_route_revokes_by_cookie(signins, user):
    _, cookie = _cookie(signins, user)
    signins.revoke_cookie(cookie)
    assert signins.resolve(cookie, now=T0) is None


def test_the_generated_key_is_made_once_and_shared(repo):
    first = shared_secret(repo)
    assert len(first) >= 40 and shared_secret(repo) == first
    assert shared_secret(repo, "configured") == "configured"
