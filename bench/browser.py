"""Speed a person feels: the app in a real headless Chromium (Debian's /usr/bin/chromium, Playwright).

    .venv/bin/python bench/browser.py [--db FILE] [--trainees 1000] [--sessions 50] [--turns 40]
                                      [--repeat 3] [--label after] [--json OUT] [--no-report]

Seeds (or reuses, ``--db``) a SQLite database with ``seed-demo``: ``--trainees`` × ``--sessions``
scored sessions without transcripts, plus six trainees with four transcribed sessions each (the
review page needs a conversation). Starts ``streamlit run app.py`` (as ``make run`` does) on it
and measures, from the browser's side (the time from the click or key press until the page has
finished running its script and the expected content is on screen):

* sign-in to first page (trainee, trainer, HR), until that page's content is drawn: the team
  dashboard's first chart for HR and trainers, the practice page's title for a trainee;
* a trainee turn, from Enter to the customer's reply on screen (p50/p95 over ``--turns`` turns,
  offline engine), timed in the page itself: from the Enter key's keydown to the first frame
  drawn after the reply arrived (``TURN_WATCH``);
* first render of My progress, review, the studio editor and the team dashboard (opened from the
  sidebar or by the page's own control, signed in), the first time after the server started
  (cold) and again in a new browser session (warm), and a filter change on each; charts count
  once Plotly has drawn them (their ``svg.main-svg``).

Content is timed in the page's own clock: the first frame drawn after the expected element
entered the page (``DRAWN_WATCH``), not the moment Playwright's polling saw it.

"Finished" = Streamlit's ``stApp`` element reports ``data-test-script-state="notRunning"`` and
stays so for 2.5 s; the figure is the moment of the last such transition (reruns the page asks
for itself, e.g. st.rerun or switch_page, are included). Every figure is recorded with the load
average of this machine (other work shares its cores); ``--repeat`` repeats the warm measures and
reports the median.

The "browser" section of docs/benchmarks.md keeps a *before* and an *after* column: ``--label``
says which one this run fills (the other column is kept as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import REPORT, write_section  # noqa: E402
from simulator.scenario import ScenarioLibrary  # noqa: E402
from tests.e2e.browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    app_env,
    en,
    new_page,
    streamlit_server,
)

SCENARIO = "water-bill-surge"
LINES = [
    "I'm sorry about this. So your bill went up six times and nothing changed at home?",
    "May I have your customer number, please?",
    "Since when has this been happening?",
    "I understand, a bill like that would shock anyone.",
    "Did anything change with the meter or the pipes recently?",
    "Let me look at your reading history first.",
]
TARGETS = {"sign_in": 1.5, "first": 1.5, "filter": 0.8, "turn_p95": 0.3}

WATCH = """
() => {
  window.__tenang = {changes: [], done: 0};
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) { setTimeout(watch, 20); return; }
    let last = app.getAttribute('data-test-script-state');
    new MutationObserver(() => {
      const now = app.getAttribute('data-test-script-state');
      if (now !== last) {
        window.__tenang.changes.push([now, performance.now()]);
        if (now === 'notRunning') window.__tenang.done += 1;
        last = now;
      }
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  };
  watch();
}
"""


# Stamps every element the page adds with the first frame drawn after it arrived
# (``__tenangDrawn``, performance.now()), so a first render is timed in the page's own clock too:
# from the click to the frame that showed the expected content, without Playwright's polling and
# round trips (which wait for a busy main thread, e.g. a data grid set up after the chart shown).
DRAWN_WATCH = """
() => {
  const stamp = (nodes) => requestAnimationFrame(() => {
    const now = performance.now();
    for (const node of nodes) node.__tenangDrawn = now;
  });
  new MutationObserver((records) => {
    const added = [];
    for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) added.push(node);
    if (added.length) stamp(added);
  }).observe(document, {childList: true, subtree: true});
}
"""

# The frame that first drew an element: its own stamp, or that of the nearest ancestor added with it.
DRAWN_AT = """
(el) => { for (let node = el; node; node = node.parentNode) {
  if (node.__tenangDrawn !== undefined) return node.__tenangDrawn; } return null; }
"""

# Times one turn in the page's own clock: from the Enter key's keydown in the chat box to the first
# frame drawn after the reply (or the ending's banner) entered the page. Playwright's round trips
# (the key press, polling for the element, reading the clock) stay out of the figure.
TURN_WATCH = """
([messages, endedText]) => {
  const turn = {enter: null, shown: null};
  window.__turn = turn;
  const box = document.querySelector('[data-testid="stChatInputTextArea"]');
  const onKey = (e) => {
    if (e.key !== 'Enter') return;
    turn.enter = performance.now();
    box.removeEventListener('keydown', onKey, {capture: true});  // one listener per turn, not one more each turn
  };
  box.addEventListener('keydown', onKey, {capture: true});
  const arrived = () => document.querySelectorAll('[data-testid="stChatMessage"]').length >= messages
    || document.body.innerText.includes(endedText);
  const observer = new MutationObserver(() => {
    if (turn.enter === null || !arrived()) return;
    observer.disconnect();
    requestAnimationFrame(() => { turn.shown = performance.now(); });
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- seeding


def seed(db: Path, trainees: int, sessions: int) -> None:
    env = app_env(f"sqlite:///{db}")
    for args in (["--trainees", str(trainees), "--sessions", str(sessions), "--no-transcripts"],
                 ["--trainees", "6", "--sessions", "4", "--seed", "8"]):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "simulator", "seed-demo", *args, "--password-stdin"],
                              input=PASSWORD + "\n", text=True, capture_output=True, env=env, cwd=ROOT)
        if done.returncode:
            raise SystemExit(done.stderr)
        print(f"seed-demo {' '.join(args)}: {time.perf_counter() - started:.0f} s", file=sys.stderr)


def pick_users(db: Path) -> dict[str, str]:
    """A trainee with many sessions (My progress), one with transcripts (review, turns)."""
    con = sqlite3.connect(db)
    try:
        busy = con.execute(
            "SELECT u.name FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.role = 'trainee' "
            "GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1").fetchone()[0]
        talker, session = con.execute(
            "SELECT u.name, s.id FROM users u JOIN sessions s ON s.user_id = u.id "
            "WHERE u.role = 'trainee' AND EXISTS (SELECT 1 FROM turns t WHERE t.session_id = s.id) "
            "ORDER BY u.id DESC, s.started_at DESC LIMIT 1").fetchone()
        # the measures find controls by their English labels
        con.execute("UPDATE users SET ui_lang = 'en' WHERE name IN (?, ?)", (busy, talker))
        con.commit()
    finally:
        con.close()
    return {"busy": busy, "talker": talker, "talker_session": session}


# --------------------------------------------------------------------------- browser helpers


class Tab:
    def __init__(self, browser, base: str) -> None:
        self.page = new_page(browser, wait_ms=120_000)
        self.page.add_init_script(f"({WATCH})()")
        self.page.add_init_script(f"({DRAWN_WATCH})()")
        self.base = base

    def close(self) -> None:
        self.page.context.close()

    def done_count(self) -> int:
        return self.page.evaluate("() => window.__tenang ? window.__tenang.done : 0")

    def now(self) -> float:
        return self.page.evaluate("() => performance.now()")

    def settle(self, since_done: int, t0: float, quiet_ms: int = 2500, timeout_s: float = 120) -> float:
        """Seconds from ``t0`` (performance.now() in the page) to the last transition to notRunning,
        once at least one run finished after ``since_done`` and the app stayed idle ``quiet_ms``."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.page.evaluate(
                "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
                " const c = window.__tenang.changes; const last = c.length ? c[c.length - 1] : null;"
                " return [a ? a.getAttribute('data-test-script-state') : null, window.__tenang.done,"
                " last ? last[1] : null, performance.now()]; }")
            current, done, last_at, now = state
            if current == "notRunning" and done > since_done and last_at is not None and now - last_at >= quiet_ms:
                return (last_at - t0) / 1000
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not settle (state {current}, {done} runs)")
            self.page.wait_for_timeout(20)

    def act(self, action, expect=None) -> float:
        """Run ``action`` (a click, a key press) and time it until the page settled and ``expect``
        (a locator) was drawn: the first frame drawn after it entered the page. Content already on
        the page before the action (a rerun that changes a chart in place) counts from the settle."""
        before, t0 = self.done_count(), self.now()
        action()
        # Seen first, settled after: the settle waits out 2.5 s of quiet, which must not count.
        shown = 0.0
        if expect is not None:
            expect.first.wait_for(state="visible")
            drawn = expect.first.evaluate(DRAWN_AT)
            shown = (drawn - t0) / 1000 if drawn is not None and drawn > t0 else 0.0
        return max(shown, self.settle(before, t0))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.get_by_label(en("field_name")).wait_for()
        self.settle(-1, 0)

    def sign_in(self, name: str, expect) -> float:
        page = self.page
        page.get_by_label(en("field_name")).fill(name)
        page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
        return self.act(lambda: page.get_by_role("button", name=en("auth_button")).click(), expect)

    def nav(self, title_key: str, expect) -> float:
        link = self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=en(title_key))
        return self.act(lambda: link.click(), expect)

    def charts(self):
        """The page's charts, once Plotly has drawn them (an empty chart element is not yet a chart)."""
        return self.page.get_by_test_id("stPlotlyChart").locator("svg.main-svg")

    def heading(self, key: str, **values):
        return self.page.get_by_role("heading", name=en(key, **values))


def choose(page, label: str, option: str | None = None):
    """Open the select box/multiselect labelled ``label`` and click an option (the first when
    ``option`` is None); returns the action for Tab.act."""
    def action() -> None:
        box = page.get_by_label(label, exact=True)
        box.scroll_into_view_if_needed()
        box.click()
        options = page.get_by_role("option")
        (options.filter(has_text=option).first if option else options.first).click()
        page.keyboard.press("Escape")
    return action


# --------------------------------------------------------------------------- the measures


def guarded(name: str, block) -> None:
    """Run one block of measures; a failure is reported and the other blocks still run."""
    try:
        block()
    except Exception as error:  # noqa: BLE001 - a benchmark reports what it could measure
        print(f"  {name}: FAILED: {type(error).__name__}: {str(error).splitlines()[0][:200]}", file=sys.stderr)


def measure(base: str, users: dict[str, str], turns: int, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float] | float] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(round(value, 3))
        print(f"  {key:28} {value:6.2f} s   (load {load()})", file=sys.stderr)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def block(name: str, body) -> None:
            tab = Tab(browser, base)
            try:
                guarded(name, lambda: body(tab))
            finally:
                tab.close()

        def hr(tab: Tab, cold: bool) -> None:  # sign-in lands on the first page of the menu; the dashboard
            tab.open("/")
            charts = tab.charts()
            add("sign_in_hr", tab.sign_in("demo-hr", charts))
            add("dashboard_first_cold" if cold else "dashboard_first", tab.nav("nav_dashboard", charts))
            add("dashboard_filter", tab.act(choose(tab.page, en("dash_filter_team")), charts))
            add("dashboard_filter", tab.act(choose(tab.page, en("dash_filter_lang"), en("practice_lang_en")), charts))

        def busy_trainee(tab: Tab, cold: bool) -> None:  # 50 sessions: My progress and its pick (a rerun)
            tab.open("/")
            charts = tab.charts()
            add("sign_in_trainee", tab.sign_in(users["busy"], tab.heading("practice_title")))
            add("progress_first_cold" if cold else "progress_first", tab.nav("nav_progress", charts))
            picker = tab.page.get_by_label(en("progress_pick_review"), exact=True)
            picker.scroll_into_view_if_needed()
            add("progress_filter", tab.act(lambda: (picker.click(), tab.page.get_by_role("option").nth(1).click()),
                                           charts))

        def reviewer(tab: Tab, cold: bool) -> None:  # their own transcript; the what-if turn pick (a rerun)
            tab.open(f"/review?session={users['talker_session']}")
            chat = tab.page.get_by_test_id("stChatMessage")
            add("review_first_cold" if cold else "review_first", tab.sign_in(users["talker"], chat))
            picker = tab.page.get_by_label(en("review_pick_turn"), exact=True)
            picker.scroll_into_view_if_needed()
            add("review_filter", tab.act(lambda: (picker.click(), tab.page.get_by_role("option").last.click()), chat))

        def trainer(tab: Tab, cold: bool) -> None:  # the studio list, a pick there (a rerun), the editor
            tab.open("/")
            page = tab.page
            add("sign_in_trainer", tab.sign_in("demo-trainer", tab.charts()))
            add("studio_list_first", tab.nav("nav_studio", tab.heading("studio_title")))
            title = ScenarioLibrary().get(SCENARIO, "en").title  # the list names scenarios by title and language
            add("studio_filter", tab.act(choose(page, en("studio_open_label"), f"{title} ("),
                                         tab.heading("studio_title")))
            opener = page.get_by_test_id("stBaseButton-secondary").filter(has_text=re.compile(rf"^{en('studio_open')}$"))
            add("studio_editor_first_cold" if cold else "studio_editor_first",
                tab.act(lambda: opener.first.click(), page.get_by_role("tab", name=en("studio_tab_yaml"))))

        try:
            for round_ in range(repeat):
                cold = round_ == 0
                for name, body in (("hr", hr), ("trainee", busy_trainee), ("review", reviewer), ("trainer", trainer)):
                    block(name, lambda tab, body=body: body(tab, cold))
            # -- trainee turns: Enter to the customer's reply on screen
            timings: list[float] = []
            tab = None
            failures = 0
            while len(timings) < turns and failures < 3:
                try:
                    if tab is None or not tab.page.get_by_test_id("stChatInputTextArea").count():
                        if tab is not None:
                            tab.close()
                        tab = Tab(browser, base)
                        tab.open(f"/practice?scenario={SCENARIO}&lang=en")
                        start = tab.page.get_by_role("button", name=en("practice_start"))
                        tab.sign_in(users["talker"], start)
                        tab.act(lambda: start.click(), tab.page.get_by_test_id("stChatInputTextArea"))
                    messages = tab.page.get_by_test_id("stChatMessage")
                    before = messages.count()
                    box = tab.page.get_by_test_id("stChatInputTextArea")
                    box.fill(LINES[len(timings) % len(LINES)])
                    tab.page.evaluate(TURN_WATCH, [before + 2, en("practice_ended_by_customer")])
                    box.press("Enter")
                    # the reply, or, when this turn ended the conversation, the ending with its last line
                    ended = tab.page.get_by_text(en("practice_ended_by_customer"))
                    messages.nth(before + 1).or_(ended).first.wait_for(state="visible")
                    tab.page.wait_for_function("() => window.__turn.shown !== null")
                    enter, shown = tab.page.evaluate("() => [window.__turn.enter, window.__turn.shown]")
                    tab.settle(-1, 0)
                    timings.append((shown - enter) / 1000)
                except Exception as error:  # noqa: BLE001
                    failures += 1
                    print(f"  turn: FAILED: {type(error).__name__}: {str(error).splitlines()[0][:200]}", file=sys.stderr)
                    if tab is not None:
                        shot = Path(tempfile.gettempdir()) / f"tenang-bench-turn-failed-{failures}.png"
                        tab.page.screenshot(path=str(shot), full_page=True)
                        print(f"  (the page: {shot})", file=sys.stderr)
                        tab.close()
                    tab = None
            if tab is not None:
                tab.close()
            out["turn"] = timings
            out["turn_load"] = load()
            print(f"  turns: {len(timings)}, p50 {statistics.median(timings) if timings else float('nan'):.3f} s "
                  f"(load {load()})", file=sys.stderr)
        finally:
            browser.close()
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- report

ROWS = [
    ("sign_in", "sign-in to first page (HR, trainee, trainer; median)", "sign_in"),
    ("sign_in_first", "sign-in to first page, the first after the server started (HR)", "sign_in"),
    ("progress_first_cold", "My progress, first render (first visit after start)", "first"),
    ("progress_first", "My progress, first render (new browser session)", "first"),
    ("progress_filter", "My progress, pick a session (rerun)", "filter"),
    ("review_first_cold", "review, sign-in to transcript (deep link, first visit)", "first"),
    ("review_first", "review, sign-in to transcript (deep link)", "first"),
    ("review_filter", "review, pick a what-if turn (rerun)", "filter"),
    ("studio_list_first", "studio, list first render", "first"),
    ("studio_editor_first_cold", "studio editor, open (first visit after start)", "first"),
    ("studio_editor_first", "studio editor, open", "first"),
    ("studio_filter", "studio, pick a scenario in the list (rerun)", "filter"),
    ("dashboard_first_cold", "team dashboard, first render (first visit after start)", "first"),
    ("dashboard_first", "team dashboard, first render (new browser session)", "first"),
    ("dashboard_filter", "team dashboard, filter change (team; language)", "filter"),
    ("turn_p50", "trainee turn, Enter to the customer's reply, p50", None),
    ("turn_p95", "trainee turn, Enter to the customer's reply, p95", "turn_p95"),
]


def summarise(raw: dict) -> dict[str, float]:
    figures = {}
    signins = [v for k in ("sign_in_hr", "sign_in_trainee", "sign_in_trainer") for v in raw.get(k, [])]
    if signins:
        figures["sign_in"] = statistics.median(signins)
    if raw.get("sign_in_hr"):  # the HR block runs first: its first sign-in is the first after the start
        figures["sign_in_first"] = raw["sign_in_hr"][0]
    for key, _, _ in ROWS:
        if key in raw and isinstance(raw[key], list):
            figures[key] = statistics.median(raw[key])
    if raw.get("turn"):
        figures["turn_p50"] = statistics.median(raw["turn"])
        figures["turn_p95"] = percentile(raw["turn"], 95)
    return figures


def write_report(label: str, figures: dict, meta: str, n_turns: int) -> None:
    store = REPORT.with_name("benchmarks-browser.json")
    data = json.loads(store.read_text()) if store.exists() else {}
    data[label] = {"figures": figures, "meta": meta}
    store.write_text(json.dumps(data, indent=1) + "\n")
    before, after = data.get("before", {}), data.get("after", {})
    lines = [
        "## Speed a person feels (issue 14)",
        "",
        "`python bench/browser.py`: headless Chromium through Playwright against `streamlit run`, SQLite, "
        "offline engine; seed-demo data of 1,000 trainees × 50 sessions (scores only) plus 6 trainees with "
        "transcripts. A figure runs from the click or key press until the page has finished its script "
        "(reruns it asks for included) and the expected content has been drawn (timed in the page: the first "
        "frame drawn after it entered the page; charts once Plotly has drawn them); a sign-in runs until the "
        "first page's content is drawn (the dashboard's first chart for HR and trainers). Warm figures are the "
        "median of the repeats. A trainee turn is timed in the page: from the Enter key's keydown to the first frame "
        "drawn after the reply arrived. The machine's 2 cores are shared with other work: load average "
        "(1/5/15 min) is given per run, and figures move with it.",
        "",
        f"- before: {before.get('meta', 'not measured')}",
        f"- after: {after.get('meta', 'not measured')}",
        "",
        "| measure | before | after | target |",
        "|---|---:|---:|---|",
    ]
    for key, text, target in ROWS:
        b, a = before.get("figures", {}).get(key), after.get("figures", {}).get(key)
        if b is None and a is None:
            continue
        limit = TARGETS.get(target) if target else None
        mark = ""
        if a is not None and limit is not None:
            mark = " ✓" if a <= limit else " ✗"
        fmt = (lambda v: "—" if v is None else f"{v * 1000:.0f} ms") if key.startswith("turn") else \
            (lambda v: "—" if v is None else f"{v:.2f} s")
        lines.append(f"| {text} | {fmt(b)} | {fmt(a)}{mark} | {'≤ ' + fmt(limit) if limit else '—'} |")
    lines.append("")
    lines.append(f"Trainee turns measured per run: {n_turns}.")
    write_section("browser", "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a seeded SQLite file to copy and use (seeded there when missing)")
    parser.add_argument("--trainees", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", choices=("before", "after"), default="after")
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    workdir = Path(tempfile.mkdtemp(prefix="tenang-browser-"))
    db = workdir / "tenang.db"
    if args.db and args.db.exists():
        shutil.copy(args.db, db)
    else:
        seed(db, args.trainees, args.sessions)
        if args.db:
            shutil.copy(db, args.db)
    users = pick_users(db)
    env = app_env(f"sqlite:///{db}")
    load_start = load()
    started = time.perf_counter()
    with streamlit_server(workdir, env) as base:
        print(f"server up in {time.perf_counter() - started:.1f} s, load {load()}", file=sys.stderr)
        raw = measure(base, users, args.turns, args.repeat)
    figures = summarise(raw)
    meta = (f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, git {git_rev()}, load average "
            f"{load_start} at the start, {load()} at the end (1/5/15 min), {args.repeat} rounds")
    if args.json:
        args.json.write_text(json.dumps({"raw": raw, "figures": figures, "meta": meta}, indent=1))
    for key, value in figures.items():
        print(f"{key:28} {value:7.3f} s", file=sys.stderr)
    if not args.no_report:
        write_report(args.label, figures, meta, len(raw.get("turn", [])))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def git_rev() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    raise SystemExit(main())
