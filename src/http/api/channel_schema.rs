//! The documented shape of a channel as `/api/v1/channels` answers it: the CIM
//! `channel` object (built in `store::directory`, shared with the widget and
//! connectors) plus `enabled` and `deleted`. These types exist for the OpenAPI
//! document only; `tests/openapi_doc.rs` checks real answers against them.
#![allow(dead_code)] // documentation types: described, never built

use serde::Serialize;
use serde_json::Value;

/// A channel: the CIM `channel` object plus `enabled` and `deleted`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    pub name: String,
    /// The identifier customers and connectors address the channel by.
    pub service_identifier: String,
    pub default_outbound: bool,
    pub tenant: Tenant,
    pub channel_config: ChannelConfig,
    pub channel_connector: ChannelConnector,
    pub channel_type: ChannelType,
    /// A disabled channel takes no new chats; running ones finish.
    pub enabled: bool,
    /// Deleted channels with history stay readable by id.
    pub deleted: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: Option<String>,
}

/// `channel.channelConfig`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelConfig {
    /// HYBRID.
    pub channel_mode: String,
    pub conversation_bot: String,
    /// Seconds an agent has to answer a customer (0: none).
    pub response_sla: i64,
    /// Seconds of customer silence after which the chat ends.
    pub customer_activity_timeout: i64,
    #[schema(value_type = Object)]
    pub customer_sla: Value,
    #[schema(value_type = Object)]
    pub customer_identification_criteria: Value,
    pub routing_policy: RoutingPolicy,
    pub bot_id: String,
}

/// `channelConfig.routingPolicy`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingPolicy {
    /// LONGEST_AVAILABLE, LEAST_ACTIVE_TASKS or MOST_SKILLED.
    pub agent_selection_policy: String,
    pub route_to_last_agent: bool,
    /// PUSH (to a queue) or PULL (to a pull list).
    pub routing_mode: String,
    /// The queue (PUSH) or pull list (PULL) id.
    pub routing_object_id: Option<String>,
    /// Seconds routing keeps looking for an agent (PUSH) or a pull request lives (PULL).
    pub agent_request_ttl: i64,
}

/// `channel.channelConnector`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelConnector {
    pub id: String,
    pub name: String,
    pub channel_provider_interface: ChannelProvider,
    #[schema(value_type = Vec<Object>)]
    pub channel_provider_configs: Vec<Value>,
    pub tenant: Tenant,
}

/// `channelConnector.channelProviderInterface`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelProvider {
    pub id: String,
    pub name: String,
    pub supported_channel_types: Vec<ChannelType>,
    /// Where outbound messages of the channel are posted ("" for web chat).
    pub provider_webhook: String,
    #[schema(value_type = Vec<Object>)]
    pub channel_provider_config_schema: Vec<Value>,
}

/// `channel.channelType` (also `GET /api/v1/channel-types`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelType {
    pub id: String,
    /// WEB, WHATSAPP, ...
    pub name: String,
    pub channel_logo: String,
    pub is_interactive: bool,
    /// The MRD id its chats are routed on.
    pub media_routing_domain: String,
}
