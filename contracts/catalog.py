"""Every event model by type name, and the topic of each context."""

from contracts.alerting import (AlertBreachRepeated, AlertCirculated, AlertRaised, AlertReferred, AlertTransitioned, FundsRecoveryOrdered, ReferralConcluded, FundsSuspended, MonthClosed, RequirementCommented, RequirementProposed,
                               RuleApproved, RuleCycleOpened, RuleLevelChanged, RuleProposalReviewed, RuleProposalsSubmitted, RuleProposed,
                               SuspensionLiftDecided, SuspensionLiftRequested)
from contracts.envelope import DomainEvent
from contracts.gateway import (AccountLocked, ApiKeyIssued, ApiKeyRevoked, ApiKeyRotated, ExportCosigned,
                               ExportDownloaded, ExportRequested, InitialPasswordIssued, PasswordChanged,
                               PermissionApplicationDecided, PermissionApplicationForwarded,
                               PermissionApplicationResubmitted, PermissionApplicationReturned,
                               PermissionApplicationSubmitted, PermissionFormExported, SecondFactorChanged, UserChanged,
                               UserRegistered, UserRevoked)
from contracts.ledger import (FundsRecovered, IndicatorAdjusted, IndicatorAllocated, IndicatorCorrected, IndicatorDocumentAttached,
                              IndicatorRegistered, LibraryDocumentFiled, LibraryDocumentRead)
from contracts.notifications import LiaisonsSet
from contracts.payments import PaymentRecorded, PaymentRefunded
from contracts.performance import FilingReviewed, GoalsSet, ProgressReported, SelfEvaluated
from contracts.sync import (ExchangeAuthorizationRevoked, ExchangeAuthorized, IndicatorIssued,
                            IssuedIndicatorReconciled, MonthlyReportDrafted, MonthlyReportStepped,
                            PermissionAnswerReceived, RollupComputed, RuleLevelsReceived)
from contracts.registry import (PersonalDataRevealed, PoorPopulationRecorded, PublicEmployeesRecorded,
                                RegistryImportCompleted, RegistryPersonsRemoved)

CONTEXTS = ("ledger", "payments", "registry", "performance", "alerting", "sync", "gateway")
DEAD_LETTER_TOPIC = "fundwatch.deadletter.v1"

EVENT_MODELS: dict[str, type[DomainEvent]] = {
    model.event_type: model for model in (IndicatorRegistered, IndicatorAllocated, IndicatorAdjusted, IndicatorCorrected, IndicatorDocumentAttached,
                  LibraryDocumentFiled, LibraryDocumentRead, PaymentRecorded, PaymentRefunded, PoorPopulationRecorded, PublicEmployeesRecorded,
                  RegistryPersonsRemoved, RegistryImportCompleted, PersonalDataRevealed, AlertRaised,
                  AlertTransitioned, AlertBreachRepeated, AlertReferred, ReferralConcluded, AlertCirculated, FundsRecoveryOrdered, FundsRecovered, FundsSuspended, SuspensionLiftRequested,
                  SuspensionLiftDecided, RuleProposed, RuleProposalReviewed, RuleApproved,
                  RequirementProposed, RequirementCommented, RuleCycleOpened, RuleProposalsSubmitted, MonthClosed, GoalsSet,
                  ProgressReported, FilingReviewed, SelfEvaluated, UserRegistered, ApiKeyIssued, ApiKeyRevoked,
                  ApiKeyRotated, PasswordChanged, AccountLocked, PermissionApplicationSubmitted,
                  PermissionApplicationReturned, PermissionApplicationResubmitted, PermissionApplicationForwarded,
                  PermissionApplicationDecided, UserChanged, UserRevoked, InitialPasswordIssued, PermissionFormExported,
                  ExportRequested, ExportCosigned, ExportDownloaded, SecondFactorChanged, RollupComputed,
                  ExchangeAuthorized, ExchangeAuthorizationRevoked, MonthlyReportDrafted, MonthlyReportStepped,
                  IndicatorIssued, IssuedIndicatorReconciled, PermissionAnswerReceived, RuleLevelsReceived,
                  RuleLevelChanged, LiaisonsSet)
}


def topic_for(context: str) -> str:
    """The Kafka topic a context publishes to."""
    return f"fundwatch.{context}.v1"


ALL_TOPICS = tuple(topic_for(c) for c in CONTEXTS) + (DEAD_LETTER_TOPIC,)


def topic_of_event(event_type: str) -> str:
    """The topic an event is published to: its context's."""
    return topic_for(EVENT_MODELS[event_type].context)
