"""Progress on work that can take more than a second: on stderr, and only at a terminal."""

from __future__ import annotations

import json
from pathlib import Path

from forecasts.domain.transfer import export_data, import_data
from termhelp import as_pipe, as_terminal


def test_import_reports_progress_by_chunks_of_rows(cli, db_url, monkeypatch) -> None:
    import forecasts.domain.transfer as transfer
    from forecasts.store import db

    assert cli("people", "add", "ann").exit_code == 0
    for n in range(5):
        r = cli("add", "--id", f"q{n}", "--title", "Q?", "--criteria", "c",
                "--opens", "2020-01-01", "--closes", "2040-01-01", "--resolve-by", "2040-02-01")  # fmt: skip
        assert r.exit_code == 0
    engine = db.get_engine(db_url)
    with db.session_scope(engine) as session:
        data = export_data(session)
    monkeypatch.setattr(transfer, "IMPORT_CHUNK", 2)
    calls: list[tuple[int, int, str]] = []
    with db.session_scope(engine, write=True) as session:
        for table in reversed(db.load_models().sorted_tables):
            session.execute(table.delete())
        counts = import_data(session, data=data, progress=lambda *a: calls.append(a))
    total = sum(len(rows) for rows in data["tables"].values())
    assert sum(counts.values()) == total
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)  # only ever forward
    assert calls[-1][:2] == (total, total)
    assert all(c[1] == total for c in calls)
    assert "question" in {c[2] for c in calls}
    assert len(calls) > len([n for n in counts.values() if n])  # more than one per table


def test_progress_only_at_a_terminal(cli, tmp_path: Path, monkeypatch) -> None:
    assert cli("people", "add", "ann").exit_code == 0
    export = tmp_path / "export.json"
    assert cli("export", "--out", str(export)).exit_code == 0
    as_pipe(monkeypatch)
    r = cli("report")
    assert (r.exit_code, r.stderr) == (0, "")
    as_terminal(monkeypatch, 100)
    r = cli("report")
    assert r.exit_code == 0
    assert "Scoring" in r.stderr  # the spinner, on stderr
    assert "Scoring" not in r.stdout
    assert json.loads(export.read_text())["format"]
