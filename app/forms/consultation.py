"""Consultation forms: the public comment form and the agency's moderation and answer forms.

Validation only: whether the consultation is open, and who may moderate, is the service's job
(`app.public.consultation`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.forms.base import AppForm
from app.public.consultation import MAX_TEXT

HONEYPOT_FIELD = "website"


class CommentForm(AppForm):
    """A comment on a draft recommendation. `website` is a honeypot: hidden from people,
    filled in by bots; a comment that fills it is silently dropped."""

    author_name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=200)],
        description=_l("Optional. Shown with your comment; leave it empty to comment anonymously."),
    )
    author_email = EmailField(
        _l("Your email"),
        validators=[
            Optional(),
            Email(message=_l("Enter a valid email address, such as name@example.org.")),
            Length(max=254),
        ],
        description=_l("Optional and private: never published; the agency may use it to reply."),
    )
    text = TextAreaField(
        _l("Your comment"),
        validators=[
            DataRequired(message=_l("Write your comment.")),
            Length(
                max=MAX_TEXT,
                message=_l("A comment may be at most %(max)d characters long.", max=MAX_TEXT),
            ),
        ],
    )
    website = StringField(_l("Leave this field empty"))

    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


class ModerationForm(AppForm):
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("publish", _l("Publish")), SelectChoice("reject", _l("Reject"))],
        validators=[DataRequired(message=_l("Choose publish or reject."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=2000)],
        description=_l("Required when rejecting; kept in the audit trail, never published."),
    )

    def validate_reason(self, field) -> None:
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the comment is rejected."))


class AnswerForm(AppForm):
    answer = TextAreaField(
        _l("Answer of the agency"),
        validators=[
            DataRequired(message=_l("Write the answer.")),
            Length(max=MAX_TEXT),
        ],
        description=_l("Published under the comment."),
    )
