"""Do less per rerun: how many SQL statements one rerun of each page sends, with a ceiling.

A page rerun (a click, a filter change) used to re-read the signed-in user from the database for
every translated string and the scores of each session one query at a time. Counted with a
SQLAlchemy ``before_cursor_execute`` listener on the app's own engine, on the second run of the
page (the first one fills the caches). Marked ``database``: `make test` runs it on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from simulator.demo import seed_demo
from tests.app.page_support import open_page

pytestmark = pytest.mark.database

#: Statements per rerun, at most (the counts are printed with -s). Measured with this test on the
#: code before issue 14: My progress 69, the dashboard 104, review 75 (one user read per t() call,
#: one score query per session); after: 3, 6 and 6. The dashboard's agreement tab (calibration)
#: adds 7 reads of its own, each once: the two version stamps of grades and corrections, the
#: three tables of calibration sets, and the grader's own sets and submissions (blind grading).
#: The studio is not counted here.
CEILINGS = {"views/progress.py": 4, "views/dashboard.py": 14, "views/review.py": 8}


@contextmanager
def counting(db_url: str) -> Iterator[list[str]]:
    from ui import context

    engine = context._repository(db_url).engine
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, ctx, executemany) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):  # SQLite's own BEGINs
            seen.append(statement[:160].replace("\n", " "))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def seeded(repo, make_user, service):
    seed_demo(repo, 6, 5, transcripts=False)
    ana = make_user("ana", "trainee")
    sessions = []
    for seed in range(6):
        record = service.start("water-bill-surge", "en", user_id=ana.id, seed=seed)
        service.say(record.id, "I'm so sorry about the bill. Could you tell me your customer number?")
        service.end(record.id)
        sessions.append(record.id)
    return {"ana": ana, "hr": make_user("helen", "hr"), "sessions": sessions}


@pytest.mark.parametrize("page", list(CEILINGS))
def test_one_rerun_sends_few_statements(app, app_env, seeded, page, capsys):
    user = seeded["hr"] if page == "views/dashboard.py" else seeded["ana"]
    params = {"session": seeded["sessions"][-1]} if page == "views/review.py" else {}
    at = open_page(app(user), page, **params)
    assert not at.exception, at.exception
    with counting(app_env) as seen:
        at.run()  # a rerun of the same page, as after a click
    assert not at.exception, at.exception
    with capsys.disabled():
        print(f"\n{page}: {len(seen)} statements per rerun")
    assert len(seen) <= CEILINGS[page], "\n".join(seen)
