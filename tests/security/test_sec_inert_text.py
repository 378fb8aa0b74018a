"""Item 4: text typed by trainees and scenario text is rendered inert: no HTML, no script, no links
or images through the chat, the briefing, the transcript (review) and the studio.

Each page is driven through the real app shell (AppTest) with a published scenario and trainee
turns full of payloads; every piece of Markdown the page renders must hold the escaped form
(``ui.context.escape_md``) and never the live one. A source scan is the second line of defence.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator import studio
from simulator.store.authoring import AuthoringStore
from tests.app.page_support import open_page
from tests.scenario_factory import make_scenario
from ui.context import escape_md

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](http://evil/x.png)",
)
EVIL = " ".join(PAYLOADS)
#: What must never reach the Markdown renderer unescaped (a backslash before it makes it text).
LIVE = (
    re.compile(r"(?<!\\)<(script|img|/script)"),
    re.compile(r"(?<!\\)\]\((javascript|http)"),
    re.compile(r"(?<!\\)!(?<!\\)\[x"),
    re.compile(r"(?<!\\)\[click(?<!\\)\]"),
    re.compile(r"http://evil"),
)
MARKDOWN_KINDS = {"Markdown", "Caption", "Title", "Subheader", "Header", "Error", "Warning", "Info", "Success",
                  "Toast", "Exception", "Text"}


def leaves(node) -> list:
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    return [leaf for child in children.values() for leaf in leaves(child)]


def rendered_markdown(at: AppTest) -> list[str]:
    """The Markdown source of every text element on the page (main area and sidebar)."""
    return [
        str(e.value)
        for e in leaves(at.main) + leaves(at.sidebar)
        if type(e).__name__ in MARKDOWN_KINDS and isinstance(getattr(e, "value", None), str)
    ]


def assert_inert(at: AppTest, *expected: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = rendered_markdown(at)
    for text in texts:
        for live in LIVE:
            assert not live.search(text), f"live {live.pattern!r} rendered in {text!r}"
    joined = "\n".join(texts)
    for value in expected:
        assert escape_md(value) in joined, f"escaped {value!r} not found"
    # raw HTML: only ui/html.py's fixed pieces, and no user text inside them
    pieces = ('<div class="tenang-mood-bar"', "<style>.st-key-", '<script>fetch("/_tenang/',
              '<style>[data-testid="stChatMessage"]{scroll-margin-top:4rem}</style><script>')
    for block in at.get("html"):
        body = str(block.proto.body)
        assert body.startswith(pieces), f"unexpected raw HTML: {body[:80]!r}"
        for value in expected:
            assert value not in body


@pytest.fixture
def evil_scenario(repo, make_user):
    """A published authored scenario whose every free text field holds the payloads."""
    trainer = make_user("tia", "trainer")
    scenario = make_scenario(
        id="evil-scn",
        title=f"Title {EVIL}",
        sector=f"sector {PAYLOADS[2]}",
        briefing={"role": f"Role {EVIL}", "setting": f"Setting {EVIL}", "goal": f"Goal {EVIL}"},
        persona={"name": f"Mr {PAYLOADS[3]}"},
        opening=f"Opening {EVIL}",
    )
    store = AuthoringStore(repo)
    store.save_version("evil-scn", "en", studio.to_yaml(scenario), trainer.id)
    store.set_published("evil-scn", "en", 1)
    return trainer, scenario


def test_scenario_text_is_inert_in_the_list_and_briefing(app, make_user, evil_scenario):
    trainee = make_user("ana", "trainee")
    at = open_page(app(trainee), "views/practice.py")
    assert_inert(at, f"Title {EVIL}", f"Setting {EVIL}")
    at = open_page(app(trainee), "views/practice.py", scenario="evil-scn", lang="en")
    assert_inert(at, f"Title {EVIL}", f"Role {EVIL}", f"Setting {EVIL}", f"Goal {EVIL}", f"Mr {PAYLOADS[3]}")


def test_url_parameters_are_inert_on_the_briefing(app, make_user):
    at = open_page(app(make_user("ana", "trainee")), "views/practice.py", scenario=EVIL, lang="en")
    assert_inert(at, EVIL)


def test_trainee_text_is_inert_in_the_chat_and_the_transcript(app, make_user, repo, evil_scenario):
    trainer, _ = evil_scenario
    trainee = make_user("ana", "trainee")
    at = open_page(app(trainee), "views/practice.py", scenario="evil-scn", lang="en")
    at.button(key="start").click().run()
    for payload in PAYLOADS:
        at.chat_input(key="reply").set_value(f"Sorry {payload}").run()
    assert_inert(at, f"Opening {EVIL}", *(f"Sorry {p}" for p in PAYLOADS))
    session_id = at.query_params["session"]
    session_id = session_id[0] if isinstance(session_id, list) else session_id
    texts = [t.text for t in repo.get_turns(session_id)]
    assert texts[1] == f"Sorry {PAYLOADS[0]}"  # stored as typed; only the rendering is escaped

    if any(b.key == "end" for b in at.button):  # the customer may have walked away already
        at.button(key="end").click().run()
    assert at.metric, "the scorecard is shown"  # it quotes the trainee's turns
    assert_inert(at, f"Sorry {PAYLOADS[0]}")

    for viewer in (trainee, trainer):  # the transcript, as the owner and as staff
        at = open_page(app(viewer), "views/review.py", session=session_id)
        assert_inert(at, f"Title {EVIL}", f"Opening {EVIL}", *(f"Sorry {p}" for p in PAYLOADS))


def test_studio_preview_and_test_drive_are_inert(app, evil_scenario):
    trainer, _ = evil_scenario
    at = open_page(app(trainer), "views/studio.py", edit="evil-scn", lang="en")
    assert_inert(at, f"Title {EVIL}")
    at.button(key="drive_start").click().run()
    at.text_input(key="drive_reply").input(f"Sorry {PAYLOADS[1]} {PAYLOADS[2]}")
    next(b for b in at.button if getattr(b, "key", None) and "FormSubmitter:drive_form" in str(b.key) or
         getattr(b, "form_id", None) == "drive_form").click()
    at.run()
    assert_inert(at, f"Title {EVIL}", f"Opening {EVIL}", f"Sorry {PAYLOADS[1]} {PAYLOADS[2]}")


def test_studio_unknown_id_from_the_url_is_inert(app, make_user):
    at = open_page(app(make_user("tia", "trainer")), "views/studio.py", edit=EVIL, lang="en")
    assert_inert(at, EVIL)


# --------------------------------------------------------------------------- source scan

SOURCES = [ROOT / "streamlit_app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "views").glob("*.py"))]
RENDERERS = {"markdown", "write", "caption", "title", "header", "subheader", "info", "warning", "error",
             "success", "toast", "write_stream", "page_link", "button", "expander", "tabs", "metric"}
#: Attribute chains that hold user- or scenario-authored text.
AUTHORED = re.compile(
    r"(^|\.)(text|title|setting|goal|feedback|better|quote|summary|sector|notice|opening|reveal"
    r"|user_name|author_name|group_name|persona\.name|briefing\.role|trainee\.name|user\.name|admin\.name)$"
)
SAFE_CALLS = {"escape_md", "len", "int", "float", "round", "outcome_label", "temperament_label", "role_label"}


def _unsafe_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RENDERERS):
            continue
        for arg in [*node.args, *(k.value for k in node.keywords if k.arg in (None, "label", "body", "text"))]:
            for sub in ast.walk(arg):
                if not isinstance(sub, ast.Attribute) or not AUTHORED.search(ast.unparse(sub)):
                    continue
                up, safe = parents.get(sub), False
                while up is not None and up is not node:
                    if isinstance(up, ast.Call) and getattr(up.func, "id", getattr(up.func, "attr", None)) in SAFE_CALLS:
                        safe = True
                        break
                    up = parents.get(up)
                if not safe:
                    problems.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {ast.unparse(sub)} in {node.func.attr}()")
    return problems


def test_no_authored_text_reaches_markdown_unescaped():
    problems = [p for path in SOURCES for p in _unsafe_uses(path)]
    assert not problems, "\n".join(problems)


def test_unsafe_allow_html_and_raw_html_are_never_used():
    """Raw HTML only in ui/html.py, whose few fixed pieces take numbers, constants, escaped
    interface words and JSON (checked below), never user or scenario text."""
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source, path
        assert "components.html(" not in source, path
        if path.name != "html.py" or path.parent.name != "ui":
            assert "st.html(" not in source, path


def test_the_raw_html_pieces_escape_what_they_are_given(monkeypatch):
    from ui import html as raw_html

    shown: list[str] = []
    monkeypatch.setattr(raw_html.st, "html", lambda body, **_: shown.append(body))
    raw_html.mood_bar(9.9, higher_is_better=False, words={"good": "x", "mid": "y", "bad": "<img src=x onerror=alert(1)>"})
    assert "<img" not in shown[-1] and "&lt;img" in shown[-1] and 'data-level="bad"' in shown[-1]
    raw_html.post_to("/_tenang/session", {"code": "</script><script>alert(1)</script>"})
    assert shown[-1].count("<script>") == 1 and "</script><script>" not in shown[-1]
    with pytest.raises(ValueError):
        raw_html.sticky("x{}</style><script>")


def test_streamed_model_reply_is_inert(app, make_user, repo, server, monkeypatch):
    """In LLM mode the reply streams through ``st.write_stream`` (Markdown): a model talked into
    sending a link or an image (prompt injection) must not get it rendered."""
    import streamlit

    from tests.llm.fake_openai import Reply

    for key, value in {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "sk-test-0123456789abcdef",
                       "TENANG_CUSTOMER_MODEL": "fake-customer", "TENANG_LLM_TIMEOUT": "2",
                       "TENANG_LLM_MAX_RETRIES": "0", "TENANG_LLM_COOLDOWN": "0"}.items():
        monkeypatch.setenv(key, value)
    server.script(customer=[Reply(f"Look here {PAYLOADS[3]} and {PAYLOADS[2]} {PAYLOADS[0]}")])
    streamed: list[str] = []
    real = streamlit.write_stream

    def recording(stream, *args, **kwargs):
        def tee():
            for chunk in stream:
                streamed.append(chunk)
                yield chunk
        return real(tee(), *args, **kwargs)

    monkeypatch.setattr(streamlit, "write_stream", recording)
    at = open_page(app(make_user("ana", "trainee")), "views/practice.py", scenario="water-bill-surge", lang="en")
    at.button(key="start").click().run()
    at.chat_input(key="reply").set_value("I'm so sorry about the bill.").run()
    assert server.of_kind("customer"), "the model was asked"
    text = "".join(streamed)
    assert text, "the reply was streamed"
    for live in LIVE:
        assert not live.search(text), f"live {live.pattern!r} streamed in {text!r}"
    assert escape_md(PAYLOADS[3]) in text
    assert_inert(at, PAYLOADS[3])  # and drawn again from the database, escaped


def test_bare_urls_and_addresses_do_not_become_links():
    """GitHub-flavoured Markdown links "https://...", "www...." and "a@b.c" even when escaped
    (its link finder works on the decoded text); escape_md breaks them with an invisible joiner.
    The pattern is the one remark-gfm uses (mdast-util-gfm-autolink-literal)."""
    import re as _re

    from ui.context import WORD_JOINER, escape_md

    text = "see https://evil.example/x, WWW.evil.example and ana@evil.example"
    shown = _re.sub(r"\\(.)", r"\1", escape_md(text))
    assert not _re.search(r"(?i)(https?://|www(?=\.))", shown)
    assert not _re.search(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", shown)
    assert shown.replace(WORD_JOINER, "") == text  # the reader sees the same words
