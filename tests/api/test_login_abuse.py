"""Login abuse: throttled per client before hashing, no lockout of an owner by strangers, no user probing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx2 import Response

from admit import errors
from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.db.models import Operator
from admit.domain.roles import Role
from admit.security.passwords import hash_secret
from admit.services.operators import create_operator
from admit.settings import Settings
from tests.builders import PASSWORD, Builders

ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40000)


@pytest.fixture
def guarded(settings: Settings, clock: FrozenClock) -> Iterator[Builders]:
    """An application with the shipped login limits: 10 attempts a minute per client, 5 failures."""
    real = settings.model_copy(update={"rate_limit_login": "10/minute", "max_login_failures": 5})
    app = create_app(real, clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


def _from(make: Builders, address: tuple[str, int]) -> TestClient:
    return TestClient(make.client.app, client=address)


def _login(client: TestClient, username: str, **secret: str) -> Response:
    return client.post("/api/operator/login", json={"username": username, **secret})


def test_failures_from_one_client_do_not_lock_the_owner_out_from_another(guarded: Builders) -> None:
    make = guarded
    staff = make.staff(make.org(), Role.OPERATOR)
    attacker, owner = _from(make, ATTACKER), _from(make, OWNER)
    for _ in range(5):
        assert _login(attacker, staff.username, password="nope-nope").status_code == 401
    # The client that failed five times now waits, even with the right password ...
    throttled = _login(attacker, staff.username, password=PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 15 * 60
    # ... while the owner, elsewhere, logs in at once.
    assert _login(owner, staff.username, password=PASSWORD).status_code == 200


def _without_seconds(content: bytes) -> bytes:
    return re.sub(rb"wait \d+ seconds?", b"wait N seconds", re.sub(rb'"retry_after":\d+', b"", content))


def test_unknown_and_known_usernames_get_byte_identical_answers(guarded: Builders) -> None:
    """Same status, code, message, details and headers, first failure to throttled: nothing to probe."""
    make = guarded
    staff = make.staff(make.org(), Role.OPERATOR)

    def answers(username: str, address: tuple[str, int]) -> list[tuple[int, bytes, bool]]:
        client = _from(make, address)
        replies = [_login(client, username, password="nope-nope") for _ in range(7)]
        # The seconds to wait depend on when the first failure was, seconds apart on a busy machine:
        # blank them, in the details and in the message that names them.
        return [(r.status_code, _without_seconds(r.content), "Retry-After" in r.headers) for r in replies]

    known, unknown = answers(staff.username, ATTACKER), answers("nobody-here", OWNER)
    assert [status for status, _, _ in known] == [401] * 5 + [429] * 2
    assert known == unknown


def test_logins_are_limited_per_client_before_any_password_is_checked(guarded: Builders) -> None:
    make = guarded
    staff = make.staff(make.org(), Role.OPERATOR)
    attacker = _from(make, ATTACKER)
    for number in range(10):
        assert _login(attacker, f"guess-{number}", password="nope-nope").status_code == 401
    refused = _login(attacker, staff.username, password=PASSWORD)
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "RATE_LIMITED")
    assert "Retry-After" in refused.headers
    assert _login(_from(make, OWNER), staff.username, password=PASSWORD).status_code == 200


def test_a_login_that_cannot_get_a_hashing_thread_soon_is_told_to_retry_and_the_door_still_answers(
    guarded: Builders,
) -> None:
    make = guarded
    orq = make.org()
    staff = make.staff(orq, Role.OPERATOR)
    code = make.ticket(orq, "ACTIVATED")
    hashes = make.context.hashing.slots
    holders = [object() for _ in range(int(hashes.total_tokens))]
    # Every hashing thread busy, as in a flood of logins from many addresses.
    portal = make.client.portal
    assert portal is not None
    for holder in holders:
        portal.call(hashes.acquire_on_behalf_of, holder)
    try:
        busy = _login(make.client, staff.username, password=PASSWORD)
        scan = make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=staff.headers)
    finally:
        for holder in holders:
            portal.call(hashes.release_on_behalf_of, holder)
    assert busy.status_code == 503
    assert busy.json()["error"]["code"] == "SERVICE_BUSY"
    assert busy.headers["Retry-After"] == "1"
    assert scan.status_code == 200
    assert _login(make.client, staff.username, password=PASSWORD).status_code == 200


def test_new_pins_need_six_digits_and_existing_four_digit_pins_still_log_in(make: Builders) -> None:
    orq = make.org()
    with make.context.sessions() as session, pytest.raises(errors.ValidationFailed) as refused:
        create_operator(
            session,
            orq=orq,
            username="door-short",
            name=None,
            role=Role.OPERATOR,
            password=None,
            pin="4821",
            now=make.context.clock.now(),
        )
    assert "pin" in refused.value.details["fields"]
    with make.context.sessions() as session, session.begin():
        session.add(  # an account made before PINs needed six digits
            Operator(
                orq=orq,
                username="door-old",
                name="Door",
                role=Role.OPERATOR,
                password_hash=None,
                pin_hash=hash_secret("4821"),
                failed_logins=0,
                created_at=make.context.clock.now(),
            )
        )
    assert _login(make.client, "door-old", pin="4821").status_code == 200


def test_a_refused_login_is_answered_only_after_the_refusal_delay_and_a_good_one_at_once(
    settings: Settings, clock: FrozenClock
) -> None:
    """A flood's clients wait for their answers: a second per refusal keeps each to a login a second."""
    slow = settings.model_copy(update={"login_refusal_delay_ms": 700})
    app = create_app(slow, clock=clock)
    with TestClient(app) as client:
        make = Builders(client=client, context=context_of(app))
        staff = make.staff(make.org(), Role.OPERATOR)
        started = time.monotonic()
        refused = _login(client, staff.username, password="nope-nope")
        refused_after = time.monotonic() - started
        started = time.monotonic()
        accepted = _login(client, staff.username, password=PASSWORD)
        accepted_after = time.monotonic() - started
    context_of(app).engine.dispose()
    assert refused.status_code == 401 and accepted.status_code == 200
    assert refused_after >= 0.7  # the deliberate wait, not a measure of speed
    assert accepted_after < refused_after


def test_a_password_hashed_by_an_older_release_still_logs_in_and_is_hashed_again_as_now(
    make: Builders,
) -> None:
    staff = make.staff(make.org(), Role.OPERATOR)
    older = PasswordHasher()  # the library's default parameters, as earlier releases hashed with
    with make.context.sessions() as session, session.begin():
        session.get_one(Operator, staff.id).password_hash = older.hash(PASSWORD)

    assert _login(make.client, staff.username, password=PASSWORD).status_code == 200

    with make.context.sessions() as session, session.begin():
        remade = session.get_one(Operator, staff.id).password_hash
    assert remade is not None
    assert "m=19456,t=2,p=1" in remade
    assert _login(make.client, staff.username, password=PASSWORD).status_code == 200
