"""Imports point one way: down.

The layers of the package, from the bottom:

1. kernel: errors, the clock, files, log redaction and languages; they know nothing of Admit's rules.
2. domain: the rules as plain Python.
3. adapters: security (codes, tokens, passwords), the database and its migrations, settings, caches,
   metrics and rate limits.
4. outbox: writing e-mails into the outbox table inside a use case's transaction, and its depth.
5. services: the use cases; they queue their e-mails through the outbox.
6. delivery: what goes out from the services' views: the mail sender, composer and reminders, the QR
   code and calendar entry, the printable ticket and the wallet pass, and the logs of what the door decided.
7. wiring: the context that builds the services' collaborators from the settings.
8. interfaces: the HTTP API and the web pages.
9. entry points: the app factory, the command line and the demo.

A module may import from its own layer and from the layers below it. Every import counts, including
those inside functions and under `TYPE_CHECKING`: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import admit

PACKAGE = Path(admit.__file__).parent

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("kernel", ("admit.errors", "admit.clock", "admit.files", "admit.redact", "admit.i18n")),
    ("domain", ("admit.domain",)),
    (
        "adapters",
        (
            "admit.security",
            "admit.db",
            "admit.migrations",
            "admit.settings",
            "admit.cache",
            "admit.live",
            "admit.metrics",
            "admit.ratelimit",
        ),
    ),
    ("outbox", ("admit.outbox",)),
    ("services", ("admit.services",)),
    (
        "delivery",
        ("admit.mail", "admit.confirmation", "admit.ticket_pdf", "admit.wallet_pass", "admit.logging"),
    ),
    ("wiring", ("admit.context",)),
    ("interfaces", ("admit.api", "admit.web")),
    ("entry points", ("admit.app", "admit.cli", "admit.demo")),
]


def layer_of(module: str) -> int | None:
    """The rank of a module's layer (0 at the bottom), or None for the package itself or a stranger."""
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return rank
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (PACKAGE.parent / relative).is_dir()


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every Admit module that a file imports, with the line of the import, wherever it is written."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from admit.services import door` imports the module `admit.services.door`.
                submodule = f"{source}.{alias.name}"
                found.append((node.lineno, submodule if is_module(submodule) else source))
    return sorted(
        {(line, module) for line, module in found if module == "admit" or module.startswith("admit.")}
    )


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    strays = [module_name(path) for path in sources() if module_name(path) != "admit"]
    strays = [module for module in strays if layer_of(module) is None]
    assert not strays, f"modules in no layer (add them to LAYERS): {strays}"


def test_no_import_points_up() -> None:
    upward = []
    for path in sources():
        importer = module_name(path)
        rank = layer_of(importer)
        for line, imported in imported_modules(path):
            target = layer_of(imported)
            if rank is not None and target is not None and target > rank:
                upward.append(
                    f"{importer} ({LAYERS[rank][0]}) imports {imported} ({LAYERS[target][0]}) at line {line}"
                )
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_the_check_sees_imports_inside_functions() -> None:
    # The sender imports the reminders inside a function; the check must see such imports too.
    sender = PACKAGE / "mail" / "sender.py"
    assert "admit.mail.reminders" in {module for _, module in imported_modules(sender)}
