"""The models, one module per aggregate. Importing this package registers them all."""

from app.models.adoption import (
    Adoption,
    DesignatedCentre,
    DesignationRequest,
    Recommendation,
)
from app.models.api import ApiRateCounter, ApiToken, IdempotencyRecord
from app.models.assessment import (
    AssessmentReport,
    CoiDeclaration,
    DomainAssessment,
    FactualComment,
    PriorityScore,
    PriorityWeight,
)
from app.models.audit import AuditAnchor, AuditChainHead, AuditEntry
from app.models.consultation import ConsultationComment
from app.models.documents import Document, DocumentVersion
from app.models.information import Answer, AnswerAttachment, InformationRound, Question
from app.models.notifications import Notification, NotificationPreference, ReminderSetting
from app.models.organisations import Organisation, RecoveryCode, User
from app.models.requests import Comparator, DeviceRequest, EvidenceItem
from app.models.usage import UsageReport
from app.models.workflow import DeadlineSetting, RequestTiming, StageRecord

__all__ = [
    "Adoption",
    "Answer",
    "AnswerAttachment",
    "ApiRateCounter",
    "ApiToken",
    "AssessmentReport",
    "AuditAnchor",
    "AuditChainHead",
    "AuditEntry",
    "CoiDeclaration",
    "Comparator",
    "ConsultationComment",
    "DeadlineSetting",
    "DesignatedCentre",
    "DesignationRequest",
    "DeviceRequest",
    "Document",
    "DocumentVersion",
    "DomainAssessment",
    "EvidenceItem",
    "FactualComment",
    "IdempotencyRecord",
    "InformationRound",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "PriorityScore",
    "PriorityWeight",
    "Question",
    "Recommendation",
    "RecoveryCode",
    "ReminderSetting",
    "RequestTiming",
    "StageRecord",
    "UsageReport",
    "User",
]
