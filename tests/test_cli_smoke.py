"""The shortest path through the core: add, forecast, resolve, read back."""

from freezegun import freeze_time


@freeze_time("2027-01-10 12:00:00")
def test_add_predict_resolve_show(cli):
    assert cli("people", "add", "alice").exit_code == 0
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    r = cli(
        "add", "--id", "engines-2027", "--title", "Will China buy engines?",
        "--opens", "2027-01-01", "--closes", "2027-06-30", "--resolve-by", "2027-09-30",
        "--criteria", "Yes if a contract is reported.",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        "Added engines-2027: Will China buy engines? (opens 2027-01-01, closes 2027-06-30).\n"
    )
    r = cli("predict", "engines-2027", "70%", "--by", "alice")
    assert (r.exit_code, r.stdout) == (0, "Recorded alice's forecast on engines-2027: 70%.\n")
    r = cli("resolve", "engines-2027", "yes", "--by", "rev")
    assert (r.exit_code, r.stdout) == (0, "Resolved engines-2027: yes (on 2027-01-10, by rev).\n")
    r = cli("predict", "engines-2027", "0.2", "--by", "alice")
    assert r.exit_code == 2
    assert r.stderr == "Error: question 'engines-2027' is resolved; forecasts are closed\n"
