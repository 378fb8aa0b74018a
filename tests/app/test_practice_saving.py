"""The practice page when the database cannot save a turn: a clear message, the text kept."""

from __future__ import annotations

from simulator.session import SavingFailed, SessionService
from tests.app.test_practice import chat, started
from ui.i18n import translate


def test_saving_failed_shows_the_message_and_keeps_the_text(app, make_user, monkeypatch):
    at = started(app, make_user("ana", "trainee"))
    typed = "I'm so sorry, let me check the meter reading for you."

    def database_down(self, session_id, text):
        raise SavingFailed(text)

    monkeypatch.setattr(SessionService, "say", database_down)
    at.chat_input(key="reply").set_value(typed).run()
    assert not at.exception
    assert [e.value for e in at.error] == [translate("input_error_saving_failed", "en")]
    assert [c.value for c in at.code] == [typed]  # shown for copying: the chat input has cleared
    assert len(chat(at)) == 1  # only the customer's opening: nothing half-stored


def test_refusals_are_said_in_the_interface_language(app, make_user, repo):
    user = make_user("sari", "trainee")
    repo.set_user_lang(user.id, "id")
    at = started(app, user)
    at.chat_input(key="reply").set_value("x" * 1001).run()
    assert [e.value for e in at.error] == ["Pesannya 1001 karakter; batasnya 1000 karakter."]
