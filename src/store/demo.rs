//! The demo site created on an empty data directory, so a newcomer can chat end
//! to end at once. Every password equals its username; a loud warning says so.

use super::directory::{self, MrdRow, NewChannel, QueueRow};
use super::secrets;
use super::users::{self, NewUser, Role};
use super::{Store, StoreError, StoreResult};
use crate::clock::now_ms;

/// Service identifier of the demo web channel.
pub const DEMO_SERVICE_IDENTIFIER: &str = "1122";
/// Service identifier of the demo connector channel (type WHATSAPP, no webhook): a
/// connector posts to it with the token printed when the demo site is created.
pub const DEMO_CONNECTOR_SERVICE_IDENTIFIER: &str = "8899";

/// What the start prints about a demo site it just created.
pub struct DemoSite {
    /// The demo connector channel's token (only its digest is stored).
    pub connector_token: String,
}

/// Demo users as (username, role); each password equals the username.
pub const DEMO_USERS: &[(&str, Role)] = &[
    ("admin", Role::Admin),
    ("supervisor", Role::Supervisor),
    ("agent1", Role::Agent),
    ("agent2", Role::Agent),
    ("agent3", Role::Agent),
];

/// Creates the demo site when the database holds no users; what to print about it when
/// it did.
pub async fn seed_if_empty(store: &Store) -> StoreResult<Option<DemoSite>> {
    let empty = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? == 0))
        .await?;
    if !empty {
        return Ok(None);
    }
    // Hashing is slow by design; do it before taking the writer.
    let hashes = tokio::task::spawn_blocking(|| {
        DEMO_USERS
            .iter()
            .map(|(name, _)| users::hash_password(name))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| StoreError::Corrupt(e.to_string()))?
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;

    store
        .write(move |c| {
            // Another start may have seeded between the check and now.
            if c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? > 0 {
                return Ok(None);
            }
            let now = now_ms();
            let chat = MrdRow {
                id: uuid::Uuid::new_v4().to_string(),
                name: "CHAT".into(),
                description: "Chat conversations".into(),
                max_tasks: 5,
                interruptible: true,
            };
            let voice = MrdRow {
                id: uuid::Uuid::new_v4().to_string(),
                name: "VOICE".into(),
                description: "Voice calls".into(),
                max_tasks: 1,
                interruptible: false,
            };
            directory::create_mrd(c, &chat, now)?;
            directory::create_mrd(c, &voice, now)?;
            let queue = QueueRow {
                id: uuid::Uuid::new_v4().to_string(),
                name: "Default".into(),
                mrd_id: chat.id.clone(),
                priority: 1,
                accept_timeout_secs: None,
                agent_sla_secs: 120,
                service_level_secs: 30,
                steps: Vec::new(),
            };
            directory::create_queue(c, &queue, now)?;
            let web_type = directory::create_channel_type(c, "WEB", "_WEB.svg", &chat.id)?;
            directory::create_channel_type(c, "CX_VOICE", "_CX_VOICE.svg", &voice.id)?;
            directory::create_channel(
                c,
                &NewChannel {
                    name: "web",
                    service_identifier: DEMO_SERVICE_IDENTIFIER,
                    channel_type_id: &web_type,
                    provider_webhook: "",
                    channel_config: directory::push_channel_config(&queue.id, true),
                },
                now,
            )?;
            let whatsapp_type =
                directory::create_channel_type(c, "WHATSAPP", "_WHATSAPP.svg", &chat.id)?;
            let connector_channel = directory::create_channel(
                c,
                &NewChannel {
                    name: "whatsapp",
                    service_identifier: DEMO_CONNECTOR_SERVICE_IDENTIFIER,
                    channel_type_id: &whatsapp_type,
                    provider_webhook: "",
                    channel_config: directory::push_channel_config(&queue.id, true),
                },
                now,
            )?;
            let (connector_token, digest) = users::new_token();
            secrets::set_connector_token(c, &connector_channel, &digest)?;
            let team = users::create_team(c, "Agents", now)?;
            for ((username, role), hash) in DEMO_USERS.iter().zip(hashes.iter().cloned()) {
                let user = users::create_user(
                    c,
                    NewUser {
                        username: username.to_string(),
                        first_name: username.to_string(),
                        last_name: String::new(),
                        role: *role,
                        team_id: (*role != Role::Admin).then(|| team.team_id.clone()),
                        password_hash: hash,
                    },
                    now,
                )?;
                if *role == Role::Supervisor {
                    users::add_team_supervisor(c, &team.team_id, &user.id)?;
                }
                if *role != Role::Admin {
                    directory::set_agent_capacity(c, &user.id, &chat.id, chat.max_tasks)?;
                    directory::set_agent_capacity(c, &user.id, &voice.id, voice.max_tasks)?;
                }
            }
            for (name, kind) in [
                ("Break", "NOT_READY"),
                ("Lunch", "NOT_READY"),
                ("Meeting", "NOT_READY"),
                ("RONA", "NOT_READY"),
                ("End of shift", "LOGOUT"),
            ] {
                directory::create_reason_code(c, name, kind, "")?;
            }
            for (category, value) in [
                ("Sales", "Order placed"),
                ("Sales", "Quote sent"),
                ("Support", "Issue resolved"),
                ("Support", "Escalated"),
                ("General", "Information given"),
            ] {
                directory::create_wrapup_code(c, category, value)?;
            }
            Ok(Some(DemoSite { connector_token }))
        })
        .await
}
