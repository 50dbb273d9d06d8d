"""Public register views (no login): the list, a request's page with its consultation and
adoption figures, the aggregate figures, the adoption map (page, CSV), the published rules,
the CSV download, the Atom feed, and the audit anchors (page, JSON, Atom).

Templates receive only the dicts of `app.public.register` and the plain aggregates of
`app.public.adoption_map` and `app.public.rules` (never a model object), so nothing outside
the `PUBLIC_FIELDS` allow-list, no price, no usage figure and no IRCCS's name can reach a
public page (time figures are public, even one IRCCS's: `app.public.adoption_map`).
"""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core.audit_anchors import anchors_document, published_anchors
from app.domain.errors import Conflict, ValidationFailed
from app.domain.vocab import RISK_CLASSES
from app.errors import form_page
from app.extensions import db
from app.forms.consultation import CommentForm
from app.models.types import utcnow
from app.public import bp, register
from app.public.adoption_chart import region_chart
from app.public.adoption_csv import csv_header as adoption_csv_header
from app.public.adoption_csv import csv_rows as adoption_csv_rows
from app.public.adoption_map import (
    AdoptionMap,
    DeviceAdoption,
    adoption_map,
    cached_adoption_map,
    device_page,
)
from app.public.consultation import CommentData, submit_comment
from app.public.exports import FeedInfo, atom_bytes, csv_bytes
from app.public.presenters import (
    DEADLINE_LABELS,
    anchor_feed_entry,
    anchor_rows,
    csv_header,
    csv_record,
    feed_entry,
    page_url_for,
)
from app.public.rules import published_rules
from app.reports import texts
from app.reports.time_to_patient import holder_label
from app.routing import external_url

CSV_FILENAME = "hta-public-register.csv"
ADOPTION_CSV_FILENAME = "hta-public-adoption.csv"


def _filters() -> register.RegisterFilters:
    args = request.args
    return register.RegisterFilters(
        search=args.get("q", ""),
        stage=args.get("stage", ""),
        outcome=args.get("outcome", ""),
        risk_class=args.get("risk_class", ""),
    ).cleaned()


def _filter_context() -> dict:
    labels = register.public_labels()
    return {
        "stage_choices": [(s, labels[s]) for s in register.REGISTER_STATES],
        "outcome_choices": list(register.PUBLIC_OUTCOME_LABELS.items()),
        "risk_classes": RISK_CLASSES,
        # Translated once here, not at each of the page's few hundred deadline marks.
        "deadline_labels": {status: str(label) for status, label in DEADLINE_LABELS.items()},
    }


# The register list's deadline marks, rendered once per language and sequence of marks.
DEADLINE_MARKS: dict = {}
DEADLINE_MARKS_LIMIT = 4096


def _cached_deadline_marks(labels: dict):
    """deadline_marks(timeline, labels) of public/_macros.html, kept per process: exact
    because the macro reads only each marked stage's label and status and `labels` (the
    language's words for the statuses), all in the key."""
    macro = get_template_attribute("public/_macros.html", "deadline_marks")
    locale = str(get_locale())

    def marks(timeline):
        key = (locale, tuple((s["label"], s["deadline"]) for s in timeline if s["deadline"]))
        found = DEADLINE_MARKS.get(key)
        if found is None:
            if len(DEADLINE_MARKS) >= DEADLINE_MARKS_LIMIT:
                DEADLINE_MARKS.clear()
            found = DEADLINE_MARKS[key] = macro(timeline, labels)
        return found

    return marks


# What a row of the register list reads (public/index.html), besides the language.
ROW_FIELDS = (
    "id",
    "trade_name",
    "model",
    "reference",
    "manufacturer",
    "emdn_code",
    "risk_class",
    "stage_label",
    "state",
    "submitted_at",
    "days_in_stage",
    "current_deadline",
)
RECOMMENDATION_FIELDS = ("status", "outcome_label", "published_at", "rationale")
_ABSENT = object()  # a field the manufacturer hid: not in the row (Jinja: undefined)


def _row_key(row: dict, locale: str) -> tuple | None:
    """Everything a register row's HTML depends on, so that the row is rendered once per
    process and key (`layout_fragment`); None (rendered afresh) when a value cannot be a key.
    The labels in it are already in the row's language; the dates and numbers are
    formatted in `locale`'s."""
    recommendation = row.get("recommendation", _ABSENT)
    if isinstance(recommendation, dict):
        recommendation = tuple(
            str(recommendation.get(f)) if f == "outcome_label" else recommendation.get(f)
            for f in RECOMMENDATION_FIELDS
        )
    timeline = row.get("timeline") or ()
    key = (
        locale,
        *(row.get(name, _ABSENT) for name in ROW_FIELDS),
        recommendation,
        tuple((stage["label"], stage["deadline"]) for stage in timeline if stage["deadline"]),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


@bp.get("/")
def index():
    filters = _filters()
    pagination, rows = register.list_register(
        filters,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
        now=utcnow(),
    )
    context = _filter_context()
    locale = str(get_locale())
    return render_template(
        "public/index.html",
        pagination=pagination,
        rows=rows,
        filters=filters,
        preview=register.preview,
        marks=_cached_deadline_marks(context["deadline_labels"]),
        row_key=lambda row: _row_key(row, locale),
        # The table's body, kept whole by its rows' summary keys (everything each row is
        # made of, the language included) when each has one; else row by row.
        body_key=rows.keys if None not in rows.keys else None,
        locale=locale,
        **context,
    )


def _adoption_labels() -> dict:
    """The label functions the adoption figures' templates use."""
    return {
        "region_name": lambda region: texts.dimension_value("region", region),
        "holder_name": holder_label,
        "outcome_name": texts.outcome_label,
    }


def _device_adoption(public: dict, now) -> DeviceAdoption | None:
    """The adoption figures of a published recommendation's device (None before)."""
    recommendation = public.get("recommendation")
    if not recommendation or recommendation["status"] != "published":
        return None
    found = adoption_map(now, request_id=public["id"]).devices
    return found[0] if found else None


def _render_detail(request_id: int, form: CommentForm | None = None):
    now = utcnow()
    public = register.get_public_request(request_id, now=now)
    if form is None and public["consultation"]["open"]:
        form = CommentForm()
    return render_template(
        "public/detail.html",
        r=public,
        comments=register.published_comments(request_id),
        form=form,
        honeypot_field="website",
        deadline_labels=DEADLINE_LABELS,
        adoption=_device_adoption(public, now),
        **_adoption_labels(),
    )


@bp.get("/<int:request_id>")
def detail(request_id: int):
    return _render_detail(request_id)


@bp.post("/<int:request_id>/comments")
def comment(request_id: int):
    form = CommentForm()
    thanks = _("Thank you. Your comment will appear here once the agency has reviewed it.")
    if not form.validate_on_submit():
        return _render_detail(request_id, form)
    if form.is_bot():
        flash(thanks, "success")  # say nothing different to a bot
        return redirect(url_for("public.detail", request_id=request_id))
    data = CommentData(
        text=form.text.data,
        author_name=form.author_name.data or "",
        author_email=form.author_email.data or "",
    )
    form_page(  # 200, as for the form's own validation errors on this public page
        lambda _status: _render_detail(request_id, form),
        show=lambda error: _field_errors(form, error),
        refusals=(ValidationFailed,),
    )
    try:
        submit_comment(request_id, data, now=utcnow())
    except Conflict as error:  # the consultation closed meanwhile: the page as it is now, why
        db.session.rollback()
        flash(str(error.message), "warning")
        return redirect(url_for("public.detail", request_id=request_id))
    db.session.commit()
    flash(thanks, "success")
    return redirect(url_for("public.detail", request_id=request_id, _anchor="consultation"))


def _field_errors(form: CommentForm, error: ValidationFailed) -> None:
    for name, message in error.details.get("fields", {}).items():
        form[name].errors = [*form[name].errors, message]


@bp.get("/figures")
def figures():
    return render_template("public/figures.html", figures=register.register_figures(utcnow()))


def _cache_seconds() -> float:
    return float(current_app.config.get("REPORT_CACHE_SECONDS", 300))


def _adoption_map() -> AdoptionMap:
    return cached_adoption_map(utcnow(), _cache_seconds())


@bp.get("/adoption")
def adoption():
    """Adoption of every recommended device by region, and the time to the first patient."""
    figures = _adoption_map()
    page = device_page(
        figures, request.args.get("page", 1, type=int) or 1, current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "public/adoption.html",
        map=figures,
        devices=page,
        chart=region_chart(figures),
        **_adoption_labels(),
    )


@bp.get("/adoption.csv")
def adoption_csv():
    body = csv_bytes(adoption_csv_header(), adoption_csv_rows(_adoption_map()))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{ADOPTION_CSV_FILENAME}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


@bp.get("/rules")
def rules():
    """The rules the agency applies: admissibility, prioritisation, deadlines."""
    return render_template("public/rules.html", rules=published_rules())


@bp.get("/register.csv")
def download_csv():
    rows = register.export_rows(_filters(), now=utcnow())
    link = page_url_for(external_url)
    body = csv_bytes(csv_header(), (csv_record(row, link(row)) for row in rows))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{CSV_FILENAME}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


@bp.get("/feed.atom")
def feed():
    now = utcnow()
    rows = register.latest_recommendations(now=now)
    link = page_url_for(external_url)
    entries = [feed_entry(row, link(row)) for row in rows]
    info = FeedInfo(
        id=external_url("public.feed"),
        title=_("HTA Tracker: published recommendations"),
        subtitle=_("Recommendations on innovative medical devices, newest first."),
        self_url=external_url("public.feed"),
        alternate_url=external_url("public.index"),
        author=_("HTA Tracker public register"),
        updated=entries[0].updated if entries else now,
        language=str(get_locale() or "it"),
    )
    return Response(atom_bytes(info, entries), mimetype="application/atom+xml")


# --- Audit anchors ----------------------------------------------------------------------------


@bp.get("/anchors")
def anchors():
    """The audit chain heads published by `flask audit anchor`, newest first."""
    return render_template("public/anchors.html", anchors=anchor_rows(published_anchors()))


@bp.get("/anchors.json")
def anchors_json():
    """What `flask audit verify --against-anchors URL` reads."""
    return anchors_document(published_anchors()), 200, {"Cache-Control": "public, max-age=300"}


@bp.get("/anchors.atom")
def anchors_feed():
    rows = published_anchors()
    page = external_url("public.anchors")
    entries = [anchor_feed_entry(anchor, page) for anchor in rows]
    info = FeedInfo(
        id=external_url("public.anchors_feed"),
        title=_("HTA Tracker: audit trail anchors"),
        subtitle=_("The audit trail's chain head, published daily."),
        self_url=external_url("public.anchors_feed"),
        alternate_url=page,
        author=_("HTA Tracker public register"),
        updated=entries[0].updated if entries else utcnow(),
        language=str(get_locale() or "it"),
    )
    return Response(atom_bytes(info, entries), mimetype="application/atom+xml")
