"""`forecasts doctor`: check the configuration, database, questions file, mail and news."""

from __future__ import annotations

import typer

from forecasts.cli._common import console, print_json, runtime, working


def doctor(
    timeout: float = typer.Option(
        5.0,
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        max=120,
        help="How long a network check may take.",
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Check that everything works: configuration, database, questions file, mail, news,
    scheduler.

    The database answers and its schema is current; the questions file is valid and
    synced; the Maildir is writable, or the SMTP server answers and accepts the login;
    every news source answers; a scheduler holds the lease and each job's last run went
    well. One line per check, with what to do when it is not ok; exits 1 if any check
    fails (a warning does not)."""
    from rich.text import Text

    from forecasts.doctor import diagnose
    from forecasts.tables import print_hanging

    with working("Checking"):
        result = diagnose(runtime(), timeout=timeout)
    if as_json:
        print_json(result.to_dict())
    else:
        out = console()
        width = max(len(c.name) for c in result.checks)
        for c in result.checks:
            head = Text.assemble(
                (f"{STATUS[c.status]:<4}", STYLE[c.status]), f"  {c.name:<{width}}  "
            )
            print_hanging(out, head, c.detail + (f" → {c.remedy}" if c.remedy else ""))
        failed = len(result.failed)
        warned = sum(1 for c in result.checks if c.status == "warn")
        total = len(result.checks)
        if failed:
            said = f"{failed} of {total} checks failed."
        elif warned:
            said = f"No check failed; {warned} of {total} want a look (warn)."
        else:
            said = f"All {total} checks passed."
        out.print()
        out.print(said, markup=False)
    if not result.ok:
        raise typer.Exit(1)


STATUS = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}
