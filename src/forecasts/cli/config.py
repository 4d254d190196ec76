"""`forecasts config`: the configuration in force and where each value came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from forecasts.cli._common import (
    console,
    echo,
    flag,
    get_settings,
    print_json,
    tsv_option,
    wide_option,
)

if TYPE_CHECKING:
    from forecasts.config import ConfigEntry, Origin


def config(
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Show the configuration in force and where each value came from.

    Every setting, its value and its source: the default, the config file, an environment
    variable or an option. Secrets are masked; the SMTP password is never shown, only
    whether its variable is set."""
    from forecasts.config import effective_config
    from forecasts.tables import Cell, CellValue, Column, print_wrapped, render

    settings = get_settings()
    entries = effective_config(settings)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    out = console()
    if not tsv:  # the file in force heads the table (and is not a row of it)
        print_wrapped(out, _file_line(settings.config_file, settings.origin("config_file")))
        echo()
        entries = [e for e in entries if e.key != "config_file"]
    columns = [
        Column("key"),
        Column("value", elastic=True, min_width=20),
        Column("source", header="from", priority=1),
    ]
    rows: list[list[CellValue]] = [
        [e.key, Cell(_short(e), _text(e)), source_label(e.origin)] for e in entries
    ]
    render(out, columns, rows, wide=wide, tsv=tsv)


def _file_line(path: Any, origin: Origin) -> str:
    if path is None:
        return (
            "No config file (./forecasts.toml, --config or FORECASTS_CONFIG): built-in "
            "defaults, environment variables and options. See docs/configuration.md."
        )
    how = {
        "option": f"given with {flag('config')}",
        "environment": "named by FORECASTS_CONFIG",
    }.get(origin.source, "found in the working folder")
    return f"Config file: {path} ({how})."


def source_label(origin: Origin) -> str:
    """'default', 'file', 'env FORECASTS_DATABASE_URL', 'option --db'."""
    if origin.source == "environment":
        return f"env {origin.where}"
    if origin.source == "option" and origin.where:
        return f"option {flag(origin.where)}"
    return origin.source


def _text(e: ConfigEntry) -> str:
    text = _value(e.value)
    return f"{text} ({e.note})" if e.note else text


def _short(e: ConfigEntry) -> str:
    """Lists of tables (news feeds) by their names; the rest as ``_text``."""
    v = e.value
    if isinstance(v, list) and v and all(isinstance(x, dict) and "name" in x for x in v):
        return f"{len(v)}: " + ", ".join(str(x["name"]) for x in v)
    return _text(e)


def _value(v: Any) -> str:
    import json

    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v if v else '""'
    if isinstance(v, list) and not v:
        return "(none)"
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return ", ".join(v)
    return json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else str(v)
