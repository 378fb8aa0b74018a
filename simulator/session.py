"""The practice service: start a conversation, take trainee turns, end and score, branch ("what if").

One analysis per trainee turn drives both the customer's mood and the scorecard. Every turn is
written to the store as it happens, so a conversation survives a refresh or a crash.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from simulator.analysis import analyze
from simulator.analysis_types import TurnAnalysis
from simulator import dialogue
from simulator.customers.base import CustomerContext, CustomerEngine, Line, Reply
from simulator.customers.scripted import ScriptedCustomer
from simulator.dialogue import DialogueState
from simulator.mood import MoodState, Outcome, initial_state, update
from simulator.rubric import Rubric, load_rubric
from simulator.scenario import Scenario, ScenarioLibrary, Situation
from simulator.scoring import CapInfo, DimensionScore, NeedResult, Quote, Scorecard, TraineeTurn, overall, score
from simulator.store.repository import Repository, ScoreRow, SessionRecord, TurnRecord
from simulator.turn_flags import flags as turn_flags

if TYPE_CHECKING:
    from simulator.config import Settings
    from simulator.judge import LLMJudge

MAX_TURN_CHARS = 1000
#: The notice on a customer turn the scripted engine answered because the user reached their
#: hourly limit of model calls (``TENANG_LLM_CALLS_PER_HOUR``), in the session's language.
LIMIT_NOTICE = {
    "en": "You have reached this hour's limit of AI customer replies, so this reply comes from the offline script.",
    "id": "Batas balasan pelanggan AI untuk jam ini sudah tercapai, jadi balasan ini berasal dari naskah offline.",
}
ABANDONED = "abandoned"  # the trainee ended the session before the customer did


class InputError(ValueError):
    """A trainee turn or request that is refused; nothing was stored. ``code`` and ``params`` let
    an interface say it in its own language; ``str()`` is the English message."""

    def __init__(self, message: str, code: str = "other", **params: object):
        self.code = code
        self.params = params
        super().__init__(message)


class SessionNotFound(LookupError):
    pass


log = logging.getLogger(__name__)

#: Seconds to wait before each new attempt when the database cannot be reached during a trainee
#: turn (about 4 s in all); then :class:`SavingFailed`.
SAVE_RETRY_DELAYS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)


class SavingFailed(InputError):
    """The database could not be reached for a trainee turn, even after retrying with backoff.

    ``text`` is what the trainee typed: put it back in the input so they can send it again.
    ``stored`` is False when nothing of the turn was stored (the usual case) and True when the
    exchange was stored but the end of the conversation (the scorecard) was not; End retries it.
    A subclass of InputError so that a page that shows InputError messages shows this one too
    instead of a traceback.
    """

    def __init__(self, text: str, *, stored: bool = False):
        self.text = text
        self.stored = stored
        super().__init__(
            "Your reply was saved, but the end of the conversation could not be; press End in a moment to see your score."
            if stored
            else "Could not save your reply: the database did not answer, even after retrying. "
            "Your reply was not lost; send it again in a moment.",
            "saving_failed_stored" if stored else "saving_failed",
        )


def _transient(error: DBAPIError) -> bool:
    """A database error worth retrying: the server or file could not be reached, or the connection
    dropped. Lock timeouts are not retried here: the repository has already waited for those."""
    if isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated:
        message = str(error.orig).lower()
        return "locked" not in message and "busy" not in message
    return False


@dataclass(frozen=True)
class TurnResult:
    session_id: str
    analysis: TurnAnalysis
    customer: str
    mood: MoodState
    ended: bool
    outcome: str | None
    scorecard: Scorecard | None
    notice: str | None = None
    meta: dict | None = None  # the customer engine's call metadata (model, tokens, latency, flags)


def validate_turn_text(text: str) -> str:
    """The trainee's text, stripped; refuses empty and overlong turns with a clear message."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError("The message is empty; type a reply first.", "empty")
    if len(cleaned) > MAX_TURN_CHARS:
        raise InputError(
            f"The message is {len(cleaned)} characters long; the limit is {MAX_TURN_CHARS}.",
            "too_long",
            length=len(cleaned),
            limit=MAX_TURN_CHARS,
        )
    return cleaned


#: The throwaway turn :func:`warm_up` plays per language.
WARM_UP_TURNS = {
    "en": ("water-bill-surge", "I'm sorry about this. Since when has the bill been this high?"),
    "id": ("water-bill-surge", "Mohon maaf ya Bu. Sejak kapan tagihannya naik?"),
}


def warm_up() -> None:
    """Load what a language's first turn needs (the encoder, the learned heads, the lexicons'
    compiled patterns, the line banks) by playing one throwaway turn per language on an
    in-memory database, so the first trainee after a server start does not wait about a
    second for it."""
    from simulator.store.db import open_repository

    service = SessionService(open_repository("sqlite://"))
    for lang, (scenario_id, text) in WARM_UP_TURNS.items():
        service.say(service.start(scenario_id, lang, seed=0).id, text)


class SessionService:
    def __init__(
        self,
        repo: Repository,
        library: ScenarioLibrary | None = None,
        rubric: Rubric | None = None,
        engine: CustomerEngine | str | None = None,
        judge: LLMJudge | str | None = None,
        settings: Settings | None = None,
        llm_calls_per_hour: int | None = None,
    ):
        """``engine``: an engine, or its name ("scripted", "llm"); ``judge``: None/"rules" for
        rule-based scoring only, "llm" (or an ``LLMJudge``) to add the LLM judge. The LLM
        ones are built from ``settings`` (default: ``load_settings()``) and raise
        ``simulator.llm.LLMNotConfigured`` when no model is configured.
        ``llm_calls_per_hour``: model calls one user may cause per rolling hour before the
        scripted customer answers instead (default: ``TENANG_LLM_CALLS_PER_HOUR``, 200; 0: none)."""
        self.repo = repo
        self.library = library or ScenarioLibrary()
        self.rubric = rubric or load_rubric()
        self.engine = engine_by_name(engine, settings) if isinstance(engine, str) else engine or ScriptedCustomer()
        self.judge = judge_by_name(judge, settings) if isinstance(judge, str) else judge
        self.save_retry_delays = SAVE_RETRY_DELAYS
        self.llm_calls_per_hour = llm_calls_per_hour
        self.matcher: dialogue.Matcher = dialogue.default_matcher()

    # -- reading -------------------------------------------------------------------------------
    def session(self, session_id: str) -> SessionRecord:
        record = self.repo.get_session(session_id)
        if record is None:
            raise SessionNotFound(f"no session '{session_id}'")
        return record

    def scenario_for(self, record: SessionRecord) -> Scenario:
        """The scenario a session plays: the exact authored version it recorded, if any."""
        if record.scenario_version is not None and hasattr(self.library, "get_version"):
            return self.library.get_version(record.scenario_id, record.lang, record.scenario_version)
        return self.library.get(record.scenario_id, record.lang)

    def transcript(self, session_id: str) -> list[TurnRecord]:
        return self.repo.get_turns(session_id)

    def mood(self, record: SessionRecord) -> MoodState:
        return MoodState.model_validate(record.state["mood"])

    def dialogue(self, record: SessionRecord, scenario: Scenario | None = None) -> DialogueState:
        """The session's dialogue state (needs met, facts told, patience, the last reply type).
        A session stored before dialogue states existed starts one from its mood."""
        data = record.state.get("dialogue") or (record.state.get("mood") or {}).get("dialogue")
        if data:
            return DialogueState.model_validate(data)
        scenario = scenario or self.scenario_for(record)
        state = dialogue.initial_state(scenario)
        mood = self.mood(record)
        state.turn, state.told = mood.turn, list(mood.revealed)
        return state

    # -- the conversation ----------------------------------------------------------------------
    def start(
        self,
        scenario_id: str,
        lang: str,
        *,
        user_id: int | None = None,
        seed: int | None = None,
        version: int | None = None,
    ) -> SessionRecord:
        """Open a session; the customer's opening line is stored as turn 0.

        ``version``: play that saved version of an authored scenario (a studio test drive of a
        draft); by default an authored scenario plays its published version. The session
        records the version it plays (None for a built-in file)."""
        if version is not None:
            scenario = self.library.get_version(scenario_id, lang, version)
        else:
            scenario = self.library.get(scenario_id, lang)
            version_of = getattr(self.library, "version_of", None)
            version = version_of(scenario_id, lang) if version_of else None
        seed = secrets.randbelow(2**31) if seed is None else seed
        talk = dialogue.initial_state(scenario).model_dump(mode="json")
        mood = {**initial_state(scenario).model_dump(mode="json"), "dialogue": talk}
        opening = {"speaker": "customer", "text": self.engine.opening(scenario, seed), "mood": mood}
        record = self.repo.create_session(
            scenario_id=scenario.id,
            lang=scenario.lang,
            user_id=user_id,
            seed=seed,
            engine=self.engine.name,
            state={"mood": mood, "dialogue": talk},
            scenario_version=version,
            first_turns=[opening],
        )
        return self.session(record.id)

    def say(self, session_id: str, text: str) -> TurnResult:
        """One trainee turn: analyse, update the mood, let the customer answer, store both."""
        turn = self._retrying(text, lambda _retry: self._prepare(session_id, text))
        limited = self._limited_reply(turn)
        return self._commit(turn, limited or self.engine.reply(turn.ctx))

    # -- per-user limit on model calls -----------------------------------------------------------
    def calls_per_hour(self) -> int:
        """The per-user hourly limit on model calls (0: no limit)."""
        if self.llm_calls_per_hour is None:
            from simulator.config import ConfigError
            from simulator.llm import LLMOptions, load_llm_options

            try:
                self.llm_calls_per_hour = load_llm_options().calls_per_hour
            except ConfigError:
                self.llm_calls_per_hour = LLMOptions().calls_per_hour
        return self.llm_calls_per_hour

    def _limited_reply(self, turn: _Pending) -> Reply | None:
        """The scripted reply (with a notice) when the model engine is in use and the session's
        user has used up this hour's model calls; None when the model may answer."""
        if getattr(self.engine, "name", None) != "llm" or turn.user_id is None:
            return None
        limit = self.calls_per_hour()
        if limit <= 0:
            return None
        used = self.repo.model_calls_since(turn.user_id, datetime.now(UTC) - timedelta(hours=1))
        if used < limit:
            return None
        log.info("user %s reached %d model calls in the last hour; scripted reply", turn.user_id, limit)
        lang = turn.scenario.lang
        return Reply(
            ScriptedCustomer().reply(turn.ctx).text,
            LIMIT_NOTICE.get(lang, LIMIT_NOTICE["en"]),
            {"engine": "scripted", "rate_limited": True, "calls_last_hour": used, "limit": limit},
        )

    def say_stream(self, session_id: str, text: str) -> StreamingTurn:
        """:meth:`say` with the customer's reply as text chunks, e.g. for ``st.write_stream``.

        Bad input raises ``InputError`` here, before any chunk. The exchange is stored when the
        chunks run out (``.result`` is then the TurnResult) — or, should the reader stop early,
        when the stream is closed or dropped, with the scripted line: nothing typed is lost.
        """
        return StreamingTurn(self, self._retrying(text, lambda _retry: self._prepare(session_id, text)))

    def _prepare(self, session_id: str, text: str) -> _Pending:
        """Everything of a trainee turn up to the customer's reply (nothing stored yet)."""
        text = validate_turn_text(text)
        record = self.session(session_id)
        if record.status != "active":
            raise InputError("This session has ended; start a new one or use 'what if' in the review.", "ended")
        scenario = self.scenario_for(record)
        turns = self.repo.get_turns(session_id)
        before = self.mood(record)
        customer_last = next((t.text for t in reversed(turns) if t.speaker == "customer"), None)
        analysis = analyze(text, scenario.lang, customer_last=customer_last, scenario=scenario)
        talk = self.dialogue(record, scenario)
        asked = dialogue.asked_items(text, analysis, scenario, self.matcher, talk.told)
        felt = analysis
        if dialogue.closing_only(text, analysis):
            asked = dialogue.NOTHING_ASKED  # "anything else I can help with?" asks for no fact
        if turn_flags(text, analysis.tags, scenario.lang, scenario):
            # injection, nonsense or stuffing is no reply: it asks nothing and calms nobody (the
            # dialogue and the scorer void it too); "lol banana tuesday" gave no time
            asked, felt = dialogue.NOTHING_ASKED, analysis.model_copy(update={"tags": []})
        hidden = {f.id for f in scenario.hidden_facts}
        new_facts = [i for i in asked.ids if i in hidden and i not in before.revealed]
        repeated = bool(asked.ids) and all(i in talk.told for i in asked.ids)
        after = update(before, felt, scenario, new_facts, repeated)
        talk = dialogue.update(talk, text, analysis, scenario, after, self.matcher, asked=asked)
        # The dialogue state decides how the conversation ends and what the customer answers;
        # the mood model keeps the feelings (anger, trust, threat).
        after.outcome = Outcome(talk.outcome) if talk.outcome else None
        after.situation = talk.reply or Situation.calmer
        transcript = [Line(t.speaker, t.text) for t in turns] + [Line("trainee", text)]
        ctx = CustomerContext(scenario, after, transcript, new_facts, repeated, record.seed, talk)
        return _Pending(
            session_id, text, scenario, analysis, after, ctx, turns[-1].idx + 1 if turns else 0, record.user_id, talk
        )

    def _commit(self, turn: _Pending, reply: Reply) -> TurnResult:
        """Store the trainee turn and the customer's reply together; finish if the customer did."""
        session_id, after = turn.session_id, turn.mood
        talk = turn.dialogue.model_dump(mode="json") if turn.dialogue is not None else None
        mood = {**after.model_dump(mode="json"), "dialogue": talk}
        meta = dict(reply.meta) if reply.meta else None
        trainee_meta = None
        if meta and meta.get("injection_suspected"):  # shown to reviewers on the trainee's turn
            trainee_meta = {"injection_suspected": True, "injection_cues": meta.get("injection_cues", [])}
        exchange = [
            {"speaker": "trainee", "text": turn.text, "analysis": turn.analysis.model_dump(mode="json"), "mood": mood,
             "meta": trainee_meta},
            {"speaker": "customer", "text": reply.text, "mood": mood, "notice": reply.notice, "meta": meta},
        ]
        self._retrying(turn.text, lambda retry: self._store_exchange(turn, exchange, mood, talk, retry))
        card = None
        if after.outcome is not None:
            outcome = after.outcome.value
            card = self._retrying(
                turn.text, lambda _retry: self._finish(session_id, turn.scenario, after, outcome), stored=True
            )
        return TurnResult(
            session_id, turn.analysis, reply.text, after, card is not None, card and card.outcome, card, reply.notice, meta
        )

    def _store_exchange(self, turn: _Pending, exchange: list[dict], mood: dict, talk: dict | None, retry: bool) -> None:
        """Store a trainee turn and the reply; on a retry, first check whether the attempt before
        was committed after all (the connection may have dropped after the commit)."""
        if retry and turn.next_idx is not None:
            stored = self.repo.get_turns(turn.session_id)[turn.next_idx : turn.next_idx + 2]
            if [(t.speaker, t.text) for t in stored] == [(e["speaker"], e["text"]) for e in exchange]:
                return
        self.repo.append_turns(turn.session_id, exchange, state={"mood": mood, "dialogue": talk})

    def _retrying(self, text: str, action: Callable[[bool], Any], *, stored: bool = False) -> Any:
        """``action(retry)``, again after each of ``save_retry_delays`` while the database cannot
        be reached; then :class:`SavingFailed` carrying the trainee's ``text``."""
        delays = tuple(self.save_retry_delays)
        for attempt in range(len(delays) + 1):
            try:
                return action(attempt > 0)
            except DBAPIError as error:
                if not _transient(error):
                    if isinstance(error, OperationalError):  # e.g. SQLite still locked after its timeout
                        raise SavingFailed(text, stored=stored) from error
                    raise
                reason = f"{type(error.orig).__name__}: {(str(error.orig).strip().splitlines() or [''])[0]}"
                if attempt == len(delays):
                    log.error("saving failed after %d attempts (%s)", attempt + 1, reason)
                    raise SavingFailed(text, stored=stored) from error
                log.warning("saving failed, retrying in %.2f s (%s)", delays[attempt], reason)
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def branch(self, session_id: str, turn_idx: int, text: str) -> TurnResult:
        """What if: a new session that shares the turns before trainee turn ``turn_idx`` and
        continues from there with ``text`` instead. The original is left untouched."""
        text = validate_turn_text(text)
        record = self.session(session_id)
        turns = self.repo.get_turns(session_id)
        if not (0 < turn_idx < len(turns)) or turns[turn_idx].speaker != "trainee":
            raise InputError(f"turn {turn_idx} is not one of the trainee's turns in this session", "not_a_turn")
        state = turns[turn_idx - 1].mood
        branch = self.repo.create_session(
            scenario_id=record.scenario_id,
            lang=record.lang,
            user_id=record.user_id,
            seed=record.seed,
            engine=record.engine,
            state={"mood": state, "dialogue": (state or {}).get("dialogue")},
            scenario_version=record.scenario_version,
            parent_id=record.id,
            branch_turn=turn_idx,
        )
        self.repo.copy_turns(session_id, branch.id, upto_idx=turn_idx - 1)
        return self.say(branch.id, text)

    def end(self, session_id: str) -> Scorecard:
        """End the session now (the trainee pressed End) and score it; idempotent."""
        record = self.session(session_id)
        if record.status != "active":
            card = self.scorecard(session_id)
            if card is not None:
                return card
        state = self.mood(record)
        outcome = state.outcome.value if state.outcome else ABANDONED
        return self._finish(session_id, self.scenario_for(record), state, outcome)

    def _finish(self, session_id: str, scenario: Scenario, state: MoodState, outcome: str) -> Scorecard:
        trainee_turns = self.trainee_turns(session_id)
        card = score(trainee_turns, scenario, self.rubric, state, outcome,
                     needs=self._need_results(session_id, scenario, trainee_turns))
        extra: dict[str, Any] = {}
        if self.judge is not None:  # one judge call, at the end; failures fall back to the rules
            lines = [(t.idx, t.speaker, t.text) for t in self.repo.get_turns(session_id)]
            judged = self.judge.review(card, trainee_turns, scenario, self.rubric, lines)
            card = judged.scorecard
            extra["judge"] = {"source": card.source, "notice": card.notice, "meta": judged.meta}
        extra["scorecard"] = card.extras()
        new_state = {**self.session(session_id).state, **extra}
        self._store_card(session_id, card)
        self.repo.update_session(
            session_id, state=new_state, status="ended", outcome=outcome, overall=card.overall, ended_at=datetime.now(UTC)
        )
        return card

    def _need_results(self, session_id: str, scenario: Scenario, trainee_turns: list[TraineeTurn]) -> list[NeedResult] | None:
        """The dialogue engine's needs for scoring, with the transcript index of the turn that met
        each (the dialogue counts trainee turns from 1); None for a scenario without needs."""
        talk = self.dialogue(self.session(session_id), scenario)
        index = [t.index for t in trainee_turns]
        needs = [
            NeedResult(id=n.id, required=n.required, kind=n.kind,
                       met_turn=index[n.met_turn - 1] if n.met_turn and n.met_turn <= len(index) else None)
            for n in talk.needs
        ]
        return needs or None

    def _store_card(self, session_id: str, card: Scorecard) -> None:
        rows = [
            ScoreRow(
                dimension=d.key,
                score=d.score,
                applies=d.applies,
                evidence=[q.model_dump() for q in d.evidence],
                feedback=d.feedback,
                better=d.better,
                needs_review=d.needs_review,
                detail=d.detail,
            )
            for d in card.dimensions.values()
        ]
        self.repo.save_scores(session_id, rows)

    # -- scoring again -------------------------------------------------------------------------
    def rescored(self, session_id: str) -> Scorecard:
        """The session scored now, by the current rubric's rules (nothing stored): how a what-if
        branch and its original, or two old sessions, are compared under the same rules."""
        record = self.session(session_id)
        outcome = record.outcome or ABANDONED
        scenario = self.scenario_for(record)
        turns = self.trainee_turns(session_id)
        return score(turns, scenario, self.rubric, self.mood(record), outcome,
                     needs=self._need_results(session_id, scenario, turns))

    def comparable_scorecard(self, session_id: str) -> Scorecard | None:
        """The stored scorecard when it was scored under the current rubric version, else the
        session scored again now (not stored; ``rescore`` stores it). None while active."""
        card = self.scorecard(session_id)
        if card is None or card.rubric_version == self.rubric.version:
            return card
        return self.rescored(session_id)

    def rescore(self, session_id: str) -> tuple[Scorecard | None, Scorecard]:
        """Score an ended session again under the current rubric and store the new scores; the
        old figures (rubric version, overall, dimensions, any judge verdict) are kept in the
        session's ``score_history``. Returns (old, new). Rules only: the judge is not called again."""
        record = self.session(session_id)
        if record.status != "ended":
            raise InputError(f"session {session_id} has not ended", "not_ended")
        old = self.scorecard(session_id)
        card = self.rescored(session_id)
        state = dict(record.state)
        history = list(state.get("score_history") or [])
        if old is not None:
            history.append(
                {
                    "rubric_version": old.rubric_version,
                    "overall": record.overall if record.overall is not None else old.overall,
                    "dimensions": old.scores(),
                    "cap": old.cap.key if old.cap else None,
                    "source": old.source,
                    "judge": state.get("judge"),
                    "replaced_at": datetime.now(UTC).isoformat(),
                }
            )
        state.pop("judge", None)
        state["scorecard"] = card.extras()
        state["score_history"] = history
        self._store_card(session_id, card)
        self.repo.update_session(session_id, state=state, overall=card.overall)
        return old, card

    def trainee_turns(self, session_id: str) -> list[TraineeTurn]:
        """The trainee's analysed turns, each with the hidden facts it brought out (from the
        customer's state stored before and after it) and whether it was small talk or a filler
        (from the dialogue state stored with it)."""
        out = []
        revealed: list[str] = []
        small_talk = dialogue.small_talk_items()
        for t in self.repo.get_turns(session_id):
            after = list((t.mood or {}).get("revealed") or revealed)
            if t.speaker == "trainee" and t.analysis is not None:
                facts = tuple(f for f in after if f not in revealed)
                did = ((t.mood or {}).get("dialogue") or {}).get("did") or {}
                asked = [*did.get("asked", []), *did.get("asked_again", [])]
                out.append(TraineeTurn(t.idx, t.text, TurnAnalysis.model_validate(t.analysis), facts,
                                       small_talk=bool(asked) and all(i in small_talk for i in asked),
                                       filler=bool(did.get("one_word"))))
            revealed = after
        return out

    def scorecard(self, session_id: str) -> Scorecard | None:
        """The stored scorecard of an ended session, or None."""
        record = self.session(session_id)
        rows = self.repo.get_scores(session_id)
        if not rows:
            return None
        lang = record.lang
        extras = dict(record.state.get("scorecard") or {})
        status = extras.pop("status", None) or {}
        dims = {}
        for row in rows:
            dim = self.rubric.dimensions.get(row.dimension)
            dims[row.dimension] = DimensionScore(
                key=row.dimension,
                label=dim.label.get(lang) if dim else row.dimension,
                score=row.score,
                applies=row.applies,
                weight=dim.weight if dim else 1.0,
                evidence=[Quote.model_validate(q) for q in row.evidence],
                feedback=row.feedback,
                better=row.better,
                needs_review=row.needs_review,
                detail=row.detail,
                status=status.get(row.dimension, "shown") if row.applies else "not_applicable",
            )
        judge = record.state.get("judge") or {}
        cap = CapInfo.model_validate(extras["cap"]) if extras.get("cap") else None
        return Scorecard.model_validate(
            {
                **extras,
                "lang": lang,
                "outcome": record.outcome,
                "overall": overall(dims, cap.value if cap else None),
                "dimensions": dims,
                "source": judge.get("source") or "rules",
                "notice": judge.get("notice"),
                "rubric_version": extras.get("rubric_version") or "1",
            }
        )


# -- LLM mode ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pending:
    """A trainee turn analysed and the mood updated, waiting for the customer's reply."""

    session_id: str
    text: str
    scenario: Scenario
    analysis: TurnAnalysis
    mood: MoodState
    ctx: CustomerContext
    next_idx: int | None = None  # the index the trainee turn will get (to recognise a stored retry)
    user_id: int | None = None  # whose session (for the hourly limit on model calls)
    dialogue: DialogueState | None = None


class StreamingTurn(Iterator[str]):
    """The customer's reply to one trainee turn as text chunks (see ``SessionService.say_stream``)."""

    def __init__(self, service: SessionService, turn: _Pending):
        self.result: TurnResult | None = None
        self._gen = self._run(service, turn)

    def __iter__(self) -> StreamingTurn:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    def _run(self, service: SessionService, turn: _Pending) -> Iterator[str]:
        engine: Any = service.engine
        reply: Reply | None = service._limited_reply(turn)
        stream = (
            engine.stream(turn.ctx) if reply is None and callable(getattr(engine, "stream", None)) else None
        )
        try:
            if reply is not None:  # over the hourly limit: no model call
                yield reply.text
            elif stream is None:
                reply = engine.reply(turn.ctx)
                yield reply.text
            else:
                yield from stream
                reply = stream.reply
        finally:
            if reply is None:  # the reader stopped early (or the engine broke): store the turn anyway
                if stream is not None:
                    stream.close()
                reply = Reply(ScriptedCustomer().reply(turn.ctx).text, None, {"engine": "scripted", "abandoned_stream": True})
            self.result = service._commit(turn, reply)


def engine_by_name(name: str | None, settings: Settings | None = None) -> CustomerEngine:
    """The customer engine called ``name``: "scripted" (offline) or "llm" (from ``settings``)."""
    if name in (None, "scripted"):
        return ScriptedCustomer()
    if name == "llm":
        from simulator.config import load_settings
        from simulator.customers.llm import LLMCustomer

        return LLMCustomer.from_settings(settings or load_settings())
    raise ValueError(f"unknown customer engine {name!r}; use 'scripted' or 'llm'")


def judge_by_name(name: str | None, settings: Settings | None = None) -> LLMJudge | None:
    """None for "rules" (rule-based scoring only), the LLM judge for "llm"."""
    if name in (None, "rules"):
        return None
    if name == "llm":
        from simulator.config import load_settings
        from simulator.judge import LLMJudge

        return LLMJudge.from_settings(settings or load_settings())
    raise ValueError(f"unknown judge {name!r}; use 'rules' or 'llm'")
