//! Liveness of each component, for `/readyz` and the admin landing page.

use parking_lot::RwLock;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    Starting,
    Running,
    Stopped,
    Failed,
}

/// Shared registry: each component reports its own status under its name.
#[derive(Clone, Default)]
pub struct Health {
    components: Arc<RwLock<BTreeMap<&'static str, ComponentStatus>>>,
}

impl Health {
    pub fn set(&self, component: &'static str, status: ComponentStatus) {
        self.components.write().insert(component, status);
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, ComponentStatus> {
        self.components.read().clone()
    }

    /// True when every registered component is running.
    pub fn all_running(&self) -> bool {
        self.components
            .read()
            .values()
            .all(|s| *s == ComponentStatus::Running)
    }
}

/// Marks a component stopped (or failed, when dropped during a panic) when its task ends.
pub struct RunningGuard {
    health: Health,
    component: &'static str,
}

impl RunningGuard {
    pub fn new(health: &Health, component: &'static str) -> Self {
        health.set(component, ComponentStatus::Running);
        Self {
            health: health.clone(),
            component,
        }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let status = if std::thread::panicking() {
            ComponentStatus::Failed
        } else {
            ComponentStatus::Stopped
        };
        self.health.set(self.component, status);
    }
}
