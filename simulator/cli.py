"""`python -m simulator ...`: validate, list, analyze, play, selfplay, users, schema (DESIGN.md contract).

Readable text for people, ``--json`` for machines, exit 1 with a clear message on bad input;
never a traceback for anything a user can get wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import islice
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from simulator.config import ConfigError, load_settings
from simulator.datafile import format_problem
from simulator.llm import LLMNotConfigured
from simulator.scenario import (
    LANGUAGES,
    SCENARIO_ROOT,
    ScenarioError,
    ScenarioLibrary,
    UnknownScenario,
    load_scenario_file,
    scenario_files,
    schema_json,
)


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit 1."""


def _open_service(engine: str = "scripted", judge: str = "rules"):
    """The service; ``engine``/``judge`` "llm" use the model configured in the settings
    (OPENAI_BASE_URL, OPENAI_API_KEY, TENANG_CUSTOMER_MODEL, TENANG_JUDGE_MODEL)."""
    from simulator.session import SessionService
    from simulator.store.db import open_repository

    settings = load_settings()
    try:
        return SessionService(open_repository(settings.database_url), engine=engine, judge=judge, settings=settings)
    except LLMNotConfigured as exc:
        raise UsageError(f"--engine llm / --judge llm: {exc}") from None


# -- validate ----------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    paths = [Path(p) for p in args.paths] or [SCENARIO_ROOT]
    problems: list[str] = []
    checked = 0
    for path in paths:
        if not path.exists():
            problems.append(format_problem(str(path), "(file)", "no such file or folder"))
    for file in scenario_files([p for p in paths if p.exists()]):
        checked += 1
        try:
            load_scenario_file(file)
        except ScenarioError as exc:
            problems.extend(format_problem(*p) for p in exc.problems)
    for line in problems:
        print(line, file=out)
    if not problems:
        print(f"{checked} scenario file(s) valid", file=out)
    return 1 if problems else 0


# -- list --------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    library = ScenarioLibrary()
    scenarios = library.all(args.lang)
    if args.json:
        rows = [
            {
                "id": s.id,
                "lang": s.lang,
                "title": s.title,
                "sector": s.sector,
                "temperament": s.persona.temperament.value,
                "difficulty": s.difficulty,
                "fault": s.fault.value,
                "referral_target": s.handling.referral.target.value,
            }
            for s in scenarios
        ]
        print(json.dumps(rows, ensure_ascii=False), file=out)
    else:
        for s in scenarios:
            print(f"{s.id:28} {s.lang}  {s.persona.temperament.value:11} d{s.difficulty}  {s.title}", file=out)
    for problem in library.problems:
        print("skipped: " + format_problem(*problem), file=sys.stderr)
    return 0


ANALYZE_BATCH = 64  # turns embedded in one encoder call by `analyze`


# -- analyze -----------------------------------------------------------------------------------
def cmd_analyze(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from simulator.analysis import analyze, explain, warm  # here: exports and the rest start without the analyser

    library: ScenarioLibrary | None = None
    failed = False
    lines = ((number, raw) for number, raw in enumerate(stdin, start=1) if raw.strip())
    while chunk := list(islice(lines, ANALYZE_BATCH)):
        parsed: list[tuple[int, dict | Exception]] = []
        for number, raw in chunk:
            try:
                item = json.loads(raw)
                if not isinstance(item, dict) or not isinstance(item.get("trainee"), str):
                    raise ValueError('expected an object with a "trainee" string')
                item["lang"] = item.get("lang") or args.lang
                if item["lang"] not in LANGUAGES:
                    raise ValueError(f"unknown lang '{item['lang']}'; use one of {', '.join(LANGUAGES)}")
                if item.get("scenario"):
                    library = library or ScenarioLibrary()
                    item["scenario"] = library.get(item["scenario"], item["lang"])
                parsed.append((number, item))
            except (ValueError, UnknownScenario) as exc:
                parsed.append((number, exc))
        warm([(i["trainee"], i["lang"]) for _, i in parsed if isinstance(i, dict)])  # one encoder batch
        for number, item in parsed:
            if isinstance(item, Exception):
                failed = True
                message = f"line {number}: {item}"
                print(json.dumps({"error": message}, ensure_ascii=False), file=out)
                print(message, file=sys.stderr)
                continue
            context = {"customer_last": item.get("customer"), "scenario": item.get("scenario")}
            if args.explain:
                result, decisions = explain(item["trainee"], item["lang"], **context)
                line = result.contract_dict() | {"explain": _explanation(decisions)}
            else:
                line = analyze(item["trainee"], item["lang"], **context).contract_dict()
            print(json.dumps(line, ensure_ascii=False), file=out)
    return 1 if failed else 0


def _explanation(decisions) -> dict:
    """Per tag: what the rules said, the head's probability, and the decision (analyze --explain)."""
    from simulator.analysis import engine

    running = engine()
    return {
        "engine": running.mode,
        **({"reason": running.reason} if running.reason else {}),
        "tags": {
            d.tag.value: {"rule": d.rule, "probability": None if d.probability is None else round(d.probability, 3),
                          "decided_by": d.mode, "decision": d.decided}
            for d in decisions
        },
    }


# -- train-analyser ------------------------------------------------------------------------------
def cmd_train_analyser(args: argparse.Namespace) -> int:
    from simulator.understanding import training

    if args.corrections and not Path(args.corrections).is_file():
        raise UsageError(f"{args.corrections}: no such file")
    return training.main(corrections=Path(args.corrections) if args.corrections else None, with_test=args.test)


# -- play --------------------------------------------------------------------------------------
def _trainee_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None


def _interactive(out: TextIO, stdin: TextIO) -> Iterator[str]:
    print("Type your reply and press Enter. '/end' (or Ctrl-D) ends the session.", file=out)
    while True:
        print("You: ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line or line.strip() == "/end":
            return
        if line.strip():
            yield line


def cmd_play(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from simulator.session import InputError

    service = _open_service(args.engine, args.judge)
    record = service.start(args.id, args.lang, seed=args.seed)
    scenario = service.scenario_for(record)
    talk = not args.json
    if talk:
        b = scenario.briefing
        print(f"# {scenario.title}\nYou are: {b.role}\nSetting: {b.setting}\nGoal: {b.goal}\n", file=out)
        print(f"{scenario.persona.name}: {service.transcript(record.id)[0].text}", file=out)
    lines = _trainee_lines(Path(args.trainee_file)) if args.trainee_file else _interactive(out, stdin)
    card = None
    for line in lines:
        try:
            result = service.say(record.id, line)
        except InputError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            continue
        if talk:
            tags = ", ".join(t.value for t in result.analysis.tags) or "-"
            levels = result.mood.levels()
            print(f"  [{tags}]  anger {levels['anger']:.1f}  trust {levels['trust']:.1f}", file=out)
            print(f"{scenario.persona.name}: {result.customer}", file=out)
            if result.notice:
                print(f"  ({result.notice})", file=out)
        if result.ended:
            card = result.scorecard
            break
    card = card or service.end(record.id)
    if args.json:
        llm = args.engine == "llm" or args.judge == "llm"
        print(json.dumps(_play_json(service, record.id, card, llm=llm), ensure_ascii=False), file=out)
    else:
        print(f"\nOutcome: {card.outcome}   Overall: {card.overall:.0f}", file=out)
        if card.cap is not None:
            print(f"(capped at {card.cap.value:.0f}: {card.cap.reason})", file=out)
        if card.notice:
            print(f"({card.notice})", file=out)
        for dim in card.dimensions.values():
            if dim.applies:
                review = "  [needs review]" if dim.needs_review else ""
                shown = "  [not shown]" if dim.status == "not_shown" else ""
                print(f"  {dim.label:30} {dim.score:5.0f}  {dim.feedback}{shown}{review}", file=out)
        for n, fix in enumerate(card.fixes, 1):
            where = f" (turn {fix.turn})" if fix.turn is not None else ""
            print(f"Fix {n}: {fix.label}{where}: {fix.better}", file=out)
    return 0


def _play_json(service, session_id: str, card, llm: bool = False) -> dict:
    """The DESIGN.md shape; in LLM mode (``llm``) each turn also has its ``notice`` and call
    ``meta``, and the result the scorecard's ``source``/``notice``, the dimensions that
    ``needs_review`` and the session's model ``usage``."""
    from simulator.mood import MoodState

    turns = []
    for t in service.transcript(session_id):
        turn = {
            "speaker": t.speaker,
            "text": t.text,
            "tags": (t.analysis or {}).get("tags", []),
            "mood": MoodState.model_validate(t.mood).levels() if t.mood else None,
        }
        if llm:
            turn.update(notice=t.notice, meta=t.meta)
        turns.append(turn)
    record = service.session(session_id)
    result = {
        "scenario": record.scenario_id,
        "lang": record.lang,
        "outcome": card.outcome,
        "overall": card.overall,
        "dimensions": card.scores(),
        "turns": turns,
    }
    if llm:
        result.update(
            engine=record.engine,
            source=card.source,
            notice=card.notice,
            needs_review=[k for k, d in card.dimensions.items() if d.applies and d.needs_review],
            usage=service.repo.session_usage(session_id).model_dump(exclude={"session_id"}),
        )
    return result


# -- users -------------------------------------------------------------------------------------
#: The interface language of an account added here unless ``--lang`` says otherwise. No setting
#: names a default interface language; Indonesian is the language of the people Tenang trains.
NEW_USER_LANG = "id"


def cmd_users_add(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from simulator.auth import create_user
    from simulator.store.db import open_repository

    if not args.password_stdin:
        raise UsageError("give the password on standard input with --password-stdin")
    password = stdin.readline().rstrip("\r\n")
    repo = open_repository(load_settings().database_url)
    try:
        user = create_user(repo, args.name, args.role, password, ui_lang=args.lang)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"user '{user.name}' added with role {user.role} and interface language {user.ui_lang}", file=out)
    return 0


# -- schema ------------------------------------------------------------------------------------
def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    text = schema_json()
    if args.write:
        target = SCENARIO_ROOT / "schema.json"
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=out)
    else:
        out.write(text)
    return 0


# -- selfplay ----------------------------------------------------------------------------------
SELFPLAY_EPILOG = """\
Bot trainees (exemplary, defensive, passive, over_reacting, wrong_referral) play the scenario
on the scripted customer, on a throwaway in-memory database (your data is not touched).
Warnings: the exemplary bot does not win by at least 30 points or cannot resolve the case, a
hidden fact no question can reveal, a referral target the customer can never accept.
Exit status: 0 when the check ran, also when it reports warnings (they are findings about
the scenario, not errors); 1 on bad input (unknown id or language, missing or invalid file).
--json prints {"scenario","lang","bots":{name:{"overall","outcome","dimensions"}},"warnings":[...]}."""


def cmd_selfplay(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.selfplay import format_report, load_target, selfplay

    try:
        scenario = load_target(args.scenario, args.lang)
    except ScenarioError as exc:
        raise UsageError("\n".join(format_problem(*p) for p in exc.problems)) from None

    def progress(done: int, total: int, bot: str | None) -> None:
        if bot is not None:
            print(f"selfplay {scenario.id} ({scenario.lang}): {bot} playing ({done + 1}/{total})", file=sys.stderr)

    report = selfplay(scenario, progress=None if args.json else progress)
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False), file=out)
    else:
        print(format_report(report), file=out)
    return 0


# -- export / seed-demo (issue 6) ----------------------------------------------------------------
def _dashboard_frame(args: argparse.Namespace):
    """The dashboard's session frame with the CLI's filters applied (see simulator.analytics)."""
    from datetime import date

    from simulator import analytics
    from simulator.store.db import open_repository
    from simulator.store.teams import TeamStore

    def day(text: str | None, flag: str):
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{flag}: expected a date like 2026-01-31, got {text!r}") from None

    start, end = day(args.start, "--from"), day(args.end, "--to")
    store = TeamStore(open_repository(load_settings().database_url))
    members = store.memberships()
    frame = analytics.prepare_sessions(store.session_scores(), members, store.assignments())
    user_ids = None
    if args.team:
        chosen = members[members["group"].isin(args.team)]
        unknown = sorted(set(args.team) - set(chosen["group"]))
        if unknown:
            raise UsageError(f"--team: unknown group(s): {', '.join(unknown)}")
        user_ids = chosen["user_id"].unique()
    return analytics.filter_sessions(frame, user_ids=user_ids, start=start, end=end, scenarios=args.scenario,
                                     langs=args.lang, roles=args.role)


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from simulator import exports

    frame = _dashboard_frame(args)
    if args.format == "csv":  # streamed to the file in chunks of rows
        try:
            with Path(args.out).open("wb") as handle:
                exports.write_csv(frame, handle)
        except OSError as exc:
            raise UsageError(f"--out: cannot write {args.out}: {exc}") from None
        print(f"wrote {len(frame)} session(s) to {args.out} ({args.format})", file=out)
        return 0
    if args.format == "xlsx":
        data = exports.to_xlsx(frame)
    else:
        library = ScenarioLibrary()
        titles = {(s.id, s.lang): s.title for s in library.all()}
        data = exports.to_xapi_json(frame, args.home_page, titles)
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {args.out}: {exc}") from None
    print(f"wrote {len(frame)} session(s) to {args.out} ({args.format})", file=out)
    return 0


def cmd_seed_demo(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    import time

    from simulator.demo import seed_demo
    from simulator.store.db import open_repository

    if args.trainees < 1 or args.sessions < 1:
        raise UsageError("--trainees and --sessions must be at least 1")
    password_hash = None
    if args.password_stdin:
        from simulator.auth import PASSWORD_MAX, PASSWORD_MIN, hash_password

        password = stdin.readline().rstrip("\r\n")
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise UsageError(f"password: must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")
        password_hash = hash_password(password)
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        end = "\n" if done >= total else ""
        print(f"\rseed-demo {stage:11} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end,
              file=sys.stderr, flush=True)

    repo = open_repository(load_settings().database_url)
    result = seed_demo(repo, args.trainees, args.sessions, password_hash=password_hash, seed=args.seed,
                       transcripts=not args.no_transcripts, calibration=not args.no_calibration, progress=progress)
    print(f"seeded {result.trainees} trainees in {', '.join(result.teams)}, {result.sessions} sessions, "
          f"{result.scores} scores, {result.turns} turns in {time.perf_counter() - started:.1f} s "
          f"(staff: demo-hr, demo-trainer, demo-trainer-2)", file=out)
    if result.calibration_set:
        print(f"demo calibration set '{result.calibration_set}': {result.gradings} gradings, "
              f"{result.corrections} tag corrections (marked as demo data)", file=out)
    return 0


# -- agreement / export-labels (issue 15) ---------------------------------------------------------
AGREEMENT_EPILOG = """\
Automatic vs. human: per session, the automatic score against the graders' mean; human vs.
human: the first two graders of each session. kappa: quadratic-weighted Cohen's kappa on the
rubric's grading steps; spearman: rank correlation; mad: mean absolute difference in points;
[low, high]: 95% bootstrap interval over sessions (fixed seed: the dashboard shows the same).
--json prints {"set","demo","sessions","graders","dimensions":{key:{"auto_human_kappa",
"auto_human_kappa_ci",...,"human_human_kappa",...,"by_lang":{"id":{...},"en":{...}}}},
"tags":{"turns","micro_f1","tags":{tag:{"precision","recall","f1","support"}}},
"disagreements":[{"session_id","link",...}]}."""


def _grading_service():
    from simulator.grading import GradingService
    from simulator.store.db import open_repository

    return GradingService(open_repository(load_settings().database_url))


def cmd_agreement(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.calibration import format_ci
    from simulator.store.repository import NotFoundError

    if args.resamples < 0:
        raise UsageError("--resamples must be 0 or more")
    service = _grading_service()
    try:
        report = service.report(args.set, resamples=args.resamples)
    except NotFoundError as exc:
        raise UsageError(f"--set: {exc}") from None
    if args.json:
        print(json.dumps(report, ensure_ascii=False), file=out)
        return 0
    scope = f"set '{report['set']}'" if report["set"] else "all graded sessions"
    demo = "  (includes demo data)" if report["demo"] else ""
    print(f"Agreement over {scope}: {report['sessions']} session(s), {report['graders']} grader(s){demo}", file=out)
    if not report["sessions"]:
        print("No graded sessions yet: grade sessions on the review page, or run seed-demo.", file=out)
        return 0
    print(f"{'dimension':15} {'auto-human kappa':26} {'n':>3}  {'human-human kappa':26} {'n':>3}  "
          f"{'auto-human spearman':26} {'mad':>6}", file=out)
    for key, e in report["dimensions"].items():
        print(f"{key:15} {format_ci(e['auto_human_kappa'], e['auto_human_kappa_ci']):26} {e['auto_human_n']:>3}  "
              f"{format_ci(e['human_human_kappa'], e['human_human_kappa_ci']):26} {e['human_human_n']:>3}  "
              f"{format_ci(e['auto_human_spearman'], e['auto_human_spearman_ci']):26} "
              f"{(e['auto_human_mad'] if e['auto_human_mad'] is not None else float('nan')):6.1f}", file=out)
    tags = report["tags"]
    if tags["turns"]:
        f1 = ", ".join(f"{tag} {v['f1']:.2f}" for tag, v in tags["tags"].items() if v["f1"] is not None)
        print(f"Tags ({tags['turns']} corrected turns): micro F1 {format_ci(tags['micro_f1'], None)}; {f1}", file=out)
    if report["disagreements"]:
        print("Biggest disagreements (mean |auto - human| over dimensions):", file=out)
        for d in report["disagreements"]:
            print(f"  {d['mean_diff']:5.1f}  {d['scenario_id']:28} {d['lang']}  {d['link']}", file=out)
    return 0


def cmd_export_labels(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.calibration import to_jsonl

    records = _grading_service().label_records(include_demo=args.include_demo)
    text = to_jsonl(records)
    if args.out in (None, "-"):
        out.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write {args.out}: {exc}") from None
    print(f"wrote {len(records)} corrected turn(s) to {args.out}", file=sys.stderr)
    return 0


def cmd_rescore(args: argparse.Namespace, out: TextIO) -> int:
    """Score ended sessions again under the current rubric; the old figures stay in each
    session's score history. By default only sessions scored under another rubric version."""
    from simulator.session import SessionService
    from simulator.store.db import open_repository

    repo = open_repository(load_settings().database_url)
    service = SessionService(repo)
    version = service.rubric.version
    if args.session:
        records = [service.session(sid) for sid in args.session]
    else:
        records = [r for r in repo.list_sessions(status="ended")]
    done, skipped, results = 0, 0, []
    for record in records:
        stored = (record.state or {}).get("scorecard") or {}
        old_version = stored.get("rubric_version") or "1"
        if not (args.all or args.session) and old_version == version:
            continue
        if not service.trainee_turns(record.id):
            skipped += 1
            results.append({"session": record.id, "skipped": "no transcript"})
            continue
        try:
            if args.dry_run:
                old, new = service.scorecard(record.id), service.rescored(record.id)
            else:
                old, new = service.rescore(record.id)
        except UnknownScenario:
            skipped += 1
            results.append({"session": record.id, "skipped": "scenario no longer exists"})
            continue
        done += 1
        before = record.overall
        results.append({"session": record.id, "scenario": record.scenario_id, "lang": record.lang,
                        "from_version": old_version, "to_version": version, "overall_before": before,
                        "overall_after": new.overall, "cap": new.cap.key if new.cap else None})
    if args.json:
        print(json.dumps({"rubric_version": version, "rescored": done, "skipped": skipped, "dry_run": args.dry_run,
                          "sessions": results}, ensure_ascii=False), file=out)
    else:
        for r in results:
            if "skipped" in r:
                print(f"{r['session']}: skipped ({r['skipped']})", file=out)
            else:
                before = "-" if r["overall_before"] is None else f"{r['overall_before']:.1f}"
                print(f"{r['session']} {r['scenario']} ({r['lang']}): {before} (v{r['from_version']}) -> "
                      f"{r['overall_after']:.1f} (v{version})" + (f", capped: {r['cap']}" if r["cap"] else ""), file=out)
        verb = "would re-score" if args.dry_run else "re-scored"
        print(f"{verb} {done} session(s) under rubric version {version}; {skipped} skipped", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Tenang complaint-handling simulator")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("paths", nargs="*", help="files or folders (default: the built-in scenarios)")

    p = sub.add_parser("list", help="list scenarios")
    p.add_argument("--lang", choices=LANGUAGES)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("analyze", help="analyse trainee turns: JSON Lines on stdin")
    p.add_argument("--lang", choices=LANGUAGES, default="en")
    p.add_argument("--explain", action="store_true",
                   help="add per tag: the rules' hit, the learned head's probability and the decision")

    p = sub.add_parser("train-analyser", help="rebuild the analyser's learned heads and its model card")
    p.add_argument("--corrections", metavar="FILE",
                   help="also train on trainers' corrected turns (JSON Lines from export-labels)")
    p.add_argument("--test", action="store_true",
                   help="also score the untouched test split (corpus/test/) into the model card")

    p = sub.add_parser("play", help="play a scenario in the terminal")
    p.add_argument("id")
    p.add_argument("--lang", required=True, choices=LANGUAGES)
    p.add_argument("--trainee-file", help="one trainee turn per non-empty line")
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--engine", choices=("scripted", "llm"), default="scripted")
    p.add_argument("--judge", choices=("rules", "llm"), default="rules")

    p = sub.add_parser("users", help="manage users")
    users = p.add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("trainee", "trainer", "hr", "admin"))
    add.add_argument("--password-stdin", action="store_true")
    add.add_argument("--lang", choices=LANGUAGES, default=NEW_USER_LANG,  # the interface speaks both
                     help=f"the account's interface language: id or en (default {NEW_USER_LANG})")

    p = sub.add_parser("schema", help="print the scenario JSON Schema")
    p.add_argument("--write", action="store_true", help="write scenarios/schema.json")

    p = sub.add_parser(
        "selfplay",
        help="check a scenario: bot trainees play it (exit 0 even with warnings)",
        epilog=SELFPLAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", metavar="ID_OR_FILE", help="a built-in scenario id, or a path to a scenario YAML file")
    p.add_argument("--lang", choices=LANGUAGES, help="the scenario's language (required with an id)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("export", help="export sessions and scores: csv, xlsx or xAPI statements")
    p.add_argument("--format", required=True, choices=("csv", "xlsx", "xapi"))
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--team", action="append", help="only members of this team/cohort (repeatable)")
    p.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (by the day a session ended, UTC)")
    p.add_argument("--to", dest="end", help="last day, YYYY-MM-DD")
    p.add_argument("--scenario", action="append", help="scenario id (repeatable)")
    p.add_argument("--lang", action="append", choices=LANGUAGES, help="session language (repeatable)")
    p.add_argument("--role", action="append", choices=("trainee", "trainer", "hr", "admin"), help="user role (repeatable)")
    p.add_argument("--home-page", default="http://localhost:8501", help="xAPI: the app's URL (account homePage, activity ids)")

    p = sub.add_parser("seed-demo", help="fill the database with demo teams, trainees and sessions")
    p.add_argument("--trainees", type=int, default=40)
    p.add_argument("--sessions", type=int, default=30, help="sessions per trainee")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--password-stdin", action="store_true", help="one shared password for the demo users, on stdin")
    p.add_argument("--no-transcripts", action="store_true", help="scores only, no conversation turns (faster)")
    p.add_argument("--no-calibration", action="store_true", help="no demo calibration set, grades or tag corrections")

    p = sub.add_parser("agreement", help="how well the automatic score agrees with trainers' grades (and they with each other)",
                       epilog=AGREEMENT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", help="a calibration set's name (default: every graded session)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples for the intervals (0: none)")

    p = sub.add_parser("export-labels", help="corrected trainee turns as labelled JSON Lines (the analyser's corpus format)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument("--include-demo", action="store_true", help="also the demo corrections made by seed-demo")

    p = sub.add_parser("rescore", help="score ended sessions again under the current rubric, keeping the old figures")
    p.add_argument("--session", action="append", help="only this session id (repeatable)")
    p.add_argument("--all", action="store_true", help="every ended session, also those already on the current version")
    p.add_argument("--dry-run", action="store_true", help="show the new figures without storing them")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    args = build_parser().parse_args(argv)
    try:
        match args.command:
            case "validate":
                return cmd_validate(args, out)
            case "list":
                return cmd_list(args, out)
            case "analyze":
                return cmd_analyze(args, out, stdin)
            case "train-analyser":
                return cmd_train_analyser(args)
            case "play":
                return cmd_play(args, out, stdin)
            case "users":
                return cmd_users_add(args, out, stdin)
            case "schema":
                return cmd_schema(args, out)
            case "selfplay":
                return cmd_selfplay(args, out)
            case "export":
                return cmd_export(args, out)
            case "seed-demo":
                return cmd_seed_demo(args, out, stdin)
            case "agreement":
                return cmd_agreement(args, out)
            case "export-labels":
                return cmd_export_labels(args, out)
            case "rescore":
                return cmd_rescore(args, out)
    except (UsageError, UnknownScenario, ConfigError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2
