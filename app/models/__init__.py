"""The models, one module per aggregate. Importing this package registers them all."""

from app.models.adoption import (
    Adoption,
    DesignatedCentre,
    DesignationRequest,
    Procurement,
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
from app.models.barriers import AdoptionBarrier
from app.models.consultation import ConsultationComment
from app.models.documents import Document, DocumentVersion
from app.models.evidence import EvidenceMilestone
from app.models.information import Answer, AnswerAttachment, InformationRound, Question
from app.models.needs import ClinicalNeed, NeedEndorsement, NeedLink
from app.models.notifications import Notification, NotificationPreference, ReminderSetting
from app.models.organisations import Organisation, RecoveryCode, User
from app.models.reimbursement import Reimbursement
from app.models.report_cache import ReportCacheEntry
from app.models.requests import Comparator, DeviceRequest, EvidenceItem
from app.models.reuse import DomainReuse, PriorAssessment
from app.models.safety import SafetyAlert, SafetyThreshold
from app.models.sessions import UserSession
from app.models.usage import UsageReport
from app.models.workflow import DeadlineSetting, PatientPathRow, RequestTiming, StageRecord

__all__ = [
    "Adoption",
    "AdoptionBarrier",
    "Answer",
    "AnswerAttachment",
    "ApiRateCounter",
    "ApiToken",
    "AssessmentReport",
    "AuditAnchor",
    "AuditChainHead",
    "AuditEntry",
    "ClinicalNeed",
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
    "DomainReuse",
    "EvidenceItem",
    "EvidenceMilestone",
    "FactualComment",
    "IdempotencyRecord",
    "InformationRound",
    "NeedEndorsement",
    "NeedLink",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "PatientPathRow",
    "PriorAssessment",
    "PriorityScore",
    "PriorityWeight",
    "Procurement",
    "Question",
    "Recommendation",
    "RecoveryCode",
    "Reimbursement",
    "ReminderSetting",
    "ReportCacheEntry",
    "RequestTiming",
    "SafetyAlert",
    "SafetyThreshold",
    "StageRecord",
    "UsageReport",
    "User",
    "UserSession",
]
