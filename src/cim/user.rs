//! `CcUser`: a contact-center user (agent or supervisor) as a conversation participant,
//! wrapping the `keycloakUser` profile (roles, team, `permittedResources`). Switchboard
//! has no Keycloak; it emits the same shape from its own user table.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::nullable::Nullable;

/// The `participantType` tag of a contact-center user.
pub const CC_USER_PARTICIPANT_TYPE: &str = "CCUser";

/// The `realm` Switchboard reports in the `keycloakUser` shape.
pub const SWITCHBOARD_REALM: &str = "switchboard";

/// `participant` with `participantType: "CCUser"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CcUser {
    /// Always `"CCUser"` when present.
    #[serde(
        rename = "participantType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub participant_type: Nullable<String>,
    /// The user id (same as `keycloakUser.id`).
    pub id: String,
    #[serde(rename = "keycloakUser")]
    pub keycloak_user: KeycloakUser,
    /// Empty in every seed; kept as JSON.
    #[serde(
        rename = "associatedRoutingAttributes",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub associated_routing_attributes: Nullable<Vec<Value>>,
    /// Newer seeds only; empty in every seed, kept as JSON.
    #[serde(
        rename = "associatedMrds",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub associated_mrds: Nullable<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CcUser {
    /// A user in the newer `keycloakUser` shape: empty first/last names, no permitted
    /// resources, no attributes, `userTeam` set to `team` (or `null`), no supervised
    /// teams, realm [`SWITCHBOARD_REALM`].
    pub fn new(
        id: impl Into<String>,
        username: impl Into<String>,
        roles: Vec<String>,
        team: Option<UserTeam>,
    ) -> Self {
        let id = id.into();
        CcUser {
            participant_type: CC_USER_PARTICIPANT_TYPE.to_owned().into(),
            id: id.clone(),
            keycloak_user: KeycloakUser {
                id,
                first_name: String::new().into(),
                last_name: String::new().into(),
                roles: roles.into(),
                username: username.into(),
                permitted_resources: PermittedResources::default().into(),
                realm: SWITCHBOARD_REALM.to_owned().into(),
                attributes: Map::new().into(),
                user_team: team.into(),
                supervised_teams: Vec::new().into(),
                extra: Map::new(),
            },
            associated_routing_attributes: Vec::new().into(),
            associated_mrds: Vec::new().into(),
            extra: Map::new(),
        }
    }

    /// `keycloakUser.username`.
    pub fn username(&self) -> &str {
        &self.keycloak_user.username
    }

    /// True when `keycloakUser.roles` contains `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.keycloak_user.roles().iter().any(|r| r == role)
    }

    /// `keycloakUser.userTeam.teamId`.
    pub fn team_id(&self) -> Option<&str> {
        self.keycloak_user
            .user_team
            .get()
            .map(|t| t.team_id.as_str())
    }
}

/// `keycloakUser`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeycloakUser {
    pub id: String,
    #[serde(
        rename = "firstName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub first_name: Nullable<String>,
    #[serde(
        rename = "lastName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub last_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub roles: Nullable<Vec<String>>,
    pub username: String,
    #[serde(
        rename = "permittedResources",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub permitted_resources: Nullable<PermittedResources>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub realm: Nullable<String>,
    /// Free-form user attributes, e.g. `{"agentExtension": ["1106"]}`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub attributes: Nullable<Map<String, Value>>,
    #[serde(
        rename = "userTeam",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub user_team: Nullable<UserTeam>,
    #[serde(
        rename = "supervisedTeams",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub supervised_teams: Nullable<Vec<UserTeam>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl KeycloakUser {
    /// The roles (empty when absent or null).
    pub fn roles(&self) -> &[String] {
        self.roles.get().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// `permittedResources`: `{Resources: [...]}` (capital `R`, as in the seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PermittedResources {
    #[serde(rename = "Resources")]
    pub resources: Vec<PermittedResource>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry of `permittedResources.Resources`: `{rsid, rsname, scopes}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermittedResource {
    pub rsid: String,
    pub rsname: String,
    pub scopes: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `userTeam` (and entries of `supervisedTeams`): `{teamId, teamName}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTeam {
    #[serde(rename = "teamId")]
    pub team_id: String,
    #[serde(
        rename = "teamName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub team_name: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserTeam {
    /// `{teamId, teamName}`.
    pub fn new(team_id: impl Into<String>, team_name: impl Into<String>) -> Self {
        UserTeam {
            team_id: team_id.into(),
            team_name: team_name.into().into(),
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn agent1() -> CcUser {
        CcUser::new(
            "u-1",
            "agent1",
            vec!["agent".into()],
            Some(UserTeam::new("team-1", "Agents")),
        )
    }

    #[test]
    fn new_user_has_the_keycloak_user_shape() {
        assert_eq!(
            serde_json::to_value(agent1()).unwrap(),
            json!({
                "participantType": "CCUser",
                "id": "u-1",
                "keycloakUser": {
                    "id": "u-1",
                    "firstName": "",
                    "lastName": "",
                    "roles": ["agent"],
                    "username": "agent1",
                    "permittedResources": {"Resources": []},
                    "realm": "switchboard",
                    "attributes": {},
                    "userTeam": {"teamId": "team-1", "teamName": "Agents"},
                    "supervisedTeams": []
                },
                "associatedRoutingAttributes": [],
                "associatedMrds": []
            })
        );
    }

    #[test]
    fn accessors_read_the_profile() {
        let user = agent1();
        assert_eq!(user.username(), "agent1");
        assert!(user.has_role("agent"));
        assert!(!user.has_role("supervisor"));
        assert_eq!(user.team_id(), Some("team-1"));
        let teamless = CcUser::new("u-2", "admin", vec![], None);
        assert_eq!(teamless.team_id(), None);
        assert_eq!(
            serde_json::to_value(&teamless).unwrap()["keycloakUser"]["userTeam"],
            json!(null)
        );
    }
}
