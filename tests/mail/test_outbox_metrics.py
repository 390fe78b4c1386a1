"""An operator sees at /metrics whether e-mail is going out, and the shipped alerts watch it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml

from admit.clock import FrozenClock
from admit.mail.sender import MailContext, send_due
from tests.api.test_observability import metric, scrape
from tests.builders import Builders
from tests.mail.conftest import SmtpServer

ALERTS = Path(__file__).parents[2] / "deploy" / "prometheus" / "alerts.yml"
OUTBOX_METRICS = (
    "admit_outbox_pending_messages",
    "admit_outbox_oldest_pending_age_seconds",
    "admit_outbox_failed_messages",
)


def test_metrics_show_how_many_emails_wait_how_long_the_oldest_has_waited_and_how_many_were_given_up(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    smtp.inbox.refuse = {"gone@example.com": "550 5.1.1 No such user here"}
    orq = make.org("Secret Garden Museum")
    slot = make.slot(orq, capacity=10)
    make.reserve([make.ticket(orq, "ACTIVATED")], slot, customer_email="gone@example.com")
    make.reservation(orq, slot)
    send_due(mail)  # one delivered, one given up
    first_waiting = clock.now()
    smtp.stop()
    make.reservation(orq, slot)
    clock.advance(timedelta(minutes=5))
    make.reservation(orq, slot)
    send_due(mail)  # both wait for the server
    clock.advance(timedelta(minutes=15))

    text = scrape(make).text
    assert metric(text, "admit_outbox_pending_messages") == 2
    assert metric(text, "admit_outbox_oldest_pending_age_seconds") == (clock.now() - first_waiting).seconds
    assert metric(text, "admit_outbox_failed_messages") == 1
    outbox_lines = [line for line in text.splitlines() if line.startswith("admit_outbox_")]
    assert len(outbox_lines) == 3
    assert not [line for line in outbox_lines if "{" in line]  # no organization, nothing of its data


def test_the_alert_rules_parse_and_watch_the_outbox_with_metrics_that_are_served(make: Builders) -> None:
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    served = set(re.findall(r"^# TYPE (\w+) ", scrape(make).text, re.MULTILINE))
    for rule in rules:
        assert {"alert", "expr"} <= rule.keys()
        for name in re.findall(r"\badmit_\w+", rule["expr"]):
            assert re.sub(r"_(bucket|count|sum)$", "", name) in served, (rule["alert"], name)
    watched = " ".join(rule["expr"] for rule in rules)
    assert all(name in watched for name in OUTBOX_METRICS)
