//! Times the admin console's list pages on a large site: starts the appliance in a
//! temporary directory, adds 1,000 users, 200 queues, 100 channels and 2,000 audit
//! entries straight into its store, then requests each list page over HTTP and prints
//! the median and slowest of `ROUNDS` requests per page.
//!
//! `cargo run --release --example admin_lists` (numbers in docs/benchmarks.md).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard::config::{CliOverrides, Config};
use switchboard::store::audit::{self, Actor, Change};
use switchboard::store::directory::{self, NewChannel, QueueRow};
use switchboard::store::users::{self, NewUser, Role};
use switchboard::App;

const ROUNDS: usize = 40;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::load(
        None,
        Vec::<(String, String)>::new(),
        &CliOverrides {
            data_dir: Some(dir.path().to_path_buf()),
            listen: Some("127.0.0.1:0".parse()?),
        },
    )?;
    config.log.level = "warn".into();
    switchboard::logging::init(&config.log);
    let running = App::start(config).await?;
    let hash = users::hash_password("benchpass")?;
    running
        .store
        .write(move |c| {
            let now = switchboard::clock::now_ms();
            let team = users::create_team(c, "Bench", now)?;
            for i in 0..1000 {
                users::create_user(
                    c,
                    NewUser {
                        username: format!("user{i:04}"),
                        first_name: format!("First{i}"),
                        last_name: format!("Last{i}"),
                        role: if i % 50 == 0 { Role::Supervisor } else { Role::Agent },
                        team_id: Some(team.team_id.clone()),
                        password_hash: hash.clone(),
                    },
                    now,
                )?;
            }
            let chat = directory::list_mrds(c)?
                .into_iter()
                .find(|m| m.name == "CHAT")
                .expect("demo CHAT MRD");
            let web = directory::list_channel_types(c)?
                .into_iter()
                .find(|t| t["name"] == "WEB")
                .expect("demo WEB type");
            let web_id = web["id"].as_str().unwrap_or_default().to_string();
            let mut queue_ids = Vec::new();
            for i in 0..200 {
                let q = QueueRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: format!("Queue {i:03}"),
                    mrd_id: chat.id.clone(),
                    priority: 1,
                    accept_timeout_secs: None,
                    agent_sla_secs: 60,
                    service_level_secs: 30,
                    steps: Vec::new(),
                };
                directory::create_queue(c, &q, now)?;
                queue_ids.push(q.id);
            }
            for (i, queue_id) in queue_ids.iter().take(100).enumerate() {
                directory::create_channel(
                    c,
                    &NewChannel {
                        name: &format!("Channel {i:03}"),
                        service_identifier: &format!("bench-{i:03}"),
                        channel_type_id: &web_id,
                        provider_webhook: "",
                        channel_config: json!({"routingPolicy": {"routingMode": "PUSH",
                            "routingObjectId": queue_id, "agentSelectionPolicy": "LONGEST_AVAILABLE"}}),
                    },
                    now,
                )?;
            }
            let actor = Actor {
                id: "bench".into(),
                username: "bench".into(),
            };
            for i in 0..2000 {
                audit::record(
                    c,
                    &actor,
                    Change {
                        action: "update",
                        entity_type: "queue",
                        entity_id: &queue_ids[i % 200],
                        entity_name: &format!("Queue {:03}", i % 200),
                        before: Some(json!({"priority": 1})),
                        after: Some(json!({"priority": 2})),
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .await?;

    let http = reqwest::Client::new();
    let base = format!("http://{}", running.addr);
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "admin"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_string();
    println!("| page | items | total | median ms | slowest ms |");
    println!("|---|---|---|---|---|");
    for path in [
        "/api/v1/users",
        "/api/v1/users?limit=500",
        "/api/v1/users?q=last99&limit=50",
        "/api/v1/users?offset=950",
        "/api/v1/queues",
        "/api/v1/queues?limit=200",
        "/api/v1/channels",
        "/api/v1/channels?limit=100",
        "/api/v1/audit",
        "/api/v1/audit?entityType=queue&q=Queue%20150",
        "/api/v1/teams",
    ] {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut last = Value::Null;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let resp = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await?;
            anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
            last = resp.json().await?;
            times.push(start.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let items = last
            .get("items")
            .and_then(Value::as_array)
            .or(last.as_array())
            .map_or(0, Vec::len);
        println!(
            "| `GET {path}` | {items} | {} | {:.1} | {:.1} |",
            last.get("total").map_or("-".to_string(), Value::to_string),
            ms(times[ROUNDS / 2]),
            ms(times[ROUNDS - 1])
        );
    }
    running.shutdown().await;
    Ok(())
}
