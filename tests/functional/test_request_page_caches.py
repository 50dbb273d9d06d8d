"""What the request page keeps per process draws exactly what it drew without it.

The fresh action forms' fields (kept per form class, locale and choices), the dossier's
translated labels (per locale) and the audit trail's words (per locale and, for states, the
reader's role) must read as before in each language, follow a change of choices, and never
keep a reader's typed data.
"""

from __future__ import annotations

from flask import get_template_attribute, render_template_string
from flask_babel import force_locale

from app.domain.redaction import Relation
from app.forms.actions import build_action_form
from app.forms.dossier import FIELD_LABELS, SECTION_LABELS
from app.requests import action_panel
from app.requests.action_panel import ActionView, audit_rows, audit_rows_html, fresh_fields_html
from app.requests.presenters import translated_table
from app.workflow.definitions import REQUEST_WORKFLOW
from app.workflow.labels import MANUFACTURER_STATE_LABELS, state_label
from tests.factories import audit_entry

BODIES = [(1, "Regional HTA body of Lazio (Lazio)"), (2, "ARS Toscana (Toscana)")]
IRCCS = [(7, "IRCCS San Raffaele (Lombardia)"), (8, "IRCCS Gemelli (Lazio)")]


def _specs_with_fields():
    """One transition of the request workflow per trigger, those with data fields first."""
    seen, specs = set(), []
    for spec in sorted(REQUEST_WORKFLOW.transitions, key=lambda s: not s.fields):
        if spec.trigger not in seen:
            seen.add(spec.trigger)
            specs.append(spec)
    return specs


def _drawn(form, fields_html) -> str:
    """`action_list` drawing one action with `form` (and the kept fields, or None)."""
    action_list = get_template_attribute("actions/_macros.html", "action_list")
    view = ActionView(
        trigger=form.spec.trigger,
        label="Do it",
        help="",
        form=form,
        url="/requests/1/actions/x",
        fields_html=fields_html,
    )
    return str(action_list([view], "wf-action"))


def test_kept_action_fields_draw_as_the_template_draws_them(app):
    specs = _specs_with_fields()
    assert any(spec.fields for spec in specs)
    action_panel._FIELDS_HTML.clear()
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for spec in specs:
                form = build_action_form(spec, version=3, regional_bodies=BODIES, irccs=IRCCS)
                expected = _drawn(form, None)
                first = fresh_fields_html(form, BODIES, IRCCS)  # drawn and kept
                again = build_action_form(spec, version=3, regional_bodies=BODIES, irccs=IRCCS)
                kept = fresh_fields_html(again, BODIES, IRCCS)  # read back
                assert kept is first
                assert _drawn(form, first) == expected, (language, spec.trigger)
                assert _drawn(again, kept) == expected, (language, spec.trigger)


def test_kept_action_fields_follow_the_language_and_the_choices(app):
    spec = next(
        s for s in REQUEST_WORKFLOW.transitions if any(f.kind == "irccs_list" for f in s.fields)
    )
    action_panel._FIELDS_HTML.clear()
    with app.test_request_context():
        with force_locale("en"):
            english = fresh_fields_html(build_action_form(spec, irccs=IRCCS), (), IRCCS)
        with force_locale("it"):
            italian = fresh_fields_html(build_action_form(spec, irccs=IRCCS), (), IRCCS)
            more = [*IRCCS, (9, "IRCCS Rizzoli (Emilia-Romagna)")]
            grown = fresh_fields_html(build_action_form(spec, irccs=more), (), more)
    assert english != italian
    assert "Rizzoli" not in italian and "Rizzoli" in grown


def test_a_failed_form_is_drawn_with_what_was_typed_not_kept(app, client):
    """The panel keeps fields only for forms built for display: a posted form's input and
    errors are drawn by the template (action_views passes no kept HTML for it)."""
    spec = next(s for s in REQUEST_WORKFLOW.transitions if s.trigger == "suspend")
    action_panel._FIELDS_HTML.clear()
    with app.test_request_context(method="POST", data={"suspend-reason": "Typed by me"}):
        from flask import request

        posted = build_action_form(spec, version=1, formdata=request.form)
        posted.validate()
        views = action_panel.action_views(
            [_Available(spec)],
            version=1,
            url_for_trigger=lambda trigger: f"/x/{trigger}",
            failure=action_panel.FailedAction("request", 1, "suspend", posted),
            kind="request",
            obj=None,
            keep_fields=True,
        )
    assert views[0].fields_html is None
    assert not action_panel._FIELDS_HTML


class _Available:
    """What `action_availability` gives for an action nothing blocks."""

    def __init__(self, spec):
        self.spec = spec
        self.blocked = False
        self.blocked_by = []


def test_translated_dossier_labels_draw_as_the_lazy_labels(app):
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for table in (FIELD_LABELS, SECTION_LABELS):
                words = translated_table(table)
                assert words is translated_table(table)  # once per locale
                for name, label in table.items():
                    lazy = render_template_string("{{ label }}", label=label)
                    kept = render_template_string("{{ label }}", label=words[name])
                    assert kept == lazy, (language, name)
    with app.test_request_context():
        with force_locale("en"):
            english = translated_table(SECTION_LABELS)
        with force_locale("it"):
            italian = translated_table(SECTION_LABELS)
    assert english != italian


def test_audit_words_are_kept_per_language_and_reader_never_typed_data(app):
    state = next(iter(MANUFACTURER_STATE_LABELS))
    entry = audit_entry(
        "suspend",
        from_state=state,
        to_state=state,
        data={"description": "A note typed by somebody"},
        changes={"trade_name": ["Old name typed", "New name typed"]},
    )
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for role in ("manufacturer", "agency", "manufacturer"):
                row = audit_rows([entry], role=role)[0]
                assert row.from_state == state_label(state, role), (language, role)
            assert state_label(state, "manufacturer") != state_label(state, "agency")
            assert row.data[0][1] == "A note typed by somebody"
            assert row.changes[0][1:] == ("Old name typed", "New name typed")
    kept = [text for memo in action_panel._LABELS.values() for text in memo.values()]
    assert not any("typed" in str(text) for text in kept)


def test_the_recent_audit_window_is_the_kernels_for_every_reader(app, runner):
    """`recent_audit` reads a smaller batch first (as columns): the same entries and the same
    "earlier ones" flag as `recent_entries_for_request`, for every demo request, reader and
    window."""
    from sqlalchemy import select

    from app.core.audit import recent_entries_for_request
    from app.demo.catalogue import DEMO_LOGINS
    from app.domain.redaction import view_of
    from app.extensions import db
    from app.models import DeviceRequest, User
    from app.requests.presenters import recent_audit

    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    readers = [
        db.session.scalar(select(User).where(User.email == email)) for email, *_rest in DEMO_LOGINS
    ]
    compared = 0
    for request in db.session.scalars(select(DeviceRequest)):
        for reader in readers:
            view = view_of(reader, request)
            if not view.sees_audit_trail:
                continue
            for limit in (1, 3, 20):
                rows, earlier = recent_audit(request.id, view, limit)
                entries, kernels_earlier = recent_entries_for_request(request.id, view, limit)
                assert [row.id for row in rows] == [entry.id for entry in entries], (
                    request.id,
                    reader.role,
                    limit,
                )
                assert earlier == kernels_earlier, (request.id, reader.role, limit)
                compared += 1
    assert compared > 50


def _thread(rounds) -> list:
    """Everything the thread template reads of the rounds, as plain values."""
    return [
        (
            (r.number, r.kind, r.kind_label, r.opened_at, r.opened_by, r.closed_at),
            (r.closed_by_action, r.is_open, r.answers_sent, r.url, r.answered_count),
            [
                (
                    q.number,
                    q.text,
                    q.due_on,
                    None
                    if q.answer is None
                    else (
                        q.answer.text,
                        q.answer.answered_at,
                        q.answer.is_draft,
                        [
                            (
                                a.document_version.document_id,
                                a.document_version.version,
                                a.document_version.original_filename,
                                a.document_version.size,
                                a.document_version.document.title,
                            )
                            for a in q.answer.attachments
                        ],
                    ),
                )
                for q in r.questions
            ],
        )
        for r in rounds
    ]


def test_the_page_thread_reads_as_the_round_pages(cast, make, as_user, app):
    """The request page's rounds (one statement of columns) carry what `round_view` gives
    the round pages: questions, answers (drafts to the manufacturer only) and attachments."""
    import io
    from datetime import timedelta

    from app.documents import information as information_service
    from app.documents.presenters import _page_rounds, round_view
    from app.domain.deadlines import rome_date
    from app.models.types import utcnow
    from tests.document_support import pdf_bytes
    from tests.functional.test_information import answer, compose, new_request, reload

    request = new_request(make, cast, "assessment")
    assessor, manufacturer = as_user(cast.assessor), as_user(cast.manufacturer)
    due = (rome_date(utcnow()) + timedelta(days=10)).isoformat()
    questions = [("Follow-up?", due), ("Which centres?", ""), ("Costs?", "")]
    assert compose(assessor, request, questions).status_code == 302
    file = (io.BytesIO(pdf_bytes("fu")), "follow-up.pdf")
    drafted = answer(
        manufacturer, request, 1, 1, "94% at 24 months.", file=file, doc_type="study", title="FU"
    )
    assert drafted.status_code == 302
    assert answer(manufacturer, request, 1, 2, "Milano").status_code == 302
    request = reload(request)
    for reader in (cast.manufacturer, cast.assessor, cast.agency):
        with app.test_request_context():
            expected = [
                round_view(reader, request, r)
                for r in information_service.rounds_for(reader, request)
            ]
            shown = _page_rounds(reader, request)
        assert _thread(shown) == _thread(expected), reader.role
    with app.test_request_context():
        mine = _thread(_page_rounds(cast.manufacturer, request))
        theirs = _thread(_page_rounds(cast.assessor, request))
    assert mine[0][2][0][3][3][0][2] == "follow-up.pdf"  # the draft's file, to its author
    assert theirs[0][2][0][3] is None  # a draft: not to the assessor


def test_the_kept_dossier_is_each_readers_own_and_follows_every_edit(app, runner):
    """The dossier's HTML is kept per content, reader's redaction and language: what a reader
    gets after others filled the cache is what a cold draw gives them, and an edit shows."""
    from sqlalchemy import select

    from app.demo.catalogue import DEMO_LOGINS
    from app.domain.redaction import view_of
    from app.extensions import db
    from app.models import DeviceRequest, User
    from app.requests import presenters
    from app.requests.presenters import dossier_context, dossier_html

    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    readers = [
        db.session.scalar(select(User).where(User.email == email)) for email, *_r in DEMO_LOGINS
    ]
    requests = list(db.session.scalars(select(DeviceRequest).order_by(DeviceRequest.id)))

    def context(reader, request):
        return dossier_context(reader, request) | {
            "field_labels": translated_table(FIELD_LABELS),
            "section_labels": translated_table(SECTION_LABELS),
        }

    drawn = {}
    presenters._DOSSIER_HTML.clear()
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for request in requests:
                for reader in readers:
                    drawn[language, request.id, reader.id] = dossier_html(
                        request, context(reader, request)
                    )
    hidden_somewhere = 0
    for (language, request_id, reader_id), kept in drawn.items():
        request, reader = db.session.get(DeviceRequest, request_id), db.session.get(User, reader_id)
        presenters._DOSSIER_HTML.clear()
        with app.test_request_context(), force_locale(language):
            assert dossier_html(request, context(reader, request)) == kept
        hidden_somewhere += bool(view_of(reader, request).hidden_fields)
    assert hidden_somewhere  # some reader reads "Confidential" where another reads the value

    request, reader = requests[0], readers[0]
    with app.test_request_context(), force_locale("en"):
        before = dossier_html(request, context(reader, request))
        request.model = "Model edited just now"
        for comparator in request.comparators:
            comparator.description = "Comparator edited just now"
        db.session.flush()
        after = dossier_html(request, context(reader, request))
    assert "Model edited just now" not in before and "Model edited just now" in after
    assert bool(request.comparators) == ("Comparator edited just now" in after)


def test_only_the_request_page_draws_kept_action_fields(app):
    """The adoption record page fills a form in after `action_views` (the suggested barrier):
    its forms are drawn by the template, whatever was kept for the same form class."""
    spec = next(s for s in REQUEST_WORKFLOW.transitions if s.trigger == "suspend")
    with app.test_request_context():
        views = action_panel.action_views(
            [_Available(spec)],
            version=1,
            url_for_trigger=lambda trigger: f"/x/{trigger}",
            failure=None,
            kind="adoption",
            obj=None,
        )
        kept = action_panel.action_views(
            [_Available(spec)],
            version=1,
            url_for_trigger=lambda trigger: f"/x/{trigger}",
            failure=None,
            keep_fields=True,
        )
    assert views[0].fields_html is None and kept[0].fields_html is not None


# --- The audit trail's rows, kept as HTML


def _audit_table(rows, rows_html=None) -> str:
    audit_table = get_template_attribute("actions/_macros.html", "audit_table")
    return str(audit_table(rows, rows_html))


def _trail(irccs_id: int) -> list:
    state = next(iter(MANUFACTURER_STATE_LABELS))
    entries = [
        audit_entry(
            "suspend",
            from_state=state,
            to_state=state,
            reason="Typed <reason> & more",
            data={"description": "A note", "has_conflict": True, "irccs": irccs_id},
            changes={"trade_name": ["Old name", "New name"], "safety.status": [None, "done"]},
        ),
        audit_entry(
            "prioritise",
            data={"priority_index": 2.5, "rate": 0.4, "a": 1, "b": 2, "c": 3},
        ),
        audit_entry("submit"),
    ]
    entries[0].actor_id, entries[1].actor_id = 5, 6  # users not stored: their recorded names
    entries[1].actor_name = "Someone who left"
    return entries


def test_kept_audit_rows_draw_as_the_table_draws_them(app, make):
    """For each reader's redaction and role and each language, the kept rows (drawn, then
    read back) give the table `audit_rows` gives; the internal data stays the agency's."""
    from app.domain.redaction import RequestView

    irccs = make.org("irccs", name="IRCCS Kept Rows", region="lazio")
    entries = _trail(irccs.id)
    names = {}  # as `audit_rows` reads them: users 5 and 6 are not stored
    readers = [
        ("agency", RequestView(Relation.AGENCY, None, frozenset())),
        ("manufacturer", RequestView(Relation.OWNER, 3, frozenset({"trade_name"}))),
        ("assessor", RequestView(Relation.ASSESSOR, 4, frozenset())),
    ]
    action_panel._AUDIT_ROW_HTML.clear()
    tables = {}
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for role, view in readers:
                expected = _audit_table(audit_rows(entries, role=role, view=view))
                first = audit_rows_html(entries, names, role=role, view=view)
                again = audit_rows_html(entries, names, role=role, view=view)
                assert _audit_table(entries, first) == expected, (language, role)
                assert _audit_table(entries, again) == expected, (language, role)
                tables[language, role] = expected
    assert "IRCCS Kept Rows" in tables["en", "agency"]
    assert "Someone who left" in tables["en", "agency"]
    assert "2.5" in tables["it", "agency"] and "2.5" not in tables["it", "manufacturer"]
    assert tables["en", "agency"] != tables["it", "agency"]


def test_kept_audit_rows_follow_names_and_the_zone(app, make):
    """A renamed actor or organisation, and another display zone, are drawn afresh."""
    from flask_babel import refresh

    from app.domain.redaction import RequestView
    from app.extensions import db

    irccs = make.org("irccs", name="IRCCS Before", region="lazio")
    entries = _trail(irccs.id)
    view = RequestView(Relation.AGENCY, None, frozenset())
    action_panel._AUDIT_ROW_HTML.clear()
    with app.test_request_context(), force_locale("en"):
        before = audit_rows_html(entries, {5: "Anna Rossi"}, role="agency", view=view)
        renamed = audit_rows_html(entries, {5: "Anna Bianchi"}, role="agency", view=view)
        irccs.name = "IRCCS After"
        db.session.flush()
        moved = audit_rows_html(entries, {5: "Anna Rossi"}, role="agency", view=view)
    assert "Anna Rossi" in before and "Anna Bianchi" in renamed and "Anna Rossi" not in renamed
    assert "IRCCS Before" in before and "IRCCS After" in moved
    app.config["DISPLAY_TIMEZONE"], zone = "UTC", app.config["DISPLAY_TIMEZONE"]
    try:
        with app.test_request_context(), force_locale("en"):
            refresh()
            in_utc = audit_rows_html(entries, {5: "Anna Rossi"}, role="agency", view=view)
    finally:
        app.config["DISPLAY_TIMEZONE"] = zone
    assert "09:00" in in_utc and "10:00" in before  # 2 March: Rome is UTC+1


# --- A fresh form drawn without building it


def test_shown_form_hidden_tag_is_the_forms(app):
    """`ShownForm.hidden_tag()` is the built form's, for every action of both workflows whose
    form it stands for, with CSRF on and off."""
    from app.requests.action_panel import ShownForm, _drawn_without_form
    from app.workflow.definitions import ADOPTION_WORKFLOW

    specs = [
        spec
        for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW)
        for spec in workflow.transitions
        if _drawn_without_form(spec)
    ]
    assert len(specs) > 10
    enabled = app.config.get("WTF_CSRF_ENABLED", True)
    try:
        for csrf in (True, False):
            app.config["WTF_CSRF_ENABLED"] = csrf
            with app.test_request_context():
                for spec in specs:
                    for version in (None, 7):
                        built = build_action_form(spec, version=version, irccs=IRCCS)
                        shown = ShownForm(spec.trigger, version)
                        assert str(shown.hidden_tag()) == str(built.hidden_tag()), spec.trigger
                        assert ("csrf_token" in str(shown.hidden_tag())) is csrf
    finally:
        app.config["WTF_CSRF_ENABLED"] = enabled


# --- The timeline's rows, kept as HTML


def test_kept_timeline_rows_draw_as_the_table_draws_them(app):
    """Rows of every kind (open, late, due soon, on time, clock stopped) read back as the
    table draws them, in each language; the words follow the language."""
    from app.requests import presenters
    from app.requests.presenters import TimelineRow, timeline_rows_html

    def row(label, left, late=False, near_due=False, due="", stopped=False):
        return TimelineRow(
            label, "2 Mar 2026", left, due, "3.0", "2.0", stopped, late, near_due, bool(due)
        )

    rows = [
        row("Intake", "5 Mar 2026", due="9 Mar 2026"),
        row("Suspended", "6 Mar 2026", stopped=True),
        row("Assessment", "", late=True, due="1 Mar 2026"),
        row("Assessment", "", near_due=True, due="4 Mar 2026"),
    ]
    timeline_table = get_template_attribute("requests/_timeline.html", "timeline_table")
    presenters._TIMELINE_HTML.clear()
    drawn = {}
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            expected = str(timeline_table(rows))
            first = timeline_rows_html(rows)
            assert str(timeline_table(rows, first)) == expected, language
            assert str(timeline_table(rows, timeline_rows_html(rows))) == expected, language
            drawn[language] = expected
    assert "Due soon" in drawn["en"] and "Due soon" not in drawn["it"]


def test_kept_time_to_patient_follows_the_rows_and_the_language(app):
    """Each IRCCS's figure and row is drawn afresh for another figure or language, and
    read back as drawn."""
    from app.requests import presenters
    from app.requests.presenters import PathBar, PathRow, patient_paths_html

    def path(days: str, reached: bool) -> PathRow:
        bars = (PathBar("agency", 0.0, 40.0, f"Agency: {days}"), PathBar("irccs", 40.0, 60.0, "x"))
        return PathRow("IRCCS <Uno>", reached, bars, (("agency", days), ("irccs", "3.0")), days)

    presenters._PATH_HTML.clear()
    drawn = {}
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for days, reached in (("12.0", True), ("12.5", False)):
                first = patient_paths_html([path(days, reached)])
                assert patient_paths_html([path(days, reached)]) == first
                drawn[language, days] = first
    assert "12.5" in drawn["en", "12.5"][1] and "12.5" not in drawn["en", "12.0"][1]
    assert "no patient yet" in drawn["en", "12.5"][0]
    assert drawn["en", "12.5"][0] != drawn["it", "12.5"][0]
    assert "IRCCS &lt;Uno&gt;" in drawn["it", "12.0"][0]


def test_the_page_s_stage_timeline_is_the_kernels(app, runner):
    """The request page reads five columns per stage visit: the same StageRows as
    `stage_timeline` for every demo request, at any moment."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app.core.fire import stage_timeline
    from app.extensions import db
    from app.models import DeviceRequest
    from app.requests.presenters import page_stage_timeline

    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    compared = 0
    for request in db.session.scalars(select(DeviceRequest)):
        for now in (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime.now(UTC)):
            rows = page_stage_timeline(request, now)
            assert rows == stage_timeline(request, now), request.id
            compared += len(rows)
    assert compared > 100


def test_kept_usage_figures_follow_the_figures_and_the_language(app):
    """The reported-use table's figures are formatted afresh for other totals (a Decimal
    with another exponent included), dossier figures or language, and equal a fresh format."""
    from decimal import Decimal

    from app.adoption.usage import QuarterTotal, UsageTotals
    from app.assessment import guards
    from app.formatting import current_formats

    def usage(spend: str, expected: str | None) -> UsageTotals:
        quarter = QuarterTotal(2026, 1, 1200, 30, Decimal(spend), 1, 3)
        return UsageTotals([quarter], None if expected is None else Decimal(expected), None, False)

    guards._USAGE_TEXT.clear()
    seen = []
    for language in ("en", "it"):
        with app.test_request_context(), force_locale(language):
            for spend, expected in (("1500.5", "10"), ("1500.50", "10"), ("1500.5", None)):
                kept = guards._usage_text(usage(spend, expected))
                assert kept == usage(spend, expected).formatted(current_formats())
                assert guards._usage_text(usage(spend, expected)) is kept
                seen.append(kept)
    assert len({repr(text) for text in seen}) > 3


def test_kept_documents_panel_follows_the_data_the_reader_and_the_language(
    cast, make, as_user, app
):
    """The documents panel kept per content reads as the template draws it, shows a draft
    answer to its author only, follows the language, and shows an edited answer at once."""
    from flask import render_template

    from app.documents import presenters as documents_presenters
    from app.documents.presenters import documents_panel
    from tests.functional.test_information import answer, compose, new_request, reload

    request = new_request(make, cast, "assessment")
    assessor, manufacturer = as_user(cast.assessor), as_user(cast.manufacturer)
    assert compose(assessor, request, [("Follow-up?", "")]).status_code == 302
    assert answer(manufacturer, request, 1, 1, "A draft reply").status_code == 302
    request = reload(request)
    documents_presenters._PANEL_HTML.clear()

    def drawn(reader, language) -> str:
        with app.test_request_context(), force_locale(language):
            panel = documents_panel(reader, request)
            fresh = render_template("documents/_panel.html", documents_panel=panel, req=request)
            assert str(panel.html) == fresh, (reader.role, language)
            return fresh

    pages = {
        (reader.role, language): drawn(reader, language)
        for _pass in range(2)
        for reader in (cast.manufacturer, cast.assessor)
        for language in ("en", "it")
    }
    assert "A draft reply" in pages["manufacturer", "en"]
    assert "A draft reply" not in pages["assessor", "en"]
    assert pages["assessor", "en"] != pages["assessor", "it"]
    assert answer(manufacturer, request, 1, 1, "A better reply").status_code == 302
    request = reload(request)
    again = drawn(cast.manufacturer, "en")
    assert "A better reply" in again and "A draft reply" not in again


def _typed(rows) -> list:
    """Rows as (type, value) pairs: 1, 1.0 and Decimal("1") are not the same reading."""
    return [tuple((type(value).__name__, value) for value in row) for row in rows]


def test_the_page_s_one_statement_reads_what_each_read_reads_alone(app, runner):
    """`page_reads` runs the page's small reads (stage visits, designation, tariff cases,
    paths, pending comments, documents, rounds, usage) as one UNION ALL: each read gets the
    rows its own statement answers, in its order and with the same types, for every demo
    request and reader; and the page spends one statement on them all."""
    from sqlalchemy import event, select

    from app.demo.catalogue import DEMO_LOGINS
    from app.extensions import db
    from app.models import DeviceRequest, User
    from app.requests.page_reads import read_all
    from app.requests.presenters import page_read_list

    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    readers = [
        db.session.scalar(select(User).where(User.email == email)) for email, *_rest in DEMO_LOGINS
    ]
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    seen, compared = set(), 0
    with app.test_request_context():
        for request in db.session.scalars(select(DeviceRequest)).all():
            for reader in readers:
                reads, values = page_read_list(reader, request)
                statements.clear()
                found = read_all(reads, values)
                assert len(statements) == 1
                for read in reads:
                    alone = db.session.execute(read.query, values).all()
                    assert _typed(found[read.name]) == _typed(alone), (read.name, request.id)
                    if alone:
                        seen.add(read.name)
                    compared += 1
    assert compared > 200
    assert seen >= {"stages", "designation", "cases", "paths", "documents", "usage"}
    assert seen >= {"document_rounds", "irccs", "audit"}
