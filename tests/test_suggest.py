"""Unknown ids, handles and statuses: the error names the closest known one."""

from __future__ import annotations

import pytest

from forecasts.suggest import closest


def test_closest_finds_a_typo_a_missing_part_and_nothing_unlike():
    ids = ["engines-new-contract-2028", "china-russia-trade-2027", "joint-air-patrols-count-2027"]
    assert closest("engines-new-contrat-2028", ids) == "engines-new-contract-2028"
    assert closest("engines-new-contract", ids) == "engines-new-contract-2028"
    assert closest("china-russia-trade-2028", ids) == "china-russia-trade-2027"
    assert closest("weather-tomorrow", ids) is None
    assert closest("anything", []) is None


@pytest.fixture
def two_questions(cli):
    for qid in ("engines-new-contract-2028", "china-russia-trade-2027"):
        r = cli("add", "--id", qid, "--title", "Q?", "--criteria", "c",
                "--opens", "2020-01-01", "--closes", "2040-01-01", "--resolve-by", "2040-02-01")  # fmt: skip
        assert r.exit_code == 0, r.output
    assert cli("people", "add", "alice").exit_code == 0
    return cli


@pytest.mark.parametrize(
    "args",
    [
        ("show", "engines-new-contrat-2028"),
        ("predict", "engines-new-contrat-2028", "0.5", "--by", "alice"),
        ("news", "list", "engines-new-contrat-2028"),
    ],
)
def test_an_unknown_question_id_suggests_the_closest(two_questions, args):
    r = two_questions(*args)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: no question with id 'engines-new-contrat-2028'; did you mean "
        "engines-new-contract-2028? (`forecasts list` shows them all)\n"
    )


def test_an_unknown_id_like_no_other_points_to_the_list(two_questions):
    r = two_questions("show", "weather-tomorrow")
    assert r.stderr == "Error: no question with id 'weather-tomorrow'; see `forecasts list`\n"


def test_an_unknown_handle_suggests_the_closest_and_how_to_add_it(two_questions):
    r = two_questions("predict", "engines-new-contract-2028", "0.5", "--by", "alcie")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: no person with handle 'alcie'; did you mean alice? "
        "(or add them with `forecasts people add alcie`)\n",
    )


def test_an_unknown_status_suggests_the_closest(two_questions):
    r = two_questions("list", "--status", "opne")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: --status: 'opne' is not a status; did you mean open? ")


def test_a_percentage_without_its_sign_says_how_to_write_it(two_questions):
    r = two_questions("predict", "engines-new-contract-2028", "70", "--by", "alice")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: probability 70 is out of range; probabilities must lie in [0.001, 0.999] "
        "(for 70 percent, write 70%)\n",
    )


def test_a_database_server_that_does_not_answer_says_what_to_check():
    from conftest import make_cli
    from mailhelp import free_port

    r = make_cli(f"postgresql://someone:pw@127.0.0.1:{free_port()}/db")("list")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: database error (postgresql+psycopg://someone:***@127.0.0.1:")
    assert r.stderr.endswith(
        "; is the server running and the URL right? "
        "(`forecasts config` shows the URL and where it came from)\n"
    )
    assert ":pw@" not in r.stderr
