"""`forecasts people ...`: forecasters and reviewers."""

from __future__ import annotations

import typer

from forecasts.cli._common import (
    console,
    db_session,
    echo,
    print_json,
    tsv_option,
    wide_option,
)

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
    from forecasts.domain.people import add_person
    from forecasts.domain.schemas import PersonSpec, validated

    roles = ["forecaster", "reviewer"] if reviewer else ["forecaster"]
    spec = validated(
        PersonSpec,
        {"handle": handle, "name": name, "email": email, "roles": roles, "digest": not no_digest},
    )
    with db_session(write=True) as session:
        p = add_person(session, spec=spec)
        echo(f"Added {p.handle} ({', '.join(p.roles)}).")


@app.command("set")
def set_(
    handle: str = typer.Argument(..., help="Who to change."),
    name: str | None = typer.Option(None, "--name", help="Full name ('' clears it)."),
    email: str | None = typer.Option(
        None, "--email", help="Email address for prompts and the digest ('' clears it)."
    ),
    reviewer: bool | None = typer.Option(
        None, "--reviewer/--no-reviewer", help="May resolve questions (and is prompted to)."
    ),
    digest: bool | None = typer.Option(
        None, "--digest/--no-digest", help="Receives the weekly digest."
    ),
) -> None:
    """Change a person: name, email, the reviewer role, the weekly digest."""
    from forecasts.domain.people import update_person

    with db_session(write=True) as session:
        changed = update_person(
            session, handle=handle, name=name, email=email, reviewer=reviewer, digest=digest
        )
    echo(f"Updated {handle}: {', '.join(changed)}." if changed else f"No change to {handle}.")


@app.command("list")
def list_(
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """List people and their roles."""
    from forecasts.domain.people import list_people
    from forecasts.tables import Column, render

    with db_session() as session:
        rows = list_people(session)
    if as_json:
        print_json(rows)
        return
    columns = [
        Column("handle"),
        Column("roles", priority=1),
        Column("digest", priority=3),
        Column("email", elastic=True, min_width=12, priority=2),
        Column("name", elastic=True, min_width=12),
    ]
    render(
        console(),
        columns,
        [
            [
                r["handle"],
                ", ".join(r["roles"]),
                "yes" if r["digest"] else "no",
                r["email"] or "",
                r["name"] or "",
            ]
            for r in rows
        ],
        wide=wide,
        tsv=tsv,
    )
