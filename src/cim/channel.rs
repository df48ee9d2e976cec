//! The channel a customer reaches the contact center through, as embedded in every
//! channel session: `Channel` with its `ChannelConfig` (SLAs, `RoutingPolicy`), its
//! `ChannelConnector` / `ChannelProviderInterface` (where outbound messages go) and its
//! `ChannelType` (which carries the media routing domain).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::nullable::Nullable;
use super::string_enum::string_enum;

string_enum! {
    /// `channelConfig.channelMode`.
    pub enum ChannelMode {
        Hybrid = "HYBRID",
        Bot = "BOT",
        Agent = "AGENT",
    }
}

string_enum! {
    /// `routingPolicy.routingMode`: PUSH routes through a queue, PULL lists requests
    /// for agents to pick.
    pub enum RoutingMode {
        Push = "PUSH",
        Pull = "PULL",
        External = "EXTERNAL",
    }
}

string_enum! {
    /// `routingPolicy.agentSelectionPolicy`.
    pub enum AgentSelectionPolicy {
        LongestAvailable = "LONGEST_AVAILABLE",
    }
}

/// `tenant`: `{id, name}` (name is `null` in every seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tenant {
    /// A tenant with the given id and a `null` name, as the seeds show it.
    pub fn new(id: impl Into<String>) -> Self {
        Tenant {
            id: id.into(),
            name: Nullable::Null,
            extra: Map::new(),
        }
    }
}

/// An SLA timer: `channelConfig.customerSla` and `conversation.agentSla` share this
/// shape `{totalDuration, action, startTime}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sla {
    /// Seconds.
    #[serde(
        rename = "totalDuration",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub total_duration: Nullable<i64>,
    /// What to do on expiry; `null` in every seed, so its shape is kept as JSON.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub action: Nullable<Value>,
    /// Epoch milliseconds when the timer started.
    #[serde(
        rename = "startTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub start_time: Nullable<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Sla {
    /// An unset timer: all three fields `null`, as a fresh channel or conversation has.
    pub fn unset() -> Self {
        Sla {
            total_duration: Nullable::Null,
            action: Nullable::Null,
            start_time: Nullable::Null,
            extra: Map::new(),
        }
    }
}

/// `channelConfig.customerSla`.
pub type CustomerSla = Sla;

/// `channelConfig.customerIdentificationCriteria`: `{value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CustomerIdentificationCriteria {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub value: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `channelConfig.routingPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingPolicy {
    #[serde(rename = "agentSelectionPolicy")]
    pub agent_selection_policy: AgentSelectionPolicy,
    #[serde(rename = "routeToLastAgent")]
    pub route_to_last_agent: bool,
    #[serde(rename = "routingMode")]
    pub routing_mode: RoutingMode,
    /// The queue id for PUSH routing.
    #[serde(
        rename = "routingObjectId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub routing_object_id: Nullable<String>,
    /// Seconds the routing engine keeps looking for an agent.
    #[serde(rename = "agentRequestTtl")]
    pub agent_request_ttl: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RoutingPolicy {
    /// A routing policy; `queue_id` is the `routingObjectId` (`None` emits `null`).
    pub fn new(
        routing_mode: RoutingMode,
        agent_selection_policy: AgentSelectionPolicy,
        queue_id: Option<String>,
        agent_request_ttl: i64,
        route_to_last_agent: bool,
    ) -> Self {
        RoutingPolicy {
            agent_selection_policy,
            route_to_last_agent,
            routing_mode,
            routing_object_id: queue_id.into(),
            agent_request_ttl,
            extra: Map::new(),
        }
    }
}

/// `channel.channelConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    pub id: String,
    #[serde(
        rename = "channelMode",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_mode: Nullable<ChannelMode>,
    #[serde(
        rename = "conversationBot",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_bot: Nullable<String>,
    /// Seconds.
    #[serde(
        rename = "responseSla",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub response_sla: Nullable<i64>,
    /// Seconds of customer silence before the channel session expires.
    #[serde(
        rename = "customerActivityTimeout",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_activity_timeout: Nullable<i64>,
    /// Present in the newer seeds only.
    #[serde(
        rename = "customerSla",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_sla: Nullable<CustomerSla>,
    #[serde(
        rename = "customerIdentificationCriteria",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_identification_criteria: Nullable<CustomerIdentificationCriteria>,
    #[serde(
        rename = "routingPolicy",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub routing_policy: Nullable<RoutingPolicy>,
    #[serde(rename = "botId", default, skip_serializing_if = "Nullable::is_absent")]
    pub bot_id: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelConfig {
    /// A HYBRID channel config in the newer shape, with the given routing policy and
    /// timeouts (seconds).
    pub fn new(
        id: impl Into<String>,
        routing_policy: RoutingPolicy,
        customer_activity_timeout: i64,
        response_sla: i64,
        bot_id: Option<String>,
    ) -> Self {
        ChannelConfig {
            id: id.into(),
            channel_mode: ChannelMode::Hybrid.into(),
            conversation_bot: String::new().into(),
            response_sla: response_sla.into(),
            customer_activity_timeout: customer_activity_timeout.into(),
            customer_sla: Sla::unset().into(),
            customer_identification_criteria: CustomerIdentificationCriteria {
                value: Nullable::Null,
                extra: Map::new(),
            }
            .into(),
            routing_policy: routing_policy.into(),
            bot_id: bot_id.into(),
            extra: Map::new(),
        }
    }
}

/// `channelType` (also the entries of `supportedChannelTypes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelType {
    pub id: String,
    /// e.g. `WEB`, `CX_VOICE`.
    pub name: String,
    #[serde(
        rename = "channelLogo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_logo: Nullable<String>,
    #[serde(
        rename = "isInteractive",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub is_interactive: Nullable<bool>,
    /// The MRD id this channel type's requests are routed on.
    #[serde(
        rename = "mediaRoutingDomain",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub media_routing_domain: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelType {
    /// An interactive channel type routed on the MRD `mrd_id`; the logo follows the
    /// seeds' `_<NAME>.svg` convention.
    pub fn new(id: impl Into<String>, name: impl Into<String>, mrd_id: impl Into<String>) -> Self {
        let name = name.into();
        ChannelType {
            id: id.into(),
            channel_logo: format!("_{name}.svg").into(),
            name,
            is_interactive: true.into(),
            media_routing_domain: mrd_id.into().into(),
            extra: Map::new(),
        }
    }
}

/// `channelConnector.channelProviderInterface`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelProviderInterface {
    pub id: String,
    pub name: String,
    #[serde(rename = "supportedChannelTypes")]
    pub supported_channel_types: Vec<ChannelType>,
    /// Where outbound CIM messages for this provider are POSTed.
    #[serde(
        rename = "providerWebhook",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub provider_webhook: Nullable<String>,
    /// Empty in every seed; kept as JSON.
    #[serde(
        rename = "channelProviderConfigSchema",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_provider_config_schema: Nullable<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelProviderInterface {
    /// A provider interface with an optional webhook (`None` emits `null`).
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        provider_webhook: Option<String>,
        supported_channel_types: Vec<ChannelType>,
    ) -> Self {
        ChannelProviderInterface {
            id: id.into(),
            name: name.into(),
            supported_channel_types,
            provider_webhook: provider_webhook.into(),
            channel_provider_config_schema: Vec::new().into(),
            extra: Map::new(),
        }
    }
}

/// `channel.channelConnector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelConnector {
    pub id: String,
    pub name: String,
    #[serde(rename = "channelProviderInterface")]
    pub channel_provider_interface: ChannelProviderInterface,
    /// Empty in every seed; kept as JSON.
    #[serde(
        rename = "channelProviderConfigs",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_provider_configs: Nullable<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tenant: Nullable<Tenant>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelConnector {
    /// A connector for the given provider interface.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        channel_provider_interface: ChannelProviderInterface,
        tenant: Tenant,
    ) -> Self {
        ChannelConnector {
            id: id.into(),
            name: name.into(),
            channel_provider_interface,
            channel_provider_configs: Vec::new().into(),
            tenant: tenant.into(),
            extra: Map::new(),
        }
    }
}

/// `channelSession.channel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: String,
    /// Newer seeds only.
    #[serde(
        rename = "calendarId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub calendar_id: Nullable<String>,
    pub name: String,
    /// The identifier customers and connectors address the channel by (e.g. `1122`).
    #[serde(rename = "serviceIdentifier")]
    pub service_identifier: String,
    /// Newer seeds only.
    #[serde(
        rename = "defaultOutbound",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub default_outbound: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tenant: Nullable<Tenant>,
    #[serde(rename = "channelConfig")]
    pub channel_config: ChannelConfig,
    #[serde(rename = "channelConnector")]
    pub channel_connector: ChannelConnector,
    #[serde(rename = "channelType")]
    pub channel_type: ChannelType,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Channel {
    /// A channel in the newer shape (`calendarId: ""`, `defaultOutbound: false`).
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        service_identifier: impl Into<String>,
        tenant: Tenant,
        channel_config: ChannelConfig,
        channel_connector: ChannelConnector,
        channel_type: ChannelType,
    ) -> Self {
        Channel {
            id: id.into(),
            calendar_id: String::new().into(),
            name: name.into(),
            service_identifier: service_identifier.into(),
            default_outbound: false.into(),
            tenant: tenant.into(),
            channel_config,
            channel_connector,
            channel_type,
            extra: Map::new(),
        }
    }

    /// The routing policy, if the channel config has one.
    pub fn routing_policy(&self) -> Option<&RoutingPolicy> {
        self.channel_config.routing_policy.get()
    }

    /// The MRD id requests on this channel are routed on.
    pub fn media_routing_domain(&self) -> Option<&str> {
        self.channel_type.media_routing_domain.as_deref_str()
    }

    /// The provider webhook outbound messages go to.
    pub fn provider_webhook(&self) -> Option<&str> {
        self.channel_connector
            .channel_provider_interface
            .provider_webhook
            .as_deref_str()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A WEB channel built only from constructors, shared by other modules' tests.
    pub(crate) fn web_channel() -> Channel {
        let web = ChannelType::new("ct-web", "WEB", "mrd-chat");
        let provider = ChannelProviderInterface::new(
            "cpi-1",
            "web",
            Some("http://127.0.0.1:7000".into()),
            vec![web.clone()],
        );
        let connector = ChannelConnector::new("cc-1", "web", provider, Tenant::new("t-1"));
        let policy = RoutingPolicy::new(
            RoutingMode::Push,
            AgentSelectionPolicy::LongestAvailable,
            Some("queue-default".into()),
            120,
            false,
        );
        let config = ChannelConfig::new("cfg-1", policy, 120, 0, None);
        Channel::new(
            "ch-1",
            "web",
            "1122",
            Tenant::new("t-1"),
            config,
            connector,
            web,
        )
    }

    #[test]
    fn built_channel_has_the_newer_seed_shape() {
        let value = serde_json::to_value(web_channel()).unwrap();
        assert_eq!(value["calendarId"], json!(""));
        assert_eq!(value["defaultOutbound"], json!(false));
        assert_eq!(value["tenant"], json!({"id": "t-1", "name": null}));
        assert_eq!(
            value["channelConfig"]["customerSla"],
            json!({"totalDuration": null, "action": null, "startTime": null})
        );
        assert_eq!(
            value["channelConfig"]["routingPolicy"],
            json!({
                "agentSelectionPolicy": "LONGEST_AVAILABLE",
                "routeToLastAgent": false,
                "routingMode": "PUSH",
                "routingObjectId": "queue-default",
                "agentRequestTtl": 120
            })
        );
        assert_eq!(value["channelConfig"]["botId"], json!(null));
        assert_eq!(value["channelType"]["channelLogo"], json!("_WEB.svg"));
        assert_eq!(
            value["channelConnector"]["channelProviderInterface"]["providerWebhook"],
            json!("http://127.0.0.1:7000")
        );
    }

    #[test]
    fn accessors_reach_nested_routing_facts() {
        let channel = web_channel();
        assert_eq!(channel.media_routing_domain(), Some("mrd-chat"));
        assert_eq!(channel.provider_webhook(), Some("http://127.0.0.1:7000"));
        assert_eq!(
            channel.routing_policy().map(|p| &p.routing_mode),
            Some(&RoutingMode::Push)
        );
    }
}
