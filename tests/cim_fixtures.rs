//! Every JSON sample from the seed documents (tests/fixtures/*.json) must read into the
//! typed CIM model and write back to the identical JSON value — and must really be
//! typed: known names are not `Other`, participants are typed variants, and no
//! documented field ends up in an `extra` map.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard::cim::*;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Reads `raw` as `T`, writes it back, and requires the identical JSON value.
fn round_trip<T: Serialize + DeserializeOwned>(name: &str, raw: &Value) -> T {
    let typed: T = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{name}: {e}"));
    if &back != raw {
        panic!(
            "{name}: round trip changed the document\n{}",
            first_difference(raw, &back, "")
        );
    }
    typed
}

fn first_difference(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let sub = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) if p != q => return first_difference(p, q, &sub),
                    (Some(_), None) => return format!("{sub}: lost"),
                    (None, Some(_)) => return format!("{sub}: added"),
                    _ => {}
                }
            }
            format!("{path}: differs")
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find(|(_, (p, q))| p != q)
            .map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
            .unwrap_or_else(|| format!("{path}: differs")),
        _ => format!("{path}: {a} became {b}"),
    }
}

fn no_extra(extra: &Map<String, Value>, path: &str) {
    assert!(
        extra.is_empty(),
        "{path}: documented fields fell into `extra`: {:?}",
        extra.keys().collect::<Vec<_>>()
    );
}

fn check_channel(channel: &Channel, path: &str) {
    no_extra(&channel.extra, path);
    assert!(
        !channel.service_identifier.is_empty(),
        "{path}.serviceIdentifier"
    );
    if let Some(tenant) = channel.tenant.get() {
        no_extra(&tenant.extra, &format!("{path}.tenant"));
    }
    let config = &channel.channel_config;
    no_extra(&config.extra, &format!("{path}.channelConfig"));
    assert!(
        config.channel_mode.get().is_some_and(ChannelMode::is_known),
        "{path}.channelMode"
    );
    if let Some(sla) = config.customer_sla.get() {
        no_extra(&sla.extra, &format!("{path}.channelConfig.customerSla"));
    }
    let policy = config
        .routing_policy
        .get()
        .unwrap_or_else(|| panic!("{path}: routingPolicy"));
    no_extra(
        &policy.extra,
        &format!("{path}.channelConfig.routingPolicy"),
    );
    assert!(policy.routing_mode.is_known(), "{path}.routingMode");
    assert!(
        policy.agent_selection_policy.is_known(),
        "{path}.agentSelectionPolicy"
    );
    let connector = &channel.channel_connector;
    no_extra(&connector.extra, &format!("{path}.channelConnector"));
    let provider = &connector.channel_provider_interface;
    no_extra(&provider.extra, &format!("{path}.channelProviderInterface"));
    assert!(
        provider.provider_webhook.is_value(),
        "{path}.providerWebhook"
    );
    assert!(!provider.supported_channel_types.is_empty());
    for t in provider
        .supported_channel_types
        .iter()
        .chain([&channel.channel_type])
    {
        no_extra(&t.extra, &format!("{path}.channelType"));
        assert!(
            t.media_routing_domain.is_value(),
            "{path}.mediaRoutingDomain"
        );
    }
    assert!(channel.media_routing_domain().is_some());
}

fn check_customer(customer: &Customer, path: &str) {
    assert!(customer.id().is_some(), "{path}._id");
    assert!(customer.first_name.is_value(), "{path}.firstName");
    assert!(customer.is_anonymous.is_value(), "{path}.isAnonymous");
    assert!(customer.version.is_value(), "{path}.__v");
    for fixed in ["_id", "firstName", "phoneNumber", "isAnonymous", "__v"] {
        assert!(
            !customer.extra.contains_key(fixed),
            "{path}.{fixed} in extra"
        );
    }
}

fn check_channel_data(data: &ChannelData, path: &str) {
    no_extra(&data.extra, path);
    for (i, attribute) in data.attributes().iter().enumerate() {
        no_extra(
            &attribute.extra,
            &format!("{path}.additionalAttributes[{i}]"),
        );
    }
    if let Some(web) = data.web_channel_data() {
        let web = web.unwrap_or_else(|e| panic!("{path}: {e}"));
        no_extra(&web.extra, &format!("{path}.WebChannelData"));
        let form = web
            .form_data
            .get()
            .unwrap_or_else(|| panic!("{path}: formData"));
        no_extra(&form.extra, &format!("{path}.formData"));
        assert!(
            form.attributes.get().is_some_and(|a| !a.is_empty()),
            "{path}.formData.attributes"
        );
        for attribute in form.attributes.get().into_iter().flatten() {
            no_extra(&attribute.extra, &format!("{path}.formData.attributes"));
        }
        no_extra(
            &web.browser_device_info.get().unwrap().extra,
            &format!("{path}.browserDeviceInfo"),
        );
        no_extra(&web.locale.get().unwrap().extra, &format!("{path}.locale"));
        let attribute = &data.attributes()[0];
        assert_eq!(
            serde_json::to_value(&web).unwrap(),
            *attribute.value.get().unwrap(),
            "{path}: WebChannelData does not round-trip"
        );
    }
}

fn check_channel_session(session: &ChannelSession, path: &str) {
    no_extra(&session.extra, path);
    assert_eq!(
        session.participant_type.as_deref_str(),
        Some("ChannelSession")
    );
    check_channel(&session.channel, &format!("{path}.channel"));
    check_customer(&session.customer, &format!("{path}.customer"));
    check_channel_data(&session.channel_data, &format!("{path}.channelData"));
    let state = session
        .state
        .get()
        .unwrap_or_else(|| panic!("{path}: state"));
    assert!(state.name().is_known(), "{path}.state");
    assert!(
        session.conversation_id().is_some(),
        "{path}: conversationId/topicId"
    );
    if let ChannelSessionState::Current(status) = state {
        no_extra(&status.extra, &format!("{path}.state"));
        assert!(session.room_info.is_value(), "{path}.roomInfo");
        assert!(session
            .channel_session_direction
            .get()
            .is_some_and(Direction::is_known));
    } else {
        assert!(
            session.topic_id.is_value(),
            "{path}: older shape carries topicId"
        );
    }
    // The newer shape for emitting is always available and still reads back.
    let current = serde_json::to_value(session.to_current_shape()).unwrap();
    assert!(current["state"].is_object(), "{path}: normalized state");
    assert!(current.get("topicId").is_none());
    let reread: ChannelSession = serde_json::from_value(current).unwrap();
    assert!(!reread.state.get().unwrap().is_legacy());
}

fn check_cc_user(user: &CcUser, path: &str) {
    no_extra(&user.extra, path);
    let keycloak = &user.keycloak_user;
    no_extra(&keycloak.extra, &format!("{path}.keycloakUser"));
    assert_eq!(keycloak.id, user.id);
    assert!(!keycloak.roles().is_empty(), "{path}.roles");
    let resources = keycloak
        .permitted_resources
        .get()
        .unwrap_or_else(|| panic!("{path}: permittedResources"));
    no_extra(&resources.extra, &format!("{path}.permittedResources"));
    assert!(
        !resources.resources.is_empty(),
        "{path}.permittedResources.Resources"
    );
    for resource in &resources.resources {
        no_extra(
            &resource.extra,
            &format!("{path}.Resources[{}]", resource.rsname),
        );
        assert!(!resource.rsid.is_empty() && !resource.scopes.is_empty());
    }
    if let Some(team) = keycloak.user_team.get() {
        no_extra(&team.extra, &format!("{path}.userTeam"));
    }
}

fn check_participant(participant: &Participant, path: &str) {
    no_extra(&participant.extra, path);
    assert!(participant.participant_type.is_known(), "{path}.type");
    assert!(participant.role.is_known(), "{path}.role");
    if let Some(state) = participant.state.get() {
        assert!(state.is_known(), "{path}.state");
    }
    let inner = format!("{path}.participant");
    match (&participant.participant_type, &participant.participant) {
        (ParticipantType::Customer, ParticipantEntity::ChannelSession(cs)) => {
            check_channel_session(cs, &inner)
        }
        (ParticipantType::Agent, ParticipantEntity::CcUser(user)) => check_cc_user(user, &inner),
        (ParticipantType::Bot, ParticipantEntity::Bot(bot)) => {
            no_extra(&bot.extra, &inner);
            assert!(bot.bot_type.is_value() && bot.uri.is_value());
        }
        (kind, entity) => panic!(
            "{path}: type {kind} with participant {}",
            entity.participant_type()
        ),
    }
}

fn check_conversation(conversation: &Conversation, path: &str) {
    no_extra(&conversation.extra, path);
    assert!(conversation.state.is_known(), "{path}.state");
    assert!(!conversation.participants.is_empty(), "{path}.participants");
    for (i, p) in conversation.participants.iter().enumerate() {
        check_participant(p, &format!("{path}.participants[{i}]"));
    }
    assert!(conversation.customer_participant().is_some());
    check_customer(
        conversation.customer.get().unwrap(),
        &format!("{path}.customer"),
    );
    check_channel_session(
        conversation.channel_session.get().unwrap(),
        &format!("{path}.channelSession"),
    );
    let metadata = conversation.metadata.get().unwrap();
    no_extra(&metadata.extra, &format!("{path}.metadata"));
    check_channel_session(
        metadata.last_used_channel_session.get().unwrap(),
        &format!("{path}.metadata.lastUsedChannelSession"),
    );
    for entry in conversation.conversation_data.get().into_iter().flatten() {
        no_extra(&entry.extra, &format!("{path}.conversationData"));
        assert!(entry.data_type.is_known(), "{path}.conversationData.type");
    }
    no_extra(
        &conversation.agent_sla.get().unwrap().extra,
        &format!("{path}.agentSla"),
    );
    no_extra(
        &conversation.hold_timer_details.get().unwrap().extra,
        &format!("{path}.holdTimerDetails"),
    );
    no_extra(
        &conversation.agent_hand_raise.get().unwrap().extra,
        &format!("{path}.agentHandRaise"),
    );
}

fn check_message(message: &CimMessage, path: &str) {
    no_extra(&message.extra, path);
    no_extra(&message.header.extra, &format!("{path}.header"));
    match &message.header.sender {
        MessageSender::Participant(p) => check_participant(p, &format!("{path}.header.sender")),
        MessageSender::Sender(s) => no_extra(&s.extra, &format!("{path}.header.sender")),
    }
    if let Some(cs) = message.header.channel_session.get() {
        check_channel_session(cs, &format!("{path}.header.channelSession"));
    }
    if let Some(data) = message.header.channel_data.get() {
        check_channel_data(data, &format!("{path}.header.channelData"));
    }
    assert!(message.body.is_known(), "{path}.body.type");
    if let MessageBody::Plain(body) = &message.body {
        no_extra(&body.extra, &format!("{path}.body"));
        assert!(body.markdown_text.is_value());
    }
}

fn check_task(task: &Task, path: &str) {
    no_extra(&task.extra, path);
    no_extra(&task.state.extra, &format!("{path}.state"));
    assert!(task.state.name.is_known());
    assert!(!task.active_media.is_empty(), "{path}.activeMedia");
    for (i, media) in task.active_media.iter().enumerate() {
        let at = format!("{path}.activeMedia[{i}]");
        no_extra(&media.extra, &at);
        assert!(media.state.is_known(), "{at}.state");
        no_extra(&media.media_type.extra, &format!("{at}.type"));
        assert!(media.media_type.mode.is_known() && media.media_type.direction.is_known());
        no_extra(
            &media.media_type.metadata.get().unwrap().extra,
            &format!("{at}.type.metadata"),
        );
        no_extra(&media.queue.get().unwrap().extra, &format!("{at}.queue"));
        check_channel_session(
            media.request_session.get().unwrap(),
            &format!("{at}.requestSession"),
        );
        for (j, cs) in media
            .channel_sessions
            .get()
            .into_iter()
            .flatten()
            .enumerate()
        {
            check_channel_session(cs, &format!("{at}.channelSessions[{j}]"));
        }
    }
}

fn check_event(event: &CimEvent, path: &str) {
    no_extra(&event.extra, path);
    assert!(
        event.name.is_known(),
        "{path}.name {} is not a documented name",
        event.name
    );
    assert!(event.event_type.is_known(), "{path}.type");
    assert!(event.timestamp > 1_600_000_000_000, "{path}.timestamp");
    if let Some(emitter) = event.event_emitter.get() {
        no_extra(&emitter.extra, &format!("{path}.eventEmitter"));
        assert!(emitter.emitter_type.is_known(), "{path}.eventEmitter.type");
    }
    if let Some(cs) = event.channel_session.get() {
        check_channel_session(cs, &format!("{path}.channelSession"));
    }
    if let Some(room) = event.room_info.get() {
        no_extra(&room.extra, &format!("{path}.roomInfo"));
        assert!(room.mode.is_known());
    }
    let data_path = format!("{path}.data");
    let typed = event
        .typed_data()
        .unwrap_or_else(|e| panic!("{data_path}: {e}"));
    assert_eq!(
        typed.to_value().unwrap(),
        *event.data.get().unwrap(),
        "{data_path}: typed data does not round-trip"
    );
    match &typed {
        EventData::Message(m) => check_message(m, &data_path),
        EventData::ChannelSession(cs) => check_channel_session(cs, &data_path),
        EventData::Conversation(c) => check_conversation(c, &data_path),
        EventData::AgentSubscription(d) => {
            no_extra(&d.extra, &data_path);
            check_participant(
                &d.agent_participant,
                &format!("{data_path}.agentParticipant"),
            );
        }
        EventData::ParticipantRoleChanged(d) => {
            no_extra(&d.extra, &data_path);
            check_participant(
                &d.conversation_participant,
                &format!("{data_path}.conversationParticipant"),
            );
            assert_eq!(d.conversation_participant.role, ParticipantRole::WrapUp);
        }
        EventData::FindAgent(d) => no_extra(&d.extra, &data_path),
        EventData::TaskEnqueued(d) => {
            no_extra(&d.extra, &data_path);
            check_task(&d.task, &format!("{data_path}.task"));
            no_extra(&d.queue.extra, &format!("{data_path}.queue"));
        }
        EventData::MrdInterrupted(d) => {
            no_extra(&d.extra, &data_path);
            assert!(!d.conversations.is_empty());
        }
        EventData::Other(_) => panic!("{data_path}: {} payload was not typed", event.name),
    }
}

fn check_studio_payload(payload: &StudioPayload, name: &str) {
    no_extra(&payload.extra, name);
    no_extra(&payload.entities.extra, &format!("{name}.entities"));
    assert!(
        payload.intent.is_known(),
        "{name}: intent {}",
        payload.intent
    );
    if let Some(StudioConversation::Full(conversation)) = payload.conversation.get() {
        check_conversation(conversation, &format!("{name}.conversation"));
    }
    match (
        payload.entities.cim_event.get(),
        payload.entities.channel_session.get(),
    ) {
        (Some(event), None) => check_event(event, &format!("{name}.entities.cimEvent")),
        (None, Some(session)) => {
            check_channel_session(session, &format!("{name}.entities.channelSession"))
        }
        _ => panic!("{name}: expected exactly one of cimEvent / channelSession"),
    }
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Reads one fixture with the type its name announces, checks the round trip and the
/// typing; returns what kind of document it was.
fn check_fixture(name: &str) -> &'static str {
    let raw = load(name);
    if name == "desk_direct_conference_request.json" {
        let request: DirectConferenceRequest = round_trip(name, &raw);
        assert_eq!(DirectConferenceRequest::from_value(&raw).unwrap(), request);
        no_extra(&request.extra, name);
        check_channel_session(&request.channel_session, &format!("{name}.channelSession"));
        check_participant(
            &request.agent_participant,
            &format!("{name}.agentParticipant"),
        );
        "desk request"
    } else if name == "desk_close_wrapup.json" {
        let close: CloseWrapup = round_trip(name, &raw);
        assert_eq!(CloseWrapup::from_value(&raw).unwrap(), close);
        no_extra(&close.extra, name);
        check_event(&close.cim_event, &format!("{name}.cimEvent"));
        "desk request"
    } else if name.starts_with("studio_") && name.ends_with("_payload.json") {
        let payload: StudioPayload = round_trip(name, &raw);
        check_studio_payload(&payload, name);
        "studio payload"
    } else if name.starts_with("studio_") {
        let envelope: StudioMessage = round_trip(name, &raw);
        no_extra(&envelope.extra, name);
        assert!(envelope.msg_id.is_value(), "{name}._msgid");
        check_studio_payload(&envelope.payload, name);
        "studio envelope"
    } else {
        panic!("{name}: no reader declared for this fixture; name it desk_* or studio_*")
    }
}

#[test]
fn every_seed_fixture_round_trips_and_is_typed() {
    let names = fixture_names();
    assert_eq!(names.len(), 12, "expected 12 seed samples, found {names:?}");
    for name in &names {
        check_fixture(name);
    }
}

#[test]
fn every_documented_studio_intent_with_a_sample_is_covered() {
    let mut intents: Vec<String> = fixture_names()
        .iter()
        .filter(|n| n.starts_with("studio_"))
        .map(|n| {
            let raw = load(n);
            let payload = raw.get("payload").unwrap_or(&raw);
            let event_name = payload["entities"]["cimEvent"]["name"].as_str();
            event_name
                .unwrap_or(payload["intent"].as_str().unwrap())
                .to_owned()
        })
        .collect();
    intents.sort();
    assert_eq!(
        intents,
        [
            "AGENT_MRD_INTERRUPTED",
            "AGENT_SLA_EXPIRED",
            "AGENT_SUBSCRIBED",
            "AGENT_UNSUBSCRIBED",
            "CHANNEL_SESSION_STARTED",
            "CONVERSATION_STARTED",
            "CUSTOMER_SLA_EXPIRED",
            "FIND_AGENT",
            "PARTICIPANT_ROLE_CHANGED",
            "TASK_ENQUEUED",
        ]
    );
}

#[test]
fn older_and_newer_channel_session_shapes_both_read() {
    let older = load("desk_direct_conference_request.json");
    let request: DirectConferenceRequest = serde_json::from_value(older).unwrap();
    let session = &request.channel_session;
    assert!(session.state.get().unwrap().is_legacy());
    assert_eq!(
        session.conversation_id(),
        Some("261c271a-58e6-4571-9d25-77ad26d745d6")
    );
    assert_eq!(request.mode, AssistanceMode::Queue);
    assert_eq!(request.queue_name.as_deref_str(), Some("chat-queue"));
    assert_eq!(request.note.as_deref_str(), Some("An optional string"));
    assert_eq!(session.customer.channel_identifiers("web"), vec!["43466"]);

    let newer = load("studio_channel_session_started.json");
    let envelope: StudioMessage = serde_json::from_value(newer).unwrap();
    let event = envelope.payload.entities.cim_event.get().unwrap();
    let session = event.channel_session.get().unwrap();
    let state = session.state.get().unwrap();
    assert_eq!(state.name(), &ChannelSessionStateName::Started);
    assert_eq!(
        state.reason_code(),
        Some(&ChannelSessionReasonCode::Customer)
    );
    assert_eq!(
        event.event_emitter.get().unwrap().emitter_type,
        EmitterType::Customer
    );
}

#[test]
fn seed_values_are_reachable_through_the_typed_model() {
    let raw = load("studio_task_enqueued.json");
    let envelope: StudioMessage = serde_json::from_value(raw).unwrap();
    let event = envelope.payload.entities.cim_event.get().unwrap();
    let EventData::TaskEnqueued(data) = event.typed_data().unwrap() else {
        panic!("TASK_ENQUEUED data not typed")
    };
    let media = &data.task.active_media[0];
    assert_eq!(media.mrd_id, "6305de07166ba1099d11d8e6");
    assert_eq!(media.state, TaskMediaState::Queued);
    assert_eq!(media.priority, Nullable::Value(1));
    assert_eq!(media.enqueue_time, Nullable::Value(1_750_072_294_583));
    assert_eq!(media.media_type.mode, TaskMode::Queue);
    assert_eq!(data.queue.name.as_deref_str(), Some("web"));
    // The source document files this sample under the wrong intent; it is kept as is.
    assert_eq!(envelope.payload.intent, CimEventName::AgentMrdInterrupted);
    assert_eq!(event.name, CimEventName::TaskEnqueued);

    let raw = load("studio_find_agent_payload.json");
    let payload: StudioPayload = serde_json::from_value(raw).unwrap();
    let conversation = payload.conversation.get().unwrap().get().unwrap();
    assert_eq!(conversation.state, ConversationState::Created);
    assert_eq!(
        conversation
            .data("Salary")
            .map(|e| (&e.data_type, e.value.get())),
        Some((&ConversationDataType::Int, Some(&serde_json::json!(20))))
    );

    let raw = load("desk_close_wrapup.json");
    let close: CloseWrapup = serde_json::from_value(raw).unwrap();
    let message = close.cim_event.message().unwrap();
    assert_eq!(message.body.markdown_text(), Some("fsadf"));
    let sender = message.header.sender.as_participant().unwrap();
    assert_eq!(sender.as_cc_user().unwrap().username(), "faizan");
    assert_eq!(close.room_info.get().unwrap().mode, RoomMode::ContactCenter);
}
