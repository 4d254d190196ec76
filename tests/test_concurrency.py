"""Several processes writing at once lose nothing: on SQLite this proves WAL, the busy
timeout and BEGIN IMMEDIATE writers; on PostgreSQL, plain transactions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

WRITERS = 4
PER_WRITER = 500

WRITER = textwrap.dedent(
    """
    import sys
    from forecasts import db
    from forecasts.forecasting import record_forecast

    url, handle, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    engine = db.get_engine(url)
    for i in range(n):
        with db.session_scope(engine, write=True) as session:
            record_forecast(session, question_id="concurrency", person=handle,
                            value=f"{0.01 + (i % 98) / 100:.2f}")
    print("ok", handle)
    """
)


@pytest.mark.slow
def test_four_processes_record_2000_forecasts(db_url, cli):
    assert cli("people", "add", "w0").exit_code == 0
    for i in range(1, WRITERS):
        assert cli("people", "add", f"w{i}").exit_code == 0
    r = cli(
        "add", "--id", "concurrency", "--title", "Does the database keep up?",
        "--opens", "2020-01-01", "--closes", "2099-12-31", "--resolve-by", "2099-12-31",
        "--criteria", "Yes if every forecast is stored.",
    )  # fmt: skip
    assert r.exit_code == 0, r.output

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, f"w{i}", str(PER_WRITER)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert err == "", err[-2000:]
        assert out.startswith("ok")

    import sqlalchemy as sa

    from forecasts import db
    from forecasts.models import Forecast

    with db.session_scope(db.get_engine(db_url)) as session:
        counts = dict(
            session.execute(
                sa.select(Forecast.person, sa.func.count()).group_by(Forecast.person)
            ).all()
        )
    assert counts == {f"w{i}": PER_WRITER for i in range(WRITERS)}
