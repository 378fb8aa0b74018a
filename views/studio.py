"""Scenario Studio (/studio): trainers and admins author, test-drive, check, version, publish,
import/export and assign scenarios. Everyone else gets "not allowed" (checked here, on the server).

URL states: no parameters -> the list (with import/export and assignments); ``?edit=<id>&lang=<l>``
-> that scenario (built-in: read-only with duplicate and self-play); ``?new=1`` -> a new scenario.
UI only: validation, diffs, zips live in ``simulator.studio``; data in ``simulator.store.authoring``.
"""

from __future__ import annotations

import hashlib

import streamlit as st
import yaml

from simulator.customers.scripted import ScriptedCustomer
from simulator.rubric import load_rubric
from simulator.scenario import (
    LANGUAGES,
    Fault,
    ReferralTarget,
    Scenario,
    ScenarioError,
    ScenarioWarning,
    Situation,
    Temperament,
)
from simulator.selfplay import selfplay
from simulator.session import InputError, SessionService
from simulator.store.repository import ConflictError
from simulator import studio
from ui import formatting as fmt
from ui.context import authoring, escape_md, input_error, library, repository, require_role, t, ui_lang

user = require_role("trainer", "admin")
repo = repository()
store = authoring()
lib = library()
params = st.query_params

DRAFT, KEY, RAW = "st_draft", "st_key", "st_yaml"
FORM = "sf_"
CHOICES = {
    "lang": list(LANGUAGES),
    "persona.temperament": [v.value for v in Temperament],
    "fault": [v.value for v in Fault],
    "handling.referral.target": [v.value for v in ReferralTarget],
}
LONG = {"summary", "opening", "briefing.role", "briefing.setting", "briefing.goal", "persona.speaking_style",
        "handling.referral.contact"}


def go(**query: str) -> None:
    st.query_params.from_dict({k: v for k, v in query.items() if v})
    st.rerun()


def flash(message: str, kind: str = "success") -> None:
    st.session_state["st_flash"] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop("st_flash", (None, None))
    if message:
        getattr(st, kind)(message)


def problem_lines(problems: list) -> list[str]:
    return [line.replace("`", "'") for line in studio.format_problems(problems)]


def _maybe(key: str, **values) -> str | None:
    try:
        return t(key, **values)
    except KeyError:
        return None


def field_label(path: str) -> str:
    """A field's name in the interface language (never its YAML key)."""
    parts = path.split(".")
    if parts[0] == "hidden_facts" and len(parts) >= 2 and parts[1].isdigit():
        head = f"{t('sf_hidden_facts')} {int(parts[1]) + 1}"
        return head if len(parts) == 2 else f"{head}: {_maybe('sf_hidden_facts_' + parts[2]) or t('sf_hidden_facts')}"
    if parts[0] == "lines" and len(parts) >= 2:
        return f"{t('sf_lines')}: {_maybe('sf_lines_' + parts[1]) or t('sf_lines')}"
    return _maybe("sf_" + "_".join(parts)) or _maybe("sf_" + "_".join(parts[:-1])) or t("sf_root")


def field_help(path: str) -> str | None:
    parts = path.split(".")
    if parts[0] == "hidden_facts" and len(parts) == 3:
        return _maybe("sfh_hidden_facts_" + parts[2])
    return _maybe("sfh_" + "_".join(parts))


CHOICE_KEYS = {"lang": "lang", "persona.temperament": "temperament", "fault": "fault",
               "handling.referral.target": "target"}


def choice_label(key: str, value: str) -> str:
    return _maybe(f"sfc_{CHOICE_KEYS[key]}_{value}") or str(value)


def _number(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.number(value, ui_lang(), 0 if float(value).is_integer() else 1)
    return str(value)


def explain(finding: studio.Finding) -> str:
    """One problem in plain words: which field, where in the text, what to do."""
    ctx = {k: _number(v) for k, v in finding.ctx.items()}
    code = {"int_parsing": "whole_number", "int_type": "whole_number", "int_from_float": "whole_number",
            "float_parsing": "number", "float_type": "number", "bool_parsing": "bool", "bool_type": "bool",
            "string_type": "text", "list_type": "list", "dict_type": "section", "model_type": "section",
            "model_attributes_type": "section"}.get(finding.code, finding.code)
    if code == "enum":
        key = finding.field.split(".")
        key = ".".join(p for p in key if not p.isdigit())
        options = CHOICES.get(key, [])
        ctx["choices"] = ", ".join(choice_label(key, o) for o in options) if key in CHOICE_KEYS else ", ".join(options)
    if code == "too_short":
        ctx.setdefault("min_length", "1")
    message = _maybe(f"sferr_{code}", **ctx) or t("sferr_other")
    label = t("sf_yaml") if finding.field == "(yaml)" else field_label(finding.field)
    where = t("sferr_where", line=finding.line, column=finding.column) if finding.line else None
    return f"{label}" + (f" ({where})" if where else "") + f": {message}"


def _quoted(words: list) -> str:
    return ", ".join(f"“{word}”" for word in words)


def warning_text(warning: ScenarioWarning) -> str:
    """A self-play or authoring warning in the interface language, worded from its code and
    params (the core's English message is for the command line)."""
    p = warning.params
    values: dict[str, object] = {
        k: _quoted(v) if isinstance(v, list) else fmt.MISSING if v is None else _number(v) for k, v in p.items()
    }
    if "field" in p:
        values["field"] = field_label(p["field"])
    if "bot" in p:
        values["bot"] = _maybe(f"studio_bot_{p['bot']}") or p["bot"]
    if "outcome" in p:
        values["outcome"] = outcome_label(p["outcome"])
    if p.get("target"):
        values["target"] = choice_label("handling.referral.target", p["target"])
    if "example" in p:
        values["example"] = t("studio_warn_example", text=p["example"]) if p["example"] else ""
    if "missing" in p:
        values["missing"] = "".join("; " + t(f"studio_warn_missing_{m}", **values) for m in p["missing"])
    if "reasons" in p:
        values["reasons"] = "; ".join(t(f"studio_warn_reason_{r}", **values) for r in p["reasons"])
    return t(f"studio_warn_{warning.code}", **values)


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# --------------------------------------------------------------------------- the list


def scenario_rows() -> list[dict]:
    stats = store.play_stats()
    rows = []
    builtin = set(lib.builtin_ids())
    for scenario in lib.base.all():
        s = stats.get((scenario.id, scenario.lang))
        rows.append(
            {
                t("studio_col_id"): scenario.id,
                t("studio_col_title"): scenario.title,
                t("studio_col_lang"): choice_label("lang", scenario.lang),
                "_lang": scenario.lang,
                t("studio_col_temperament"): choice_label("persona.temperament", scenario.persona.temperament.value),
                t("studio_col_difficulty"): scenario.difficulty,
                t("studio_col_source"): t("studio_source_builtin"),
                t("studio_col_state"): t("studio_state_published", version="—").replace(" (v—)", ""),
                t("studio_col_played"): s.played if s else 0,
                t("studio_col_average"): fmt.number(s.average if s else None, ui_lang()),
            }
        )
    for summary in store.summaries():
        if summary.scenario_id in builtin:
            continue
        record = store.get_version(summary.scenario_id, summary.lang, summary.latest)
        try:
            scenario = studio.parse_scenario(record.yaml_text, summary.scenario_id)
            title, temperament, difficulty = scenario.title, scenario.persona.temperament.value, scenario.difficulty
        except ScenarioError:
            title, temperament, difficulty = summary.scenario_id, "?", None
        s = stats.get((summary.scenario_id, summary.lang))
        state = (
            t("studio_state_published", version=summary.published_version)
            if summary.published_version
            else t("studio_state_draft")
        )
        rows.append(
            {
                t("studio_col_id"): summary.scenario_id,
                t("studio_col_title"): title,
                t("studio_col_lang"): choice_label("lang", summary.lang),
                "_lang": summary.lang,
                t("studio_col_temperament"): choice_label("persona.temperament", temperament),
                t("studio_col_difficulty"): difficulty,
                t("studio_col_source"): t("studio_source_authored") + f" v{summary.latest}",
                t("studio_col_state"): state,
                t("studio_col_played"): s.played if s else 0,
                t("studio_col_average"): fmt.number(s.average if s else None, ui_lang()),
            }
        )
    return rows


def list_tab() -> None:
    if st.button(t("studio_new"), key="studio_new", type="primary", icon=":material/add:"):
        go(new="1", lang=ui_lang())  # the template speaks the interface language
    rows = scenario_rows()
    st.dataframe([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows], hide_index=True,
                 key="studio_table")
    options = [f"{r[t('studio_col_id')]}|{r['_lang']}" for r in rows]
    labels = {o: f"{r[t('studio_col_title')]} ({r[t('studio_col_lang')]})" for o, r in zip(options, rows)}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    choice = left.selectbox(t("studio_open_label"), options, format_func=labels.__getitem__, key="studio_pick")
    if right.button(t("studio_open"), key="studio_open") and choice:
        sid, lang = choice.split("|")
        go(edit=sid, lang=lang)


def import_tab() -> None:
    files = st.file_uploader(t("studio_import_label"), accept_multiple_files=True, key="studio_upload")
    if st.button(t("studio_import_go"), key="studio_import"):
        if not files:
            st.warning(t("studio_import_none"))
        else:
            do_import([studio.Upload(f.name, f.getvalue()) for f in files])
    st.divider()
    items = []
    for summary in store.summaries():
        record = store.get_version(summary.scenario_id, summary.lang, summary.latest)
        items.append((record.scenario_id, record.lang, record.yaml_text))
    if items:
        st.download_button(
            t("studio_export_all"), studio.export_zip(items), file_name="tenang-scenarios.zip",
            mime="application/zip", key="studio_export", icon=":material/download:",
        )
    else:
        st.caption(t("studio_export_none"))


def do_import(uploads: list[studio.Upload]) -> None:
    try:
        found = studio.parse_uploads(uploads, lib.builtin_ids())
        saved = store.save_many([(s.id, s.lang, text) for s, text in found], user.id)
    except ScenarioError as error:
        st.error(t("studio_import_refused"))
        st.code("\n".join(studio.format_problems(error.problems)), language=None)
        return
    except (ConflictError, ValueError) as error:
        st.error(t("studio_import_refused"))
        st.code(str(error), language=None)
        return
    names = escape_md(", ".join(f"{r.scenario_id} ({r.lang}) v{r.version}" for r in saved))
    st.success(t("studio_import_done", n=len(saved), names=names))


def assign_tab() -> None:
    st.subheader(t("studio_assign_heading"))
    scenarios = {f"{s.id}|{s.lang}": f"{s.title} ({choice_label('lang', s.lang)})" for s in lib.all()}
    choice = st.selectbox(t("studio_assign_scenario"), list(scenarios), format_func=scenarios.__getitem__, key="as_scenario")
    kinds = {"user": t("studio_assign_trainee"), "group": t("studio_assign_group")}
    kind = st.radio(t("studio_assign_to"), list(kinds), format_func=kinds.__getitem__, horizontal=True, key="as_kind")
    trainees = {u.id: u.name for u in repo.list_users() if u.role == "trainee" and u.active}
    groups = {g.id: g.name for g in store.groups()}
    who = None
    if kind == "user":
        if trainees:
            who = st.selectbox(t("studio_assign_who_trainee"), list(trainees), format_func=trainees.__getitem__, key="as_user")
        else:
            st.caption(t("studio_assign_no_trainees"))
    elif groups:
        who = st.selectbox(t("studio_assign_who_group"), list(groups), format_func=groups.__getitem__, key="as_group")
    else:
        st.caption(t("studio_assign_no_groups"))
    due = st.date_input(t("studio_assign_due"), key="as_due") if st.checkbox(t("studio_assign_use_due"), key="as_use_due") else None
    mark = (
        st.number_input(t("studio_assign_pass"), 0.0, 100.0, 70.0, step=5.0, key="as_pass")
        if st.checkbox(t("studio_assign_use_pass"), key="as_use_pass")
        else None
    )
    if st.button(t("studio_assign_go"), key="as_go", type="primary", disabled=who is None or not choice):
        sid, lang = choice.split("|")
        store.assign(
            sid, lang, user_id=who if kind == "user" else None, group_id=who if kind == "group" else None,
            due_date=due, pass_mark=mark, created_by=user.id,
        )
        st.success(t("studio_assign_done"))
    st.subheader(t("studio_assign_list"))
    current = store.assignments()
    if not current:
        st.caption(t("studio_assign_none"))
    titles = {(sc.id, sc.lang): sc.title for sc in lib.all()}
    for a in current:
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(
            t(
                "studio_assign_row",
                scenario=escape_md(titles.get((a.scenario_id, a.lang), a.scenario_id)),
                lang=choice_label("lang", a.lang),
                who=escape_md(a.user_name or a.group_name or "?"),
                due=fmt.day(a.due_date, ui_lang()) if a.due_date else t("studio_none"),
                mark=fmt.number(a.pass_mark, ui_lang(), 0) if a.pass_mark is not None else t("studio_none"),
            )
        )
        if right.button(t("studio_assign_remove"), key=f"as_del_{a.id}"):
            store.delete_assignment(a.id)
            st.rerun()


# --------------------------------------------------------------------------- the editor: state


def load_form(data: dict) -> None:
    for key in [k for k in st.session_state if str(k).startswith(FORM)]:
        del st.session_state[key]
    values = studio.form_values(data)
    for situation in Situation:
        values.setdefault(f"lines.{situation.value}", "")
    for key, value in values.items():
        kind = studio.FORM_FIELDS.get(key) or studio.FACT_FIELDS.get(key.rsplit(".", 1)[-1])
        if key in CHOICES and value not in CHOICES[key]:
            value = CHOICES[key][0]
        if kind == "bool":
            value = bool(value)
        if kind == "text" and value is None:
            value = ""
        if kind == "list":
            value = [v for v in value if v in RUBRIC_KEYS]
        if key == "hidden_facts.count":
            value = int(value)
        st.session_state[FORM + key] = value


def set_draft(text: str) -> None:
    """Make ``text`` the draft: the raw editor shows it and the form is filled from it."""
    st.session_state[DRAFT] = text
    st.session_state[RAW] = text
    try:
        scenario = studio.parse_scenario(text)
        data = scenario.model_dump(mode="json", exclude_none=True)
    except ScenarioError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
    if isinstance(data, dict):
        load_form(data)
        st.session_state["st_form_ok"] = True
    else:
        st.session_state["st_form_ok"] = False


def yaml_changed() -> None:
    set_draft(st.session_state[RAW])


def _untouched_template(values: dict) -> str | None:
    """A new scenario whose language was just switched before anything else was edited: the
    template in the new language (so an Indonesian scenario never starts from English text)."""
    lang = values.get("lang")
    if st.session_state.get(KEY) != ("new", "") or lang not in LANGUAGES:
        return None
    sid = values.get("id") or "new-scenario"
    for other in LANGUAGES:
        if other == lang:
            continue
        try:
            before = studio.parse_scenario(studio.to_yaml(studio.form_data({**values, "lang": other})))
            if before == studio.parse_scenario(studio.skeleton(sid, other)):
                return studio.skeleton(sid, lang)
        except (ScenarioError, ValueError):
            return None
    return None


def form_changed() -> None:
    values = {k[len(FORM):]: v for k, v in st.session_state.items() if str(k).startswith(FORM)}
    template = _untouched_template(values)
    if template is not None:
        set_draft(template)
        return
    text = studio.to_yaml(studio.form_data(values))
    st.session_state[DRAFT] = text
    st.session_state[RAW] = text


RUBRIC_KEYS = list(load_rubric().dimensions)


# --------------------------------------------------------------------------- the editor: parts


def form_tab() -> None:
    if not st.session_state.get("st_form_ok"):
        st.info(t("studio_form_invalid_data"))
        return
    left, right = st.columns([3, 2])
    dims = {key: dim.label.get(ui_lang()) for key, dim in load_rubric().dimensions.items()}
    with left:
        # The number of hidden facts changes which fields the form has: outside the form.
        st.number_input(t("studio_form_fact_count"), min_value=0, max_value=20, step=1,
                        key=FORM + "hidden_facts.count", on_change=form_changed)
        form = st.form("studio_form", border=False)  # typing reruns nothing until "Apply"

        def field(key: str) -> None:
            kind = studio.FORM_FIELDS.get(key) or studio.FACT_FIELDS[key.rsplit(".", 1)[-1]]
            label, help_text = field_label(key), field_help(key)
            k = FORM + key
            if key in CHOICES:
                names = {v: choice_label(key, v) for v in CHOICES[key]}  # worked out now, not later
                st.selectbox(label, CHOICES[key], key=k, help=help_text, format_func=names.__getitem__)
            elif kind == "bool":
                st.checkbox(label, key=k, help=help_text)
            elif kind == "int":
                st.number_input(label, step=1, key=k, help=help_text)
            elif kind == "float":
                st.number_input(label, min_value=0.0, max_value=10.0, step=0.5, key=k, help=help_text)
            elif kind == "list":
                st.multiselect(label, RUBRIC_KEYS, key=k, help=help_text, format_func=lambda v: dims.get(v, v),
                               placeholder=t("dash_choose"), select_all=ui_lang() != "id")
            elif kind == "lines":
                st.text_area(label, key=k, help=help_text or t("studio_form_lines_hint"), height=90)
            elif key in LONG or key.endswith(".reveal"):
                st.text_area(label, key=k, height=80, help=help_text)
            else:
                st.text_input(label, key=k, help=help_text)

        with form:
            st.form_submit_button(t("studio_form_apply"), type="primary", on_click=form_changed, key="studio_form_apply_top")
            with st.expander(t("studio_form_general"), expanded=True):
                for key in ("id", "lang", "title", "summary", "sector", "difficulty", "max_turns", "opening",
                            "problem_cues", "fault", "learning_points"):
                    field(key)
            with st.expander(t("studio_form_briefing")):
                for key in ("briefing.role", "briefing.setting", "briefing.goal"):
                    field(key)
            with st.expander(t("studio_form_persona")):
                for key in ("persona.name", "persona.age", "persona.temperament", "persona.mood.anger",
                            "persona.mood.trust", "persona.mood.threat", "persona.speaking_style", "persona.provoked_by"):
                    field(key)
            with st.expander(t("studio_form_facts")):
                for i in range(int(st.session_state.get(FORM + "hidden_facts.count") or 0)):
                    st.markdown(f"**{t('studio_form_fact', n=i + 1)}**")
                    for name, kind in studio.FACT_FIELDS.items():
                        key = f"hidden_facts.{i}.{name}"
                        st.session_state.setdefault(FORM + key, False if kind == "bool" else "")
                        field(key)
            with st.expander(t("studio_form_handling")):
                for key in ("handling.referral.target", "handling.referral.party", "handling.referral.contact",
                            "handling.referral.accept_cues", "handling.compensation_due", "handling.time_frame",
                            "handling.max_days", "handling.needs_cause", "handling.key_behaviours"):
                    field(key)
            with st.expander(t("studio_form_lines")):
                for situation in Situation:
                    st.text_area(field_label(f"lines.{situation.value}"), key=FORM + f"lines.{situation.value}", height=68,
                                 help=t("studio_form_lines_hint"))
            st.form_submit_button(t("studio_form_apply"), type="primary", on_click=form_changed, key="studio_form_apply")
    with right:
        st.markdown(f"**{t('studio_preview')}**")
        st.code(st.session_state[DRAFT], language="yaml")


def yaml_tab() -> None:
    st.text_area(t("studio_yaml_label"), key=RAW, on_change=yaml_changed, height=520, max_chars=studio.UPLOAD_MAX)


@st.cache_resource(show_spinner=False)
def _drive_service(url: str) -> SessionService:
    return SessionService(repo, lib, engine=ScriptedCustomer())


def drive_service() -> SessionService:
    return _drive_service(str(repo.engine.url))


def drive_tab(sid: str, lang: str, latest) -> None:
    if latest is None:
        st.info(t("studio_drive_save_first"))
        return
    if latest.yaml_text != st.session_state[DRAFT]:
        st.warning(t("studio_drive_unsaved"))
    st.caption(t("studio_drive_version", version=latest.version))
    svc = drive_service()
    session_id = st.session_state.get("st_drive")
    record = repo.get_session(session_id) if session_id else None
    if record is not None and (record.scenario_id, record.lang) != (sid, lang):
        record = None
    label = t("studio_drive_restart") if record else t("studio_drive_start")
    if st.button(label, key="drive_start", icon=":material/play_arrow:"):
        if record is not None and record.status == "active":
            svc.end(record.id)
        new = svc.start(sid, lang, user_id=user.id, version=latest.version)
        st.session_state["st_drive"] = new.id
        st.rerun()
    if record is None:
        return
    turns = svc.transcript(record.id)
    chat, side = st.columns([3, 1])
    with chat:
        for turn in turns:
            who = "assistant" if turn.speaker == "customer" else "user"
            with st.chat_message(who):
                st.markdown(escape_md(turn.text))
                if turn.speaker == "trainee":
                    analysis = turn.analysis or {}
                    tags = analysis.get("tags") or []
                    names = [_maybe(f"review_tag_{tag}") or tag for tag in tags]
                    caption = t("studio_drive_tags", tags=", ".join(names)) if tags else t("studio_drive_no_tags")
                    if analysis.get("referral_target"):
                        target = analysis["referral_target"]
                        caption += " · " + t("studio_drive_referral", target=_maybe(f"sfc_target_{target}") or target)
                    st.caption(caption)
        if record.status == "active":
            with st.form("drive_form", clear_on_submit=True):
                text = st.text_input(t("studio_drive_reply"), key="drive_reply", max_chars=1000)
                sent = st.form_submit_button(t("studio_drive_send"))
            if sent:
                try:
                    svc.say(record.id, text)
                except InputError as error:
                    st.error(input_error(error))
                else:
                    st.rerun()
            if st.button(t("studio_drive_end"), key="drive_end"):
                svc.end(record.id)
                st.rerun()
        else:
            st.success(t("studio_drive_ended", outcome=outcome_label(record.outcome), overall=record.overall or 0.0))
    with side:
        mood = next((turn.mood for turn in reversed(turns) if turn.mood), {}) or {}
        st.markdown(f"**{t('studio_mood')}**")
        for name in ("anger", "trust", "threat"):
            value = float(mood.get(name, 0.0))
            st.progress(min(max(value / 10, 0.0), 1.0), text=f"{t('practice_' + name)}: {value:.1f} / 10")


def outcome_label(outcome: str | None) -> str:
    return (_maybe(f"practice_outcome_{outcome}") if outcome else None) or t("practice_outcome_none")


def selfplay_tab(scenario: Scenario | None) -> None:
    st.caption(t("studio_selfplay_help"))
    if scenario is None:
        st.info(t("studio_selfplay_invalid"))
        return
    draft_id = fingerprint(st.session_state[DRAFT])
    if st.button(t("studio_selfplay_run"), key="selfplay_run", icon=":material/smart_toy:"):
        bar = st.progress(0.0, text=t("studio_selfplay_run"))

        def progress(done: int, total: int, name: str | None) -> None:
            bar.progress(done / total if total else 1.0, text=t("studio_selfplay_progress", done=min(done + 1, total), total=total, name=name or "—"))

        report = selfplay(scenario, progress=progress)
        bar.progress(1.0, text=t("studio_selfplay_done"))
        st.session_state["st_selfplay"] = (draft_id, report)
    stored = st.session_state.get("st_selfplay")
    if not stored or stored[0] != draft_id:
        return
    report = stored[1]
    st.dataframe(
        [
            {t("studio_col_bot"): _maybe(f"studio_bot_{name}") or name,
             t("studio_col_overall"): fmt.number(bot.overall, ui_lang(), 0),
             t("studio_col_outcome"): outcome_label(bot.outcome)}
            for name, bot in report.bots.items()
        ],
        hide_index=True,
        key="selfplay_table",
    )
    if report.warnings:
        for warning in report.warnings:
            st.warning(escape_md(warning_text(warning)))
    else:
        st.success(t("studio_selfplay_ok"))


def versions_tab(sid: str, lang: str, versions: list) -> None:
    if not versions:
        st.caption(t("studio_versions_none"))
        return
    st.dataframe(
        [
            {
                t("studio_col_version"): v.version,
                t("studio_col_author"): v.author_name or "—",
                t("studio_col_when"): v.created_at.strftime("%Y-%m-%d %H:%M"),
                t("studio_col_state"): "✓" if v.published else "",
            }
            for v in versions
        ],
        hide_index=True,
        key="versions_table",
    )
    numbers = [v.version for v in versions]
    by_number = {v.version: v for v in versions}
    if len(numbers) > 1:
        a, b = st.columns(2)
        old = a.selectbox(t("studio_diff_from"), numbers, index=1, key="diff_old")
        new = b.selectbox(t("studio_diff_to"), numbers, index=0, key="diff_new")
        text = studio.diff(by_number[old].yaml_text, by_number[new].yaml_text, f"v{old}", f"v{new}")
        if text:
            st.code(text, language="diff")
        else:
            st.caption(t("studio_diff_same"))
    pick = st.selectbox(t("studio_restore_pick"), numbers, key="restore_pick")
    a, b = st.columns(2)
    if a.button(t("studio_restore"), key="restore"):
        saved = store.save_version(sid, lang, by_number[pick].yaml_text, user.id)
        set_draft(saved.yaml_text)
        flash(t("studio_restored", old=pick, version=saved.version))
        st.rerun()
    if b.button(t("studio_publish_this"), key="publish_this"):
        store.set_published(sid, lang, pick)
        flash(t("studio_published_done", version=pick))
        st.rerun()


# --------------------------------------------------------------------------- the editor


def open_editor(sid: str | None, lang: str | None, new: bool) -> None:
    """Load the draft when another scenario is opened (or the page is reloaded)."""
    key = ("new", "") if new else (sid, lang)
    if st.session_state.get(KEY) == key and DRAFT in st.session_state:
        return
    st.session_state[KEY] = key
    st.session_state.pop("st_selfplay", None)
    if new:
        text = studio.skeleton("new-scenario", lang if lang in LANGUAGES else "en")
    else:
        latest = store.latest(sid, lang)
        if latest is not None:
            text = latest.yaml_text
        else:
            text = studio.to_yaml(lib.base.get(sid, lang))
    set_draft(text)


def save_draft(sid: str | None, lang: str | None) -> None:
    text = st.session_state[DRAFT]
    source = f"{lang or 'new'}/{sid or 'new'}.yaml"
    scenario, problems = studio.validate(text, source, lib.builtin_ids())
    if scenario is None:
        st.error(t("studio_save_invalid"))
        return
    latest = store.latest(scenario.id, scenario.lang)
    if latest is not None and latest.yaml_text == text:
        flash(t("studio_save_unchanged", version=latest.version), "info")
        go(edit=scenario.id, lang=scenario.lang)
    saved = store.save_version(scenario.id, scenario.lang, text, user.id)
    message = t("studio_saved", version=saved.version)
    if sid and (scenario.id, scenario.lang) != (sid, lang):
        message += " " + t("studio_id_changed", id=scenario.id, lang=scenario.lang)
    flash(message)
    st.session_state[KEY] = (scenario.id, scenario.lang)
    go(edit=scenario.id, lang=scenario.lang)


@st.dialog(t("studio_duplicate"))
def duplicate_dialog(scenario: Scenario) -> None:
    new_id = st.text_input(t("studio_duplicate_id"), value=f"{scenario.id}-copy", key="dup_id")
    if st.button(t("studio_duplicate_go"), key="dup_go", type="primary"):
        try:
            copy = studio.duplicate(scenario, new_id.strip())
        except ValueError as error:
            st.error(escape_md(str(error)))
            return
        st.session_state[KEY] = ("new", "")
        set_draft(studio.to_yaml(copy))
        go(new="1", lang=copy.lang)


def editor(sid: str | None, lang: str | None, new: bool) -> None:
    builtin = not new and lib.is_builtin(sid, lang)
    if not new and not builtin and store.latest(sid, lang) is None:
        st.warning(t("studio_unknown", id=escape_md(sid), language=escape_md(lang)))
        if st.button(t("studio_back"), key="back_unknown"):
            go()
        return
    open_editor(sid, lang, new)
    if st.button(t("studio_back"), key="studio_back", icon=":material/arrow_back:"):
        for key in (KEY, DRAFT, RAW, "st_selfplay", "st_drive"):
            st.session_state.pop(key, None)
        go()
    show_flash()
    draft = st.session_state[DRAFT]
    source = f"{lang or 'new'}/{sid or 'new-scenario'}.yaml"
    scenario, problems = studio.validate(draft, source, [] if builtin else lib.builtin_ids())
    versions = [] if (new or builtin) else store.versions(sid, lang)
    latest = versions[0] if versions else None
    shown_id = sid or (scenario.id if scenario else "")  # a new draft is named by the id it has so far
    heading = f"{scenario.title if scenario else (sid or t('studio_new'))} · {shown_id} ({lang or ''})"
    st.subheader(escape_md(heading))

    if builtin:
        st.info(t("studio_builtin_note"))
    elif latest:
        st.caption(t("studio_status", version=latest.version, author=escape_md(latest.author_name or "—"),
                     when=latest.created_at.strftime("%Y-%m-%d %H:%M")))
        published = next((v.version for v in versions if v.published), None)
        st.caption(t("studio_published_is", version=published) if published else t("studio_published_none"))
        if latest.yaml_text != draft:
            st.caption(f":orange[{t('studio_unsaved')}]")
    else:
        st.caption(t("studio_status_new"))

    if problems:
        found = studio.findings(draft, [] if builtin else lib.builtin_ids())
        lines = [explain(f) for f in found] or problem_lines(problems)
        st.error(t("studio_invalid") + "\n\n" + "\n".join("- " + escape_md(line) for line in lines))
    else:
        st.success(t("studio_valid"))
        for warning in studio.authoring_warnings(scenario):
            st.warning(escape_md(warning_text(warning)))
        if studio.untranslated(draft):
            st.caption(t("studio_translate_left", n=studio.untranslated(draft)))

    row = st.container(horizontal=True)  # buttons take the width their words need, and wrap
    buttons = [row] * 5
    if not builtin and buttons[0].button(t("studio_save"), key="studio_save", type="primary", icon=":material/save:"):
        save_draft(sid, lang)
    if not builtin and latest is not None:
        published = any(v.published for v in versions)
        if buttons[1].button(t("studio_publish"), key="studio_publish", icon=":material/publish:"):
            store.set_published(sid, lang, latest.version)
            flash(t("studio_published_done", version=latest.version))
            st.rerun()
        if published and buttons[2].button(t("studio_unpublish"), key="studio_unpublish"):
            store.set_published(sid, lang, None)
            flash(t("studio_unpublished_done"))
            st.rerun()
    if scenario is not None:
        if buttons[3].button(t("studio_duplicate"), key="studio_duplicate", icon=":material/content_copy:"):
            duplicate_dialog(scenario)
        if not builtin and buttons[4].button(t("studio_translate"), key="studio_translate", help=t("studio_translate_help")):
            other = next(code for code in LANGUAGES if code != scenario.lang)
            if store.latest(scenario.id, other) is not None:
                flash(t("studio_translate_exists", lang=other), "info")
                go(edit=scenario.id, lang=other)
            scaffold = studio.translate_scaffold(scenario)
            st.session_state[KEY] = ("new", "")
            set_draft(scaffold)
            go(new="1", lang=other)
        st.download_button(
            t("studio_download_one"), draft.encode(), file_name=f"{scenario.id}.{scenario.lang}.yaml",
            mime="application/x-yaml", key="studio_download", icon=":material/download:",
        )

    tabs = st.tabs([t("studio_tab_yaml"), t("studio_tab_form"), t("studio_tab_drive"), t("studio_tab_selfplay"),
                    t("studio_tab_versions")], key="studio_editor_tabs")
    with tabs[0]:
        if builtin:
            st.code(draft, language="yaml")
        else:
            yaml_tab()
    with tabs[1]:
        if builtin:
            st.info(t("studio_builtin_note"))
        else:
            form_tab()
    with tabs[2]:
        if builtin:
            st.info(t("studio_builtin_note"))
        else:
            drive_tab(sid, lang, latest)
    with tabs[3]:
        selfplay_tab(scenario)
    with tabs[4]:
        versions_tab(sid, lang, versions)


# --------------------------------------------------------------------------- dispatch

st.title(t("studio_title"))
if params.get("new"):
    editor(None, params.get("lang") or "en", new=True)
elif params.get("edit"):
    editor(params["edit"], params.get("lang") or "en", new=False)
else:
    for key in (KEY, DRAFT, RAW, "st_selfplay"):
        st.session_state.pop(key, None)
    show_flash()
    list_tab_, import_tab_, assign_tab_ = st.tabs([t("studio_tab_list"), t("studio_tab_import"), t("studio_tab_assign")])
    with list_tab_:
        list_tab()
    with import_tab_:
        import_tab()
    with assign_tab_:
        assign_tab()
