"""Failures: the app killed mid-conversation, and a database that briefly cannot be reached.

Marked ``database``: `make test` runs these on SQLite and again on PostgreSQL. How the database
is made unavailable, deterministically, on each:

* PostgreSQL: the service talks to the server through a small TCP relay on 127.0.0.1 that the
  test unplugs (closing every relayed connection and refusing new ones) and plugs back in.
* SQLite: another connection holds the file's write lock (``BEGIN EXCLUSIVE``), for less or
  more than the busy timeout.

The outage starts while the customer is answering — after the turn was read and analysed,
before it is stored — so it is the write that fails and is retried.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import simulator.store.db as store_db
import simulator.store.repository as store_repository
from bench.load import plays_from_events, read_events, spawn_worker, verify
from simulator.customers.scripted import ScriptedCustomer
from simulator.scenario import ScenarioLibrary
from simulator.session import SavingFailed, SessionService
from simulator.store import Repository, make_engine, migrate, open_repository

pytestmark = pytest.mark.database

SCENARIO = ("water-bill-surge", "en")
FIRST = "I'm sorry about the bill, that must have been a shock. What is your customer number?"
SECOND = "I will send a technician to re-read the meter on Thursday between 9 and 12."


# --------------------------------------------------------------------------- helpers


class Relay:
    """A TCP relay 127.0.0.1:port -> upstream that can be unplugged and plugged in again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.plug()

    def plug(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        """Refuse new connections and cut every open one, as a server that went away."""
        with self._lock:
            listener, self._listener = self._listener, None
            links, self._links = self._links, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone may not)
            except OSError:
                pass
            listener.close()
        for link in links:
            try:
                link.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            link.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._links += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Outage:
    """Makes the test's database unavailable (``begin``) and available again (``end``)."""

    def __init__(self, url: str, begin: Callable[[], None], end: Callable[[], None]):
        self.url, self.begin, self.end = url, begin, end


@contextmanager
def outage_for(db_url: str) -> Iterator[Outage]:
    """A database URL for the service, and how to cut it off: a relay for PostgreSQL, a second
    connection holding the write lock for SQLite. The schema is migrated first."""
    url = make_url(db_url)
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, timeout=5, isolation_level=None, check_same_thread=False)
        locked = threading.Event()

        def begin() -> None:
            holder.execute("BEGIN EXCLUSIVE")
            locked.set()

        def end() -> None:
            if locked.is_set():
                locked.clear()
                holder.execute("ROLLBACK")

        try:
            yield Outage(db_url, begin, end)
        finally:
            end()
            holder.close()
        return
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield Outage(url.set(port=relay.port).render_as_string(hide_password=False), relay.unplug, relay.plug)
    finally:
        relay.unplug()


class OutageWhileReplying(ScriptedCustomer):
    """The scripted customer; while it "thinks" about its next answer, ``hook`` runs once."""

    def __init__(self) -> None:
        self.hook: Callable[[], None] | None = None

    def reply(self, ctx):
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return super().reply(ctx)


def started(repo: Repository, engine=None, delays=(0.25, 0.5, 1.0, 2.0)) -> tuple[SessionService, str]:
    service = SessionService(repo, ScenarioLibrary(), engine=engine)
    service.save_retry_delays = delays
    return service, service.start(*SCENARIO, seed=3).id


def exchange_texts(repo: Repository, session_id: str) -> list[tuple[int, str, str]]:
    return [(t.idx, t.speaker, t.text) for t in repo.get_turns(session_id)]


# --------------------------------------------------------------------------- the app killed


def test_killing_the_app_mid_conversation_loses_nothing_acknowledged(db_url):
    """An app process (SIGKILL, no chance to clean up) is killed while its trainees are talking.
    Every turn it had acknowledged (``say`` returned, then it printed the ack) is in the database,
    whole exchanges only, in order; the database opens cleanly and a killed session goes on."""
    worker = spawn_worker(db_url, 0, 4, turns=8, time_limit=120)
    events = []
    try:
        for event in read_events(worker.stdout):
            events.append(event)
            if sum(e["event"] == "ack" for e in events) >= 5:
                os.kill(worker.pid, signal.SIGKILL)
                break
        events += list(read_events(worker.stdout))  # acks already in the pipe were acknowledged too
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        worker.stdout.close()
        errors = worker.stderr.read()
        worker.stderr.close()
    assert worker.returncode == -signal.SIGKILL, f"the worker ended by itself ({worker.returncode}): {errors[-3000:]}"
    assert not any(e["event"] == "done" for e in events)
    plays = plays_from_events(events)
    acked = sum(len(p.sent) for p in plays)
    assert acked >= 5

    repo = open_repository(db_url)
    try:
        if repo.engine.dialect.name == "sqlite":
            with repo.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert verify(repo, plays, complete=False, exclusive=False) == []
        for record in repo.list_sessions():  # acknowledged or not: whole exchanges, in order
            turns = repo.get_turns(record.id)
            assert [t.idx for t in turns] == list(range(len(turns)))
            assert [t.speaker for t in turns] == [("customer", "trainee")[i % 2] for i in range(len(turns))]
            assert len(turns) % 2 == 1 or not turns  # (no turn yet: killed between the two writes of start)
        # A session cut off mid-conversation resumes where it stopped (the id is in the page's URL).
        cut = next((p for p in plays if p.session_id and not p.ended), None)
        if cut is not None and repo.get_session(cut.session_id).status == "active":
            before = repo.get_turns(cut.session_id)
            SessionService(repo, ScenarioLibrary()).say(cut.session_id, FIRST)
            after = repo.get_turns(cut.session_id)
            assert [t.idx for t in after] == list(range(len(before) + 2))
            assert after[len(before)].text == FIRST
    finally:
        repo.close()


# --------------------------------------------------------------------------- the database away


def test_a_brief_outage_while_saving_is_retried_and_the_turn_stored_once(db_url, caplog):
    with outage_for(db_url) as outage:
        repo = open_repository(outage.url)
        customer = OutageWhileReplying()
        service, sid = started(repo, customer)
        service.say(sid, FIRST)

        def brief() -> None:
            outage.begin()
            threading.Timer(0.6, outage.end).start()

        customer.hook = brief
        with caplog.at_level(logging.WARNING, logger="simulator.session"):
            result = service.say(sid, SECOND)
        turns = exchange_texts(repo, sid)
        assert [idx for idx, _, _ in turns] == list(range(5))
        assert turns[3:] == [(3, "trainee", SECOND), (4, "customer", result.customer)]
        assert sum(text == SECOND for _, _, text in turns) == 1
        if repo.engine.dialect.name != "sqlite":  # SQLite simply waits for the lock (busy timeout)
            assert "saving failed, retrying" in caplog.text
        repo.close()


def test_a_longer_outage_gives_a_clear_error_keeps_the_text_and_stores_nothing(db_url, monkeypatch):
    # SQLite: give up on the lock after 0.2 s instead of 30 s (twice), so the test is quick.
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(store_repository, "_APPEND_ATTEMPTS", 2)
    with outage_for(db_url) as outage:
        repo = open_repository(outage.url)
        customer = OutageWhileReplying()
        service, sid = started(repo, customer, delays=(0.05, 0.1, 0.2))
        service.say(sid, FIRST)
        before = exchange_texts(repo, sid)

        customer.hook = outage.begin
        typed = f"  {SECOND}  "
        with pytest.raises(SavingFailed) as caught:
            service.say(sid, typed)
        error = caught.value
        assert error.text.strip() == typed.strip()  # for the page to put back in the input
        assert not error.stored
        assert "Could not save your reply" in str(error) and "not lost" in str(error)
        assert isinstance(error.__cause__, OperationalError)

        outage.end()
        assert exchange_texts(repo, sid) == before  # nothing half-stored
        again = service.say(sid, error.text)  # the trainee presses send again
        turns = exchange_texts(repo, sid)
        assert turns == [*before, (3, "trainee", SECOND), (4, "customer", again.customer)]
        repo.close()


def test_unreachable_before_the_turn_is_read_is_a_saving_failed_too(db_url):
    with outage_for(db_url) as outage:
        repo = open_repository(outage.url)
        if repo.engine.dialect.name == "sqlite":
            repo.close()
            pytest.skip("SQLite readers are not blocked by a writer (WAL)")
        service, sid = started(repo, delays=(0.05, 0.1))
        outage.begin()
        try:
            with pytest.raises(SavingFailed) as caught:
                service.say(sid, FIRST)
            assert caught.value.text == FIRST
        finally:
            outage.end()
        assert [t.speaker for t in repo.get_turns(sid)] == ["customer"]
        service.say(sid, FIRST)
        assert [t.text for t in repo.get_turns(sid)][1] == FIRST
        repo.close()


def test_a_commit_whose_acknowledgement_was_lost_is_not_stored_twice(repo):
    """The connection drops right after the server committed: the retry finds the exchange stored
    and does not write it again."""

    class AckLost(Repository):
        dropped = False

        def append_turns(self, session_id, turns, state=None):
            records = super().append_turns(session_id, turns, state)
            if not AckLost.dropped and turns[0]["speaker"] == "trainee":
                AckLost.dropped = True
                raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))
            return records

    flaky = AckLost(repo.engine)
    service, sid = started(flaky, delays=(0.01,))
    result = service.say(sid, FIRST)
    assert AckLost.dropped
    assert exchange_texts(flaky, sid) == [
        (0, "customer", exchange_texts(flaky, sid)[0][2]),
        (1, "trainee", FIRST),
        (2, "customer", result.customer),
    ]


def test_the_streaming_path_gives_the_same_clear_error(db_url, monkeypatch):
    """``say_stream`` (the practice page with a model customer) stores the exchange when the
    chunks run out; a database that stays away then surfaces as SavingFailed, not a traceback."""
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(store_repository, "_APPEND_ATTEMPTS", 2)
    with outage_for(db_url) as outage:
        repo = open_repository(outage.url)
        customer = OutageWhileReplying()
        service, sid = started(repo, customer, delays=(0.05, 0.1))
        customer.hook = outage.begin
        stream = service.say_stream(sid, FIRST)
        with pytest.raises(SavingFailed) as caught:
            list(stream)
        assert caught.value.text == FIRST
        outage.end()
        assert [t.speaker for t in repo.get_turns(sid)] == ["customer"]
        chunks = list(service.say_stream(sid, FIRST))
        assert [t.text for t in repo.get_turns(sid)] == [repo.get_turns(sid)[0].text, FIRST, "".join(chunks)]
        repo.close()
