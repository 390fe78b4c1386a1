"""`admit operators disable | enable | list`, run as the real command."""

from __future__ import annotations

from tests.cli.test_cli import Cli, assert_refused, cli  # noqa: F401 (cli is a fixture)


def _two_accounts(cli: Cli) -> int:  # noqa: F811
    orq = int(cli.ok("orgs", "create", "--name", "Museum", "--timezone", "Europe/Paris"))
    for username, role in (("boss", "admin"), ("door1", "operator")):
        cli.ok(
            "operators",
            "create",
            "--orq",
            str(orq),
            "--username",
            username,
            "--role",
            role,
            "--pin",
            "246810",
        )
    return orq


def test_a_disabled_account_cannot_log_in_until_it_is_enabled_again(cli: Cli) -> None:  # noqa: F811
    _two_accounts(cli)
    with cli.http() as http:
        token = http.post("/api/operator/login", json={"username": "door1", "pin": "246810"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    assert "door1 is disabled" in cli.ok("operators", "disable", "--username", "DOOR1")

    with cli.http() as http:
        refused = http.post("/api/operator/login", json={"username": "door1", "pin": "246810"})
        old_token = http.post("/api/operator/validate-ticket", json={"code": "X"}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    assert old_token.status_code == 401
    assert "door1 is enabled" in cli.ok("operators", "enable", "--username", "door1")
    with cli.http() as http:
        again = http.post("/api/operator/login", json={"username": "door1", "pin": "246810"})
    assert again.status_code == 200


def test_operators_list_shows_each_account_with_its_status_and_filters_by_organization(
    cli: Cli,  # noqa: F811
) -> None:
    orq = _two_accounts(cli)
    other = int(cli.ok("orgs", "create", "--name", "Zoo", "--timezone", "Europe/Paris"))
    cli.ok(
        "operators",
        "create",
        "--orq",
        str(other),
        "--username",
        "keeper",
        "--role",
        "operator",
        "--pin",
        "246810",
    )
    cli.ok("operators", "disable", "--username", "door1")

    listed = cli.ok("operators", "list", "--orq", str(orq))
    everyone = cli.ok("operators", "list")

    rows = {line.split()[2]: line.split() for line in listed.splitlines()[1:]}
    assert set(rows) == {"boss", "door1"}
    assert rows["door1"][3:5] == ["operator", "disabled"]
    assert rows["boss"][3:5] == ["admin", "active"]
    assert "keeper" in everyone and "keeper" not in listed


def test_disabling_or_enabling_an_unknown_username_fails_clearly_and_changes_nothing(
    cli: Cli,  # noqa: F811
) -> None:
    _two_accounts(cli)
    before = cli.query("SELECT id, disabled_at, token_generation FROM operators ORDER BY id")

    for command in ("disable", "enable"):
        result = cli.run("operators", command, "--username", "nobody")
        assert_refused(result, "OPERATOR_NOT_FOUND")
        assert result.stdout == ""
    assert cli.query("SELECT id, disabled_at, token_generation FROM operators ORDER BY id") == before
