"""The practice service: start a conversation, take trainee turns, end and score, branch ("what if").

One analysis per trainee turn drives both the customer's mood and the scorecard. Every turn is
written to the store as it happens, so a conversation survives a refresh or a crash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.analysis import analyze
from simulator.analysis_types import TurnAnalysis
from simulator.customers.base import CustomerContext, CustomerEngine, Line, facts_asked
from simulator.customers.scripted import ScriptedCustomer
from simulator.mood import MoodState, initial_state, update
from simulator.rubric import Rubric, load_rubric
from simulator.scenario import Scenario, ScenarioLibrary
from simulator.scoring import DimensionScore, Quote, Scorecard, TraineeTurn, overall, score
from simulator.store.repository import Repository, ScoreRow, SessionRecord, TurnRecord

MAX_TURN_CHARS = 1000
ABANDONED = "abandoned"  # the trainee ended the session before the customer did


class InputError(ValueError):
    """A trainee turn or request that is refused; nothing was stored."""


class SessionNotFound(LookupError):
    pass


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


def validate_turn_text(text: str) -> str:
    """The trainee's text, stripped; refuses empty and overlong turns with a clear message."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError("The message is empty; type a reply first.")
    if len(cleaned) > MAX_TURN_CHARS:
        raise InputError(f"The message is {len(cleaned)} characters long; the limit is {MAX_TURN_CHARS}.")
    return cleaned


class SessionService:
    def __init__(
        self,
        repo: Repository,
        library: ScenarioLibrary | None = None,
        rubric: Rubric | None = None,
        engine: CustomerEngine | None = None,
    ):
        self.repo = repo
        self.library = library or ScenarioLibrary()
        self.rubric = rubric or load_rubric()
        self.engine = engine or ScriptedCustomer()

    # -- reading -------------------------------------------------------------------------------
    def session(self, session_id: str) -> SessionRecord:
        record = self.repo.get_session(session_id)
        if record is None:
            raise SessionNotFound(f"no session '{session_id}'")
        return record

    def scenario_for(self, record: SessionRecord) -> Scenario:
        return self.library.get(record.scenario_id, record.lang)

    def transcript(self, session_id: str) -> list[TurnRecord]:
        return self.repo.get_turns(session_id)

    def mood(self, record: SessionRecord) -> MoodState:
        return MoodState.model_validate(record.state["mood"])

    # -- the conversation ----------------------------------------------------------------------
    def start(
        self,
        scenario_id: str,
        lang: str,
        *,
        user_id: int | None = None,
        seed: int | None = None,
    ) -> SessionRecord:
        """Open a session; the customer's opening line is stored as turn 0."""
        scenario = self.library.get(scenario_id, lang)
        seed = secrets.randbelow(2**31) if seed is None else seed
        state = initial_state(scenario)
        record = self.repo.create_session(
            scenario_id=scenario.id,
            lang=scenario.lang,
            user_id=user_id,
            seed=seed,
            engine=self.engine.name,
            state={"mood": state.model_dump(mode="json")},
        )
        opening = self.engine.opening(scenario, seed)
        self.repo.append_turn(record.id, "customer", opening, mood=state.model_dump(mode="json"))
        return self.session(record.id)

    def say(self, session_id: str, text: str) -> TurnResult:
        """One trainee turn: analyse, update the mood, let the customer answer, store both."""
        text = validate_turn_text(text)
        record = self.session(session_id)
        if record.status != "active":
            raise InputError("This session has ended; start a new one or use 'what if' in the review.")
        scenario = self.scenario_for(record)
        turns = self.repo.get_turns(session_id)
        before = self.mood(record)
        customer_last = next((t.text for t in reversed(turns) if t.speaker == "customer"), None)
        analysis = analyze(text, scenario.lang, customer_last=customer_last, scenario=scenario)
        new_facts, repeated = facts_asked(text, analysis, scenario, before.revealed)
        after = update(before, analysis, scenario, new_facts)
        transcript = [Line(t.speaker, t.text) for t in turns] + [Line("trainee", text)]
        ctx = CustomerContext(scenario, after, transcript, new_facts, repeated, record.seed)
        reply = self.engine.reply(ctx)

        mood = after.model_dump(mode="json")
        exchange = [
            {"speaker": "trainee", "text": text, "analysis": analysis.model_dump(mode="json"), "mood": mood},
            {"speaker": "customer", "text": reply.text, "mood": mood, "notice": reply.notice},
        ]
        self.repo.append_turns(session_id, exchange, state={"mood": mood})
        card = None
        if after.outcome is not None:
            card = self._finish(session_id, scenario, after, after.outcome.value)
        return TurnResult(session_id, analysis, reply.text, after, card is not None, card and card.outcome, card, reply.notice)

    def branch(self, session_id: str, turn_idx: int, text: str) -> TurnResult:
        """What if: a new session that shares the turns before trainee turn ``turn_idx`` and
        continues from there with ``text`` instead. The original is left untouched."""
        text = validate_turn_text(text)
        record = self.session(session_id)
        turns = self.repo.get_turns(session_id)
        if not (0 < turn_idx < len(turns)) or turns[turn_idx].speaker != "trainee":
            raise InputError(f"turn {turn_idx} is not one of the trainee's turns in this session")
        state = turns[turn_idx - 1].mood
        branch = self.repo.create_session(
            scenario_id=record.scenario_id,
            lang=record.lang,
            user_id=record.user_id,
            seed=record.seed,
            engine=record.engine,
            state={"mood": state},
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
        card = score(self.trainee_turns(session_id), scenario, self.rubric, state, outcome)
        rows = [
            ScoreRow(
                dimension=d.key,
                score=d.score,
                applies=d.applies,
                evidence=[q.model_dump() for q in d.evidence],
                feedback=d.feedback,
                better=d.better,
            )
            for d in card.dimensions.values()
        ]
        self.repo.save_scores(session_id, rows)
        self.repo.update_session(
            session_id, status="ended", outcome=outcome, overall=card.overall, ended_at=datetime.now(UTC)
        )
        return card

    def trainee_turns(self, session_id: str) -> list[TraineeTurn]:
        return [
            TraineeTurn(t.idx, t.text, TurnAnalysis.model_validate(t.analysis))
            for t in self.repo.get_turns(session_id)
            if t.speaker == "trainee" and t.analysis is not None
        ]

    def scorecard(self, session_id: str) -> Scorecard | None:
        """The stored scorecard of an ended session, or None."""
        record = self.session(session_id)
        rows = self.repo.get_scores(session_id)
        if not rows:
            return None
        lang = record.lang
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
            )
        return Scorecard(lang=lang, outcome=record.outcome, overall=overall(dims), dimensions=dims)
