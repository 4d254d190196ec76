"""`forecasts people ...`: forecasters and reviewers."""

from __future__ import annotations

import typer

from forecasts.cli._common import console, db_session, echo, print_json

app = typer.Typer(help="Forecasters and reviewers.", no_args_is_help=True)


@app.command("add")
def add(
    handle: str = typer.Argument(..., help="Short unique handle, e.g. alice."),
    name: str | None = typer.Option(None, "--name", help="Full name."),
    email: str | None = typer.Option(
        None, "--email", help="Email address for prompts and the digest."
    ),
    reviewer: bool = typer.Option(False, "--reviewer", help="May resolve questions."),
    no_digest: bool = typer.Option(False, "--no-digest", help="Do not send the weekly digest."),
) -> None:
    """Add a person (a forecaster; with --reviewer, also a reviewer)."""
    from pydantic import ValidationError

    from forecasts.domain.people import add_person
    from forecasts.domain.schemas import PersonSpec
    from forecasts.errors import BadInput

    roles = ["forecaster", "reviewer"] if reviewer else ["forecaster"]
    try:
        spec = PersonSpec(handle=handle, name=name, email=email, roles=roles, digest=not no_digest)
    except ValidationError as e:
        err = e.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else "input"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if field == "handle":
            msg = (
                f"{handle!r} is not a valid handle; use lower-case letters, digits, '.', '_' or '-'"
            )
        raise BadInput(f"{field}: {msg}") from None
    with db_session(write=True) as session:
        p = add_person(session, spec=spec)
        echo(f"Added {p.handle} ({', '.join(p.roles)}).")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """List people and their roles."""
    from rich.table import Table

    from forecasts.domain.people import list_people

    with db_session() as session:
        rows = list_people(session)
    if as_json:
        print_json(rows)
        return
    t = Table()
    for col in ("handle", "name", "email", "roles", "digest"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["handle"],
            r["name"] or "",
            r["email"] or "",
            ", ".join(r["roles"]),
            "yes" if r["digest"] else "no",
        )
    console().print(t)
