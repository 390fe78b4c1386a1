"""Names from data never break a message: composed on one line, and refused at the source."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from admit.db.models import Organization
from admit.errors import ValidationFailed, http_status
from admit.mail.sender import MailContext, send_due
from admit.services.organizations import create_organization
from tests.builders import Builders
from tests.mail.conftest import SmtpServer


def test_a_venue_name_with_a_line_break_in_the_database_still_gives_one_clean_message(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum")
    with make.context.sessions() as session, session.begin():  # written before names were checked
        session.execute(
            update(Organization)
            .where(Organization.id == orq)
            .values(name="Rijksmuseum\r\nBcc: everyone@example.com\n")
        )
    make.reservation(orq, make.slot(orq))
    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    assert str(message["Subject"]).startswith("Your visit to Rijksmuseum Bcc: everyone@example.com: ")
    assert message["Bcc"] is None and str(message["To"]) == "visitor@example.com"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Venue: Rijksmuseum Bcc: everyone@example.com\r\n" in text


@pytest.mark.parametrize("name", ["Rijks\nmuseum", "Rijks\r\nmuseum", "A\tB", "Rijks\x00", "A\u2028B"])
def test_an_organization_name_with_a_control_character_is_refused(make: Builders, name: str) -> None:
    with make.context.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Organization))
        with pytest.raises(ValidationFailed) as refused:
            create_organization(session, name=name, timezone="Europe/Amsterdam", now=make.context.clock.now())
        assert http_status(refused.value) == 422 and "name" in refused.value.details["fields"]
        assert session.scalar(select(func.count()).select_from(Organization)) == before
