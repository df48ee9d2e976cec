//! The engine's bridge to the external studio flow: after commit, a conversation's
//! studio calls are made, and their answers come back to the driver as inputs.
//! (What a conversation asks of routing the site applies inside its step,
//! `crate::site::bridge`.)

use crate::cim;
use crate::conversation::{parse_actions, Input};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Duration;

/// What the publisher hands the studio flow, after commit.
pub(super) struct Bridge {
    /// The publisher runs on the store's fsync thread, outside the runtime: what
    /// must wait (a studio call is HTTP) is spawned on this handle.
    pub(super) runtime: tokio::runtime::Handle,
    /// Studio answers go back to the driver as inputs.
    pub(super) studio_tx: mpsc::UnboundedSender<Input>,
    pub(super) studio_url: String,
    pub(super) http: reqwest::Client,
}

impl Bridge {
    /// Asks the external flow; its answer (or failure) comes back as an input.
    pub(super) fn call_studio(
        &self,
        request_id: String,
        message: cim::StudioMessage,
        timeout_ms: i64,
    ) {
        let http = self.http.clone();
        let url = self.studio_url.clone();
        let back = self.studio_tx.clone();
        self.runtime.spawn(async move {
            let outcome = async {
                let resp = http
                    .post(&url)
                    .timeout(Duration::from_millis(timeout_ms.max(1) as u64))
                    .json(&message)
                    .send()
                    .await
                    .map_err(|e| format!("request failed: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("answered HTTP {}", resp.status()));
                }
                let body: Value = resp
                    .json()
                    .await
                    .map_err(|e| format!("answer is not JSON: {e}"))?;
                if crate::cim::nests_deeper_than(&body, crate::cim::MAX_JSON_DEPTH) {
                    return Err(format!(
                        "answer nests deeper than {} levels",
                        crate::cim::MAX_JSON_DEPTH
                    ));
                }
                parse_actions(&body).map_err(|e| format!("bad actions: {e}"))
            }
            .await;
            let input = match outcome {
                Ok(actions) => Input::StudioActions {
                    request_id,
                    actions,
                },
                Err(reason) => Input::StudioFailed { request_id, reason },
            };
            let _ = back.send(input);
        });
    }
}
