"""Forms of prioritisation, conflicts of interest, the assessment, appraisal and usage reports
(validation only), and the labels of their codes (criteria, Core Model domains, statuses).

Forms built per criterion or per domain name their fields `<prefix>_<code>`, so a posted form
maps back to the codes without guessing.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.domain.core_model import DOMAINS, FACTUAL_RESPONSES, MAX_REPLY, STATUSES
from app.domain.prioritisation import CRITERIA, MAX_WEIGHT, SCORES, WEIGHTED_CRITERIA
from app.forms.base import AppForm
from app.forms.dossier import MoneyField
from app.workflow.action_labels import OUTCOME_LABELS, ROUTE_LABELS
from app.workflow.definitions import ROUTES
from app.workflow.states import OUTCOMES

TEXT_MAX = 20000
REQUIRED = _l("This field is required.")

CRITERION_LABELS = {
    "disease_severity": _l("Disease severity"),
    "population_size": _l("Population size"),
    "unmet_need": _l("Unmet need"),
    "clinical_benefit": _l("Expected clinical benefit"),
    "safety_gain": _l("Expected safety gain"),
    "patient_reported_gain": _l("Patient-reported / quality-of-life gain"),
    "evidence_quality": _l("Quality and maturity of evidence"),
    "organisational_impact": _l("Organisational impact"),
    "budget_impact": _l("Budget impact"),
    "inappropriate_use_risk": _l("Risk of inappropriate use"),
    "degree_of_innovation": _l("Degree of innovation"),
    "plan_fit": _l("Fit with national/regional plans"),
    "declared_need": _l("Declared need (number of IRCCS, patients)"),
}

# What each score means for each criterion. Every criterion is scored so that 3 favours
# priority; for the two where "high" would read the wrong way (budget impact, risk of
# inappropriate use) the direction is said in CRITERION_DIRECTIONS and in every level.
CRITERION_LEVELS = {
    "disease_severity": (
        _l("mild, self-limiting condition"),
        _l("moderate, limits daily life but not disabling"),
        _l("severe or chronic and disabling"),
        _l("life-threatening or rapidly progressive"),
    ),
    "population_size": (
        _l("very rare, a few patients a year in Italy"),
        _l("under 1,000 patients a year"),
        _l("1,000 to 10,000 patients a year"),
        _l("over 10,000 patients a year"),
    ),
    "unmet_need": (
        _l("effective alternatives are available"),
        _l("alternatives exist with clear limits"),
        _l("alternatives are poor or not suitable for many patients"),
        _l("no alternative is available"),
    ),
    "clinical_benefit": (
        _l("no benefit expected over the standard of care"),
        _l("small benefit on secondary outcomes"),
        _l("moderate benefit on relevant outcomes"),
        _l("large benefit on survival or major outcomes"),
    ),
    "safety_gain": (
        _l("no safety gain (or a worse profile)"),
        _l("small reduction of minor adverse events"),
        _l("fewer serious adverse events"),
        _l("major safety gain, removes a serious risk"),
    ),
    "patient_reported_gain": (
        _l("no gain in quality of life"),
        _l("small gain reported by patients"),
        _l("moderate, measured gain"),
        _l("large gain on validated scales"),
    ),
    "evidence_quality": (
        _l("no clinical data, or case reports only"),
        _l("observational studies or small series"),
        _l("at least one controlled study of fair quality"),
        _l("randomised trials or a systematic review"),
    ),
    "organisational_impact": (
        _l("disrupts care, new facilities or staff needed"),
        _l("changes needing substantial training"),
        _l("fits current pathways with minor changes"),
        _l("simplifies care or frees resources"),
    ),
    "budget_impact": (
        _l("very large additional cost for the health service"),
        _l("significant additional cost"),
        _l("limited additional cost"),
        _l("savings, or a negligible cost"),
    ),
    "inappropriate_use_risk": (
        _l("high risk of use outside the indication"),
        _l("moderate risk, needs strict criteria"),
        _l("low risk"),
        _l("very low risk, clear indication, easy to control"),
    ),
    "degree_of_innovation": (
        _l("a copy of devices already in use"),
        _l("an incremental change"),
        _l("a substantial improvement"),
        _l("a new way of diagnosing or treating"),
    ),
    "plan_fit": (
        _l("not in any national or regional plan"),
        _l("loosely related to a plan"),
        _l("named by a regional plan"),
        _l("a priority of the national health plan"),
    ),
}
CRITERION_DIRECTIONS = {
    "budget_impact": _l(
        "Scored in reverse: 3 means savings or a negligible cost, 0 a very large additional "
        "cost (a high score favours priority)."
    ),
    "inappropriate_use_risk": _l(
        "Scored in reverse: 3 means a very low risk, 0 a high risk of inappropriate use (a "
        "high score favours priority)."
    ),
}


def score_choice_label(criterion: str, score: int) -> str:
    """The option of one score of one criterion: "2: moderate, limits daily life…"."""
    return f"{score}: {CRITERION_LEVELS[criterion][score]}"


DOMAIN_LABELS = {
    "health_problem": _l("Health problem and current use of technology"),
    "technical_characteristics": _l("Description and technical characteristics"),
    "safety": _l("Safety"),
    "clinical_effectiveness": _l("Clinical effectiveness"),
    "costs_economic_evaluation": _l("Costs and economic evaluation"),
    "ethical": _l("Ethical analysis"),
    "organisational": _l("Organisational aspects"),
    "patient_social": _l("Patients and social aspects"),
    "legal": _l("Legal aspects"),
}

DOMAIN_STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "not_applicable": _l("Not applicable"),
}

DECISION_LABELS = {
    "prioritise": _l("Prioritise for assessment"),
    "defer": _l("Defer to a later round"),
    "not_prioritise": _l("Do not prioritise"),
    "route": _l("Route elsewhere"),
}

GENERAL_SECTION_LABEL = _l("The report as a whole")


def field_name(prefix: str, code: str) -> str:
    return f"{prefix}_{code}"


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _blank_then(pairs) -> list[SelectChoice]:
    return _choices([("", _l("Choose…")), *pairs])


def _text(label, rows: int, *, required=None, max_length=TEXT_MAX, description=None):
    """A text area of at most `max_length` characters: optional, or required with the
    message `required`."""
    first = DataRequired(message=required) if required else Optional()
    extra = {} if description is None else {"description": description}
    return TextAreaField(
        label, validators=[first, Length(max=max_length)], render_kw={"rows": rows}, **extra
    )


def _stripped(field) -> str:
    return (field.data or "").strip()


def _blank(field) -> bool:
    return not _stripped(field)


def _add_error(field, message) -> None:
    field.errors = [*field.errors, message]


# --- Prioritisation --------------------------------------------------------------------------


def scores_form_class() -> type[AppForm]:
    """Per criterion: a 0-3 score (empty: not scored) and its written justification."""
    attributes = {}
    for criterion in CRITERIA:
        attributes[field_name("score", criterion)] = SelectField(
            CRITERION_LABELS[criterion],
            choices=_blank_then((str(s), score_choice_label(criterion, s)) for s in SCORES),
            validators=[Optional()],
        )
        attributes[field_name("justification", criterion)] = _text(_l("Justification"), 2)
    return type("PriorityScoresForm", (ScoresFormBase,), attributes)


class ScoresFormBase(AppForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for criterion in CRITERIA:
            score = self[field_name("score", criterion)]
            reason = self[field_name("justification", criterion)]
            if score.data and _blank(reason):
                _add_error(reason, _l("Write why this score was given."))
                valid = False
            if not score.data and not _blank(reason):
                _add_error(score, _l("Choose a score for this justification."))
                valid = False
        return valid

    def entries(self) -> dict[str, tuple[int | None, str]]:
        """{criterion: (score or None, justification)} as typed."""
        entries = {}
        for c in CRITERIA:
            score = self[field_name("score", c)].data
            reason = _stripped(self[field_name("justification", c)])
            entries[c] = (int(score) if score else None, reason)
        return entries


def weights_form_class() -> type[AppForm]:
    attributes = {
        field_name("weight", criterion): DecimalField(
            CRITERION_LABELS[criterion],
            places=2,
            validators=[
                InputRequired(message=REQUIRED),
                NumberRange(
                    min=0,
                    max=MAX_WEIGHT,
                    message=_l("Enter a weight from 0 to %(max)s.", max=MAX_WEIGHT),
                ),
            ],
        )
        for criterion in WEIGHTED_CRITERIA
    }
    return type("PriorityWeightsForm", (WeightsFormBase,), attributes)


class WeightsFormBase(AppForm):
    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if all(w == 0 for w in self.weights().values()):
            self.form_errors.append(_l("At least one criterion needs a weight above 0."))
            return False
        return True

    def weights(self) -> dict[str, Decimal]:
        return {c: self[field_name("weight", c)].data for c in WEIGHTED_CRITERIA}


class DecisionForm(AppForm):
    """A prioritisation decision with its reasons (required for every decision)."""

    decision = SelectField(
        _l("Decision"),
        choices=_blank_then(DECISION_LABELS.items()),
        validators=[DataRequired(message=_l("Choose a decision."))],
    )
    expected_version = HiddenField()
    reason = _text(
        _l("Reasons for the decision"),
        3,
        required=_l("Write the reasons for this decision."),
        max_length=5000,
    )
    route_to = SelectField(
        _l("Route to"),
        choices=_blank_then((code, ROUTE_LABELS[code]) for code in ROUTES),
        validators=[Optional()],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.decision.data == "route" and not self.route_to.data:
            _add_error(self.route_to, _l("Choose where to route it."))
            valid = False
        return valid


FACTUAL_RESPONSE_LABELS = {
    "accepted": _l("Accepted: the report is corrected"),
    "not_accepted": _l("Not accepted"),
}


class FactualReplyForm(AppForm):
    """The assessor's response to one factual-accuracy comment (prefixed with its id)."""

    response = RadioField(
        _l("Response"),
        choices=[SelectChoice(code, FACTUAL_RESPONSE_LABELS[code]) for code in FACTUAL_RESPONSES],
        validators=[InputRequired(message=_l("Choose accepted or not accepted."))],
    )
    reply = TextAreaField(
        _l("Reply to the manufacturer"),
        validators=[
            DataRequired(message=_l("Write the reply the manufacturer will read.")),
            Length(max=MAX_REPLY),
        ],
        render_kw={"rows": 2},
    )


class VersionForm(AppForm):
    """A button that fires a transition without data (the version for the optimistic lock)."""

    expected_version = HiddenField()


# --- Assignment and conflicts of interest ----------------------------------------------------


class AssignBodyForm(AppForm):
    regional_body = HiddenField(validators=[DataRequired()])
    expected_version = HiddenField()


class CoiDeclarationForm(AppForm):
    conflict = RadioField(
        _l("Do you have a conflict of interest with this request?"),
        choices=_choices(
            [
                ("none", _l("No: I have no conflict of interest with this device or manufacturer")),
                ("conflict", _l("Yes: I declare a conflict of interest, described below")),
            ]
        ),
        validators=[InputRequired(message=_l("Choose one of the two answers."))],
    )
    description = _text(
        _l("Description of the conflict"),
        4,
        description=_l(
            "Financial or personal interests, past work with the manufacturer or a competitor, "
            "involvement in the studies."
        ),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.conflict.data == "conflict" and _blank(self.description):
            _add_error(self.description, _l("Describe the conflict."))
            valid = False
        return valid


class CoiOverrideForm(AppForm):
    reason = _text(
        _l("Why the assessor may take part despite the conflict"),
        2,
        required=_l("Write the reason for the override."),
        max_length=5000,
    )


# --- The assessment ----------------------------------------------------------------------------


def checklist_form_class() -> type[AppForm]:
    """Per Core Model domain: status, findings, conclusion; and the report's summary."""
    attributes = {}
    for domain in DOMAINS:
        attributes[field_name("status", domain)] = SelectField(
            _l("Status"),
            choices=_choices((s, DOMAIN_STATUS_LABELS[s]) for s in STATUSES),
            validators=[DataRequired(message=REQUIRED)],
        )
        attributes[field_name("findings", domain)] = _text(_l("Findings"), 3)
        attributes[field_name("conclusion", domain)] = _text(_l("Conclusion"), 2)
    attributes["summary"] = _text(
        _l("Report summary"),
        6,
        max_length=TEXT_MAX * 3,
        description=_l("The assessment report's text: what the agency reads first."),
    )
    return type("ChecklistForm", (ChecklistFormBase,), attributes)


class ChecklistFormBase(AppForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for domain in DOMAINS:
            status = self[field_name("status", domain)].data
            conclusion = self[field_name("conclusion", domain)]
            if status == "done" and _blank(conclusion):
                _add_error(conclusion, _l("A domain marked done needs its conclusion."))
                valid = False
        return valid

    def entries(self) -> dict[str, dict[str, str]]:
        return {
            d: {
                "status": self[field_name("status", d)].data,
                "findings": _stripped(self[field_name("findings", d)]),
                "conclusion": _stripped(self[field_name("conclusion", d)]),
            }
            for d in DOMAINS
        }


def factual_comments_form_class() -> type[AppForm]:
    """One comment box per section of the draft report, and one on the report as a whole."""
    attributes = {
        field_name("comment", domain): _text(DOMAIN_LABELS[domain], 2) for domain in DOMAINS
    }
    attributes["general"] = _text(GENERAL_SECTION_LABEL, 3)
    attributes["expected_version"] = HiddenField()
    return type("FactualCommentsForm", (FactualCommentsFormBase,), attributes)


class FactualCommentsFormBase(AppForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and _blank(self.general) and not self.section_comments():
            self.form_errors.append(
                _l(
                    "Write at least one comment (on a section, or on the report as a whole, "
                    "e.g. “No factual errors found”)."
                )
            )
            return False
        return valid

    def section_comments(self) -> dict[str, str]:
        comments = {}
        for domain in DOMAINS:
            text = _stripped(self[field_name("comment", domain)])
            if text:
                comments[domain] = text
        return comments


# --- Appraisal -------------------------------------------------------------------------------


class RecommendationForm(AppForm):
    """The recommendation's input. What each outcome requires (conditions, the evidence to be
    generated, a review date) is checked by the workflow's guards, whose messages the view
    shows on these fields."""

    outcome = SelectField(
        _l("Outcome"),
        choices=_blank_then((code, OUTCOME_LABELS[code]) for code in OUTCOMES),
        validators=[DataRequired(message=REQUIRED)],
    )
    rationale = _text(_l("Rationale"), 5, required=REQUIRED)
    conditions = _text(
        _l("Conditions or restrictions"),
        3,
        description=_l(
            "The indications and the centres the use is restricted to. Required for "
            "“Recommended with restrictions”."
        ),
    )
    evidence_requirements = _text(
        _l("Evidence-generation requirements"),
        3,
        description=_l(
            "One requirement per line, each with its due date (e.g. “12-month registry data, "
            "by 30/06/2027”). Required for “Recommended with evidence generation”."
        ),
    )
    review_date = DateField(
        _l("Review date"),
        description=_l(
            "When the recommendation is to be reviewed (after today). Required for "
            "“Recommended with evidence generation”."
        ),
        validators=[Optional()],
    )
    # Choices: the active IRCCS, set by the view (`irccs_choices`).
    designated_centres = SelectMultipleField(
        _l("Designated centres"),
        coerce=int,
        choices=[],
        validate_choice=False,  # the workflow checks the ids (active IRCCS)
        description=_l(
            "The IRCCS where the device may be used: only they get an adoption record and count "
            "in the adoption rates. Required for “Recommended with restrictions” and "
            "“Recommended with evidence generation”."
        ),
        render_kw={"size": 8},
    )
    designation_criteria = _text(
        _l("How the centres were chosen"),
        2,
        description=_l("E.g. “IRCCS with cardiac surgery on site”."),
    )
    expected_version = HiddenField()

    def recommendation_data(self) -> dict:
        return {
            "outcome": self.outcome.data,
            "rationale": _stripped(self.rationale),
            "conditions": _stripped(self.conditions),
            "evidence_requirements": _stripped(self.evidence_requirements),
            "review_date": self.review_date.data,
            "designated_centres": list(self.designated_centres.data or []),
            "designation_criteria": _stripped(self.designation_criteria),
        }


# --- Usage reports -----------------------------------------------------------------------------


def _required_not_negative() -> list:
    return [InputRequired(REQUIRED), NumberRange(min=0, message=_l("Not below 0."))]


QUARTER_CHOICES = _blank_then((str(q), f"Q{q}") for q in range(1, 5))


class UsageReportForm(AppForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(message=REQUIRED),
            NumberRange(min=2000, max=2100, message=_l("Enter a year from 2000 to 2100.")),
        ],
    )
    quarter = SelectField(
        _l("Quarter"), choices=QUARTER_CHOICES, validators=[DataRequired(REQUIRED)]
    )
    units = IntegerField(_l("Units used"), validators=_required_not_negative())
    procedures = IntegerField(_l("Procedures performed"), validators=_required_not_negative())
    # Typed as people write amounts: "185000", "185000.00" or "185.000,00".
    spend = MoneyField(_l("Spend (EUR)"), validators=[InputRequired(REQUIRED)])
    adverse_events = IntegerField(_l("Adverse events"), validators=_required_not_negative())
    fsn_number = StringField(
        _l("Field safety notice number"), validators=[Optional(), Length(max=100)]
    )
    authority_reference = StringField(
        _l("Competent authority reference"), validators=[Optional(), Length(max=100)]
    )
    reason = _text(
        _l("Reason for the correction"),
        2,
        max_length=5000,
        description=_l("Required when the quarter was already reported: what was wrong?"),
    )

    def figures(self) -> dict:
        return {
            "year": self.year.data,
            "quarter": int(self.quarter.data),
            "units": self.units.data,
            "procedures": self.procedures.data,
            "spend": self.spend.data,
            "adverse_events": self.adverse_events.data,
            "fsn_number": (self.fsn_number.data or "").strip(),
            "authority_reference": (self.authority_reference.data or "").strip(),
        }
