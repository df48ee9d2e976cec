//! The Customer Interaction Model (CIM): serde types for every object in the seed
//! documents, with the seeds' exact field names.
//!
//! Two rules hold for every type here, so a deserialized seed re-serializes to the
//! identical JSON value:
//! - unknown keys are kept in a `#[serde(flatten)] extra` map and written back;
//! - optional fields are [`Nullable`], which tells an absent key from an explicit `null`.
//!
//! Vocabularies (event names, states, roles, ...) are enums with an `Other(String)`
//! arm, so names this build does not know pass through unchanged. Where the seeds show
//! two generations of a shape (channel-session `state`, `topicId` vs
//! `conversationId`), both are read and kept; `normalize_to_current` produces the newer
//! shape for emitting. Constructors (`new`, `customer`, `agent`, `system`, ...) build the
//! newer shapes; `from_value`-style validators return a [`CimError`] naming the field.

mod body;
mod channel;
mod channel_data;
mod channel_session;
mod conversation;
mod customer;
mod desk;
mod error;
mod event;
mod event_json;
mod message;
mod nullable;
mod origin;
mod participant;
mod room;
mod string_enum;
mod studio;
mod task;
mod user;

pub use body::{
    validate_body, Attachment, Button, ButtonBody, ContactBody, DeliveryNotificationBody,
    DeliveryStatus, GeoPoint, LocationBody, MediaBody, MessageBody, NotificationBody,
    NotificationType, PlainBody, UrlBody, WrapupBody, WrapupEntry,
};
pub use channel::{
    AgentSelectionPolicy, Channel, ChannelConfig, ChannelConnector, ChannelMode,
    ChannelProviderInterface, ChannelType, CustomerIdentificationCriteria, CustomerSla,
    RoutingMode, RoutingPolicy, Sla, Tenant,
};
pub use channel_data::{
    AdditionalAttribute, BrowserDeviceInfo, ChannelData, FormAttribute, FormData, Locale,
    WebChannelData, WEB_CHANNEL_DATA,
};
pub use channel_session::{
    ChannelSession, ChannelSessionReasonCode, ChannelSessionState, ChannelSessionStateName,
    ChannelSessionStatus, CustomerPresence, Direction, CHANNEL_SESSION_PARTICIPANT_TYPE,
};
pub use conversation::{
    AgentHandRaise, AgentSla, Conversation, ConversationDataEntry, ConversationDataType,
    ConversationMetadata, ConversationState, HoldTimerDetails,
};
pub use customer::Customer;
pub use desk::{
    AssistanceMode, CloseWrapup, ConsultConferenceRequest, ConsultTransferRequest,
    DirectConferenceRequest, DirectTransferRequest,
};
pub use error::{check_len, json_kind, nests_deeper_than, CimError, MAX_ID_LEN, MAX_JSON_DEPTH};
pub use event::{
    event_text, system_emitter_id, wire_text, AgentSubscriptionData, CimEvent, CimEventName,
    CimEventType, EmitterType, EventData, EventEmitter, FindAgentData, MrdInterruptedData,
    ParticipantRoleChangedData, TaskEnqueuedData,
};
pub use message::{CimMessage, MessageHeader, MessageSender};
pub use nullable::Nullable;
pub use origin::{MessageOrigin, StampedData};
pub use participant::{
    Bot, Participant, ParticipantEntity, ParticipantRole, ParticipantState, ParticipantType,
    BOT_PARTICIPANT_TYPE,
};
pub use room::{RoomInfo, RoomMode};
pub use studio::{StudioConversation, StudioEntities, StudioMessage, StudioPayload};
pub use task::{
    QueueRef, Task, TaskMedia, TaskMediaState, TaskMode, TaskState, TaskStateName, TaskStateReason,
    TaskType, TaskTypeMetadata,
};
pub use user::{
    CcUser, KeycloakUser, PermittedResource, PermittedResources, UserTeam,
    CC_USER_PARTICIPANT_TYPE, SWITCHBOARD_REALM,
};

/// Sample CIM objects for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod fixtures {
    pub(crate) use super::channel_session::tests::started_session;
    pub(crate) use super::user::tests::agent1;
}
