"""The models, one module per aggregate. Importing this package registers them all."""

from app.models.adoption import Adoption, Recommendation
from app.models.assessment import (
    AssessmentReport,
    CoiDeclaration,
    DomainAssessment,
    FactualComment,
    PriorityScore,
    PriorityWeight,
)
from app.models.audit import AuditChainHead, AuditEntry
from app.models.consultation import ConsultationComment
from app.models.organisations import Organisation, User
from app.models.requests import Comparator, DeviceRequest, EvidenceItem
from app.models.usage import UsageReport
from app.models.workflow import DeadlineSetting, StageRecord

__all__ = [
    "Adoption",
    "AssessmentReport",
    "AuditChainHead",
    "AuditEntry",
    "CoiDeclaration",
    "Comparator",
    "ConsultationComment",
    "DeadlineSetting",
    "DeviceRequest",
    "DomainAssessment",
    "EvidenceItem",
    "FactualComment",
    "Organisation",
    "PriorityScore",
    "PriorityWeight",
    "Recommendation",
    "StageRecord",
    "UsageReport",
    "User",
]
