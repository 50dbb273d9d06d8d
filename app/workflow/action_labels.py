"""Translatable words for the workflow actions: trigger names, the data they carry, and the
choices of their fields (routes, decline reasons, recommendation outcomes).

The workflow definitions (`app.workflow.definitions`) hold the codes; this module gives them
labels (Flask-Babel lazy strings) for buttons, forms, the audit trail and the diagram page.
A unit test checks that every trigger and every data field of every workflow has a label.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.documents.labels import AUDIT_ACTION_LABELS as DOCUMENT_AUDIT_ACTION_LABELS
from app.documents.labels import AUDIT_DATA_LABELS as DOCUMENT_AUDIT_DATA_LABELS
from app.documents.labels import DOC_TYPE_LABELS

ACTION_LABELS = {
    # Request workflow
    "submit": _l("Submit the request"),
    "mark_incomplete": _l("Mark as incomplete"),
    "resubmit": _l("Resubmit the completed file"),
    "lapse_incomplete": _l("Lapse: file not completed in time"),
    "declare_inadmissible": _l("Declare inadmissible"),
    "admit": _l("Admit"),
    "start_prioritisation": _l("Start prioritisation"),
    "prioritise": _l("Prioritise for assessment"),
    "defer": _l("Defer to a later round"),
    "not_prioritise": _l("Do not prioritise"),
    "route": _l("Route to another programme"),
    "assign_body": _l("Assign a regional HTA body"),
    "accept_assignment": _l("Accept the assignment"),
    "decline_assignment": _l("Decline the assignment"),
    "request_information": _l("Request information"),
    "answer_information": _l("Answer the questions"),
    "lapse_information": _l("Lapse: questions not answered in time"),
    "send_draft_report": _l("Send the draft report for factual check"),
    "return_factual_comments": _l("Return factual accuracy comments"),
    "finalise_report": _l("Finalise the report"),
    "open_consultation": _l("Open public consultation"),
    "publish": _l("Publish the recommendation"),
    "review_due": _l("Mark review as due"),
    "reassess": _l("Reassess"),
    "archive": _l("Archive"),
    "withdraw": _l("Withdraw the request"),
    "suspend": _l("Suspend"),
    "resume": _l("Resume"),
    "ask_designation": _l("Ask to be a designated centre"),
    "designate_centre": _l("Designate a centre"),
    "refuse_designation": _l("Refuse a designation request"),
    # Adoption workflow
    "start_evaluation": _l("Start local evaluation"),
    "approve_for_use": _l("Approve for use"),
    "decline": _l("Decline adoption"),
    "start_procurement": _l("Start procurement"),
    "record_award": _l("Record the award"),
    "start_use": _l("Record first use"),
    "discontinue_use": _l("Discontinue use"),
    "record_barrier": _l("Record an adoption barrier"),
    "resolve_barrier": _l("Resolve the barrier"),
    "escalate_barrier": _l("Escalate to the agency"),
    "request_tariff": _l("Ask the region for the tariff"),
    # Reimbursement workflow (the region's tariff)
    "start_tariff_evaluation": _l("Start evaluating the tariff"),
    "assign_tariff": _l("Assign the tariff or code"),
    "declare_tariff_not_needed": _l("Declare no specific tariff needed"),
    "refuse_tariff": _l("Refuse the tariff"),
}

# One sentence under the button: what the action does and who comes next.
ACTION_HELP = {
    "submit": _l("Sends the request to the agency; the admissibility clock starts."),
    "mark_incomplete": _l("Returns the file to the manufacturer with the list of missing items."),
    "resubmit": _l("Sends the completed file back to the agency for the admissibility check."),
    "declare_inadmissible": _l("Closes the request: it cannot be assessed."),
    "admit": _l("The request joins the queue for the next prioritisation round."),
    "prioritise": _l("The request goes on to be assigned to a regional HTA body."),
    "defer": _l("The request goes back to the queue for a later round."),
    "assign_body": _l("The chosen body is asked to accept the assessment."),
    "decline_assignment": _l("The agency will pick another body."),
    "request_information": _l("The clock stops until the manufacturer answers."),
    "send_draft_report": _l("The manufacturer checks the draft report for factual errors."),
    "finalise_report": _l("The report goes to the agency for appraisal."),
    "open_consultation": _l("The draft recommendation is published for public comments."),
    "publish": _l("Publishes the final recommendation; a positive one starts adoption."),
    "withdraw": _l("Closes the request at your request. This cannot be undone."),
    "suspend": _l("Stops the process on a safety signal or a suspended CE certificate."),
    "resume": _l("Returns the request to the state it was suspended from."),
    "ask_designation": _l(
        "Asks the agency to add your IRCCS to the centres where the device may be used."
    ),
    "designate_centre": _l(
        "Adds the IRCCS to the designated centres: it gets an adoption record at once."
    ),
    "refuse_designation": _l("Tells the IRCCS why it is not added to the designated centres."),
    "decline": _l("Records that this IRCCS will not adopt the device, and why."),
    "start_procurement": _l("Records how the device is bought; the procurement clock starts."),
    "record_award": _l(
        "Records the awarded tender; the price is seen only by your IRCCS and the agency."
    ),
    "start_use": _l("Records the date of first clinical use."),
    "record_barrier": _l(
        "Records what keeps your IRCCS from using the device, who must remove it and by when."
    ),
    "resolve_barrier": _l("Closes the barrier with a note on how it was removed."),
    "escalate_barrier": _l("Hands the barrier to the agency, with the reason."),
    "request_tariff": _l(
        "Asks the region of this IRCCS for the tariff of the procedure; its users decide."
    ),
    "assign_tariff": _l("Records the region's tariff; tariffs are public."),
}

REASON_LABEL = _l("Reason")
OPTIONAL_REASON_LABEL = _l("Note (optional)")

FIELD_LABELS = {
    "reason": REASON_LABEL,
    "missing_items": _l("Missing items"),
    "route_to": _l("Route to"),
    "regional_body": _l("Regional HTA body"),
    "questions": _l("Questions"),
    "answers": _l("Answers"),
    "comments": _l("Comments on the draft report"),
    "outcome": _l("Outcome"),
    "rationale": _l("Rationale"),
    "conditions": _l("Conditions of use"),
    "evidence_requirements": _l("Evidence to be generated"),
    "review_date": _l("Review date"),
    "decline_reason": _l("Reason for declining"),
    "decision_date": _l("Date of the decision"),
    "first_use_date": _l("Date of the first patient"),
    "fsn_number": _l("Field safety notice number"),
    "authority_reference": _l("Competent authority reference"),
    "designated_centres": _l("Designated centres"),
    "irccs": _l("IRCCS"),
    "designation_criteria": _l("How the centres were chosen"),
    "procurement_route": _l("Procurement route"),
    "tender_cig": _l("Tender reference (CIG)"),
    "call_date": _l("Date of the call for tender"),
    "award_date": _l("Date of the award"),
    "awarded_price": _l("Awarded price (EUR)"),
    "supplier": _l("Supplier"),
    "barrier_kind": _l("Barrier"),
    "barrier_description": _l("What stands in the way"),
    "barrier_owner": _l("Who must remove it"),
    "barrier_due_date": _l("Due date"),
    "barrier": _l("Barrier number"),
    "resolution_note": _l("How it was resolved"),
    "tariff_kind": _l("Kind of tariff"),
    "tariff_code": _l("DRG or tariff code"),
    "tariff_amount": _l("Tariff (EUR)"),
    "effective_date": _l("Effective from"),
}

# Data the workflow service adds to an audit entry beyond the form's fields.
AUDIT_DATA_LABELS = {
    "receipt_number": _l("Receipt number"),
    "declined_body": _l("Declining body"),
    "adoption_records_created": _l("Adoption records created"),
    "priority_index": _l("Priority index"),
    "priority_weights": _l("Criteria weights used"),
    "criteria_scored": _l("Criteria scored"),
    "region": _l("Region"),
}

ROUTE_LABELS = {
    "eu_joint_clinical_assessment": _l("EU joint clinical assessment"),
    "other_programme": _l("Another programme"),
}

DECLINE_REASON_LABELS = {
    "no_eligible_patients": _l("No eligible patients"),
    "no_budget": _l("No budget"),
    "no_infrastructure_or_training": _l("No infrastructure or training"),
    "clinical_disagreement": _l("Clinical disagreement"),
    "awaiting_regional_tariff": _l("Awaiting a regional tariff"),
}

OUTCOME_LABELS = {
    "recommended": _l("Recommended"),
    "recommended_restricted": _l("Recommended with restrictions"),
    "recommended_with_evidence_generation": _l("Recommended with evidence generation"),
    "only_in_research": _l("Only in research"),
    "not_recommended": _l("Not recommended"),
    "insufficient_evidence": _l("Insufficient evidence"),
}

PROCUREMENT_ROUTE_LABELS = {
    "central_purchasing_body": _l("Central purchasing body"),
    "regional_aggregator": _l("Regional aggregator"),
    "direct": _l("Direct procurement"),
    "pre_commercial": _l("Pre-commercial procurement"),
}

BARRIER_KIND_LABELS = {
    "no_budget": _l("No budget"),
    "awaiting_tariff": _l("Awaiting a regional tariff"),
    "infrastructure": _l("Infrastructure"),
    "training": _l("Training"),
    "clinical_consensus": _l("Clinical consensus"),
    "organisational": _l("Organisational"),
    "other": _l("Other"),
}

BARRIER_OWNER_LABELS = {
    "irccs": _l("The IRCCS"),
    "region": _l("The region"),
    "agency": _l("The agency"),
}

BARRIER_STATUS_LABELS = {
    "open": _l("Open"),
    "escalated": _l("Escalated to the agency"),
    "resolved": _l("Resolved"),
}

TARIFF_KIND_LABELS = {
    "drg": _l("DRG (hospital stay)"),
    "outpatient": _l("Outpatient tariff code"),
}

# The labels of each choice field's options, by field name.
CHOICE_LABELS = {
    "barrier_kind": BARRIER_KIND_LABELS,
    "barrier_owner": BARRIER_OWNER_LABELS,
    "barrier_status": BARRIER_STATUS_LABELS,
    "tariff_kind": TARIFF_KIND_LABELS,
    "procurement_route": PROCUREMENT_ROUTE_LABELS,
    "route_to": ROUTE_LABELS,
    "decline_reason": DECLINE_REASON_LABELS,
    "outcome": OUTCOME_LABELS,
}

# Help under a "lines" field (a list typed one item per line).
LINES_HELP = _l("One item per line.")

SYSTEM_ROLE_LABEL = _l("System")

# The service's field error codes (`validate_transition_data`) as sentences.
FIELD_ERROR_MESSAGES = {
    "required": _l("This field is required."),
    "invalid_choice": _l("Choose one of the options."),
    "empty_line": _l("Remove the empty lines."),
    "invalid_date": _l("Enter a valid date."),
    "not_in_future": _l("Choose a date after today."),
    "in_future": _l("Choose today or an earlier date."),
    "invalid_cig": _l("A CIG is 10 characters: capital letters and digits."),
    "invalid_amount": _l("Enter a positive amount in euro, with a dot before the cents."),
}
GENERIC_FIELD_ERROR = _l("This value is not valid.")


def action_label(trigger: str) -> str:
    return str(ACTION_LABELS.get(trigger, trigger))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name) or AUDIT_DATA_LABELS.get(name) or name)


def choice_label(field_name: str, code: str) -> str:
    return str(CHOICE_LABELS.get(field_name, {}).get(code, code))


def field_error_message(code: str) -> str:
    return str(FIELD_ERROR_MESSAGES.get(code, GENERIC_FIELD_ERROR))


# --- Audit-trail entries written outside the workflow -----------------------------------------
# (documents, questions, the dossier, the assessment, conflicts of interest, the consultation,
# usage reports): their actions and data keys get words too.

OTHER_AUDIT_ACTION_LABELS = {
    "dossier_updated": _l("Dossier edited"),
    "priority_scores_edited": _l("Priority scores edited"),
    "priority_weights_edited": _l("Priority weights edited"),
    "coi_declared": _l("Conflict of interest declaration"),
    "coi_amended": _l("Conflict of interest declaration amended"),
    "coi_overridden": _l("Conflict of interest overridden by the agency"),
    "assessment_edited": _l("Assessment edited"),
    "factual_comment_answered": _l("Factual-accuracy comment answered"),
    "usage_reported": _l("Quarterly usage reported"),
    "usage_corrected": _l("Quarterly usage corrected"),
    "publish_comment": _l("Consultation comment published"),
    "reject_comment": _l("Consultation comment rejected"),
    "answer_comment": _l("Consultation comment answered"),
    **DOCUMENT_AUDIT_ACTION_LABELS,
}
ACTION_LABELS.update(OTHER_AUDIT_ACTION_LABELS)
AUDIT_DATA_LABELS.update(DOCUMENT_AUDIT_DATA_LABELS)
CHOICE_LABELS["doc_type"] = DOC_TYPE_LABELS
