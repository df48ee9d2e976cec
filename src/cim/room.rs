//! `RoomInfo`: the room a conversation lives in (`{id, mode}`), present on CIM events,
//! channel sessions and desk requests.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::string_enum::string_enum;

string_enum! {
    /// `roomInfo.mode`.
    pub enum RoomMode {
        ContactCenter = "CONTACT_CENTER",
        Private = "PRIVATE",
    }
}

/// `roomInfo`: `{id, mode}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: String,
    pub mode: RoomMode,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RoomInfo {
    /// The contact-center room with the given id (`mode: CONTACT_CENTER`).
    pub fn contact_center(id: impl Into<String>) -> Self {
        RoomInfo {
            id: id.into(),
            mode: RoomMode::ContactCenter,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contact_center_room_has_documented_shape() {
        let room = RoomInfo::contact_center("r1");
        assert_eq!(
            serde_json::to_value(&room).unwrap(),
            json!({"id": "r1", "mode": "CONTACT_CENTER"})
        );
    }
}
