//! A channel's pre-chat form: what the widget asks before a chat (name and email, each
//! required, optional or hidden, plus custom text or select fields), checked when an
//! admin saves it (`PrechatForm::check`) and when a customer submits it
//! (`PrechatForm::accept`). A submission is the widget's
//! `formData.attributes[] {key, value}`: the name as `firstName` (and `lastName`), the
//! email as `email`, custom fields by their key.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest value of a name, email or text field, in characters.
pub const MAX_VALUE_CHARS: usize = 256;
/// Most custom fields a form has.
pub const MAX_FIELDS: usize = 10;
/// Most options a select field has.
pub const MAX_OPTIONS: usize = 50;
/// Keys the standard fields use; custom fields may not take them.
const RESERVED_KEYS: [&str; 4] = ["firstName", "lastName", "email", "name"];

/// Whether the form asks for a standard field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldMode {
    Required,
    Optional,
    Hidden,
}

/// The kind of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text, up to 256 characters.
    Text,
    /// One of `options`.
    Select,
}

/// A custom field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomField {
    /// What the customer reads, 1-100 characters.
    pub label: String,
    /// The `formData` key, 1-40 characters: a letter, then letters, digits or `_`;
    /// unique in the form, not `firstName`, `lastName`, `email` or `name`.
    pub key: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    /// The choices of a select field (1-50, each 1-100 characters, unique); empty for text.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A channel's pre-chat form as stored and as the API reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrechatForm {
    pub name: FieldMode,
    pub email: FieldMode,
    #[serde(default)]
    pub fields: Vec<CustomField>,
}

impl Default for PrechatForm {
    /// A channel without a form of its own: the name may be given, nothing is required.
    fn default() -> Self {
        PrechatForm {
            name: FieldMode::Optional,
            email: FieldMode::Hidden,
            fields: Vec::new(),
        }
    }
}

/// A refused form or submission: the field path and why (`code` `invalid_field`, or
/// `missing_field` for a required answer left out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FormError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl FormError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        FormError {
            code: "invalid_field",
            field: field.into(),
            message: message.into(),
        }
    }

    fn missing(field: impl Into<String>, message: impl Into<String>) -> Self {
        FormError {
            code: "missing_field",
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// What a customer's accepted submission says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answers {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// (key, value) of the custom fields answered, in the form's order.
    pub custom: Vec<(String, String)>,
}

fn key_ok(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 40
}

/// A plausible email: one `@` with text on both sides and a dot in the domain.
fn email_ok(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl PrechatForm {
    /// The form of a message left outside business hours: the name and email are
    /// always offered (optional where the chat form hides them), so a reply can find
    /// its customer.
    pub fn for_left_message(&self) -> PrechatForm {
        let offer = |mode| match mode {
            FieldMode::Hidden => FieldMode::Optional,
            other => other,
        };
        PrechatForm {
            name: offer(self.name),
            email: offer(self.email),
            fields: self.fields.clone(),
        }
    }

    /// Checks a form an admin saves.
    pub fn check(&self) -> Result<(), FormError> {
        if self.fields.len() > MAX_FIELDS {
            return Err(FormError::invalid(
                "fields",
                format!("at most {MAX_FIELDS} custom fields"),
            ));
        }
        let mut keys: Vec<&str> = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("fields[{i}]");
            if f.label.trim().is_empty() || f.label.chars().count() > 100 {
                return Err(FormError::invalid(
                    format!("{at}.label"),
                    "label must be 1-100 characters",
                ));
            }
            if !key_ok(&f.key) {
                return Err(FormError::invalid(
                    format!("{at}.key"),
                    "key must be 1-40 characters: a letter, then letters, digits or _",
                ));
            }
            if RESERVED_KEYS.contains(&f.key.as_str()) {
                return Err(FormError::invalid(
                    format!("{at}.key"),
                    format!("{} is the key of a standard field", f.key),
                ));
            }
            if keys.contains(&f.key.as_str()) {
                return Err(FormError::invalid(
                    format!("{at}.key"),
                    format!("key {} is used twice", f.key),
                ));
            }
            keys.push(&f.key);
            match f.field_type {
                FieldType::Text if !f.options.is_empty() => {
                    return Err(FormError::invalid(
                        format!("{at}.options"),
                        "a text field has no options",
                    ))
                }
                FieldType::Select if f.options.is_empty() || f.options.len() > MAX_OPTIONS => {
                    return Err(FormError::invalid(
                        format!("{at}.options"),
                        format!("a select field has 1-{MAX_OPTIONS} options"),
                    ))
                }
                _ => {}
            }
            for (j, option) in f.options.iter().enumerate() {
                if option.trim().is_empty() || option.chars().count() > 100 {
                    return Err(FormError::invalid(
                        format!("{at}.options[{j}]"),
                        "an option is 1-100 characters",
                    ));
                }
                if f.options[..j].contains(option) {
                    return Err(FormError::invalid(
                        format!("{at}.options[{j}]"),
                        format!("option {option:?} is listed twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks a customer's `formData.attributes` against the form: required answers
    /// present, hidden and unknown keys refused, values text within their lengths,
    /// emails plausible, select values among the options. Empty values count as not
    /// given.
    pub fn accept(&self, attributes: &[(String, Value)]) -> Result<Answers, FormError> {
        let mut answers = Answers::default();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in attributes {
            let field = format!("formData.{key}");
            if seen.contains(&key.as_str()) {
                return Err(FormError::invalid(field, "given twice"));
            }
            seen.push(key);
            let text = match value {
                Value::Null => String::new(),
                Value::String(s) => s.trim().to_owned(),
                _ => return Err(FormError::invalid(field, "must be text")),
            };
            if text.chars().count() > MAX_VALUE_CHARS {
                return Err(FormError::invalid(
                    field,
                    format!("must be at most {MAX_VALUE_CHARS} characters"),
                ));
            }
            let given = (!text.is_empty()).then_some(text);
            let asked = |mode: FieldMode| -> Result<(), FormError> {
                if mode == FieldMode::Hidden && given.is_some() {
                    Err(FormError::invalid(
                        format!("formData.{key}"),
                        "this channel's form does not ask for it",
                    ))
                } else {
                    Ok(())
                }
            };
            match key.as_str() {
                "firstName" => {
                    asked(self.name)?;
                    answers.first_name = given;
                }
                "lastName" => {
                    asked(self.name)?;
                    answers.last_name = given;
                }
                "email" => {
                    asked(self.email)?;
                    if let Some(email) = &given {
                        if !email_ok(email) {
                            return Err(FormError::invalid(field, "is not an email address"));
                        }
                    }
                    answers.email = given;
                }
                _ => {
                    let Some(custom) = self.fields.iter().find(|f| &f.key == key) else {
                        return Err(FormError::invalid(
                            field,
                            "this channel's form has no such field",
                        ));
                    };
                    if let Some(value) = given {
                        if custom.field_type == FieldType::Select
                            && !custom.options.contains(&value)
                        {
                            return Err(FormError::invalid(
                                field,
                                format!("{value:?} is not one of the options"),
                            ));
                        }
                        answers.custom.push((key.clone(), value));
                    }
                }
            }
        }
        if self.name == FieldMode::Required && answers.first_name.is_none() {
            return Err(FormError::missing(
                "formData.firstName",
                "your name is required",
            ));
        }
        if self.email == FieldMode::Required && answers.email.is_none() {
            return Err(FormError::missing(
                "formData.email",
                "your email address is required",
            ));
        }
        for f in self.fields.iter().filter(|f| f.required) {
            if !answers.custom.iter().any(|(k, _)| k == &f.key) {
                return Err(FormError::missing(
                    format!("formData.{}", f.key),
                    format!("{} is required", f.label),
                ));
            }
        }
        let order = |k: &str| self.fields.iter().position(|f| f.key == k);
        answers.custom.sort_by_key(|(k, _)| order(k.as_str()));
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> PrechatForm {
        PrechatForm {
            name: FieldMode::Required,
            email: FieldMode::Optional,
            fields: vec![
                CustomField {
                    label: "Order number".into(),
                    key: "orderNumber".into(),
                    field_type: FieldType::Text,
                    required: true,
                    options: vec![],
                },
                CustomField {
                    label: "Topic".into(),
                    key: "topic".into(),
                    field_type: FieldType::Select,
                    required: false,
                    options: vec!["Billing".into(), "Delivery".into()],
                },
            ],
        }
    }

    fn attrs(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_good_submission_is_accepted() {
        let answers = form()
            .accept(&attrs(&[
                ("topic", json!("Delivery")),
                ("firstName", json!(" Ada ")),
                ("email", json!("ada@example.org")),
                ("orderNumber", json!("A-17")),
            ]))
            .unwrap();
        assert_eq!(answers.first_name.as_deref(), Some("Ada"));
        assert_eq!(answers.email.as_deref(), Some("ada@example.org"));
        assert_eq!(
            answers.custom,
            vec![
                ("orderNumber".to_owned(), "A-17".to_owned()),
                ("topic".to_owned(), "Delivery".to_owned())
            ]
        );
    }

    #[test]
    fn bad_submissions_name_the_field() {
        let f = form();
        let refuse = |pairs: &[(&str, Value)]| f.accept(&attrs(pairs)).unwrap_err();
        let e = refuse(&[("orderNumber", json!("1"))]);
        assert_eq!(
            (e.code, e.field.as_str()),
            ("missing_field", "formData.firstName")
        );
        let e = refuse(&[("firstName", json!("Ada"))]);
        assert_eq!(
            (e.code, e.field.as_str()),
            ("missing_field", "formData.orderNumber")
        );
        let e = refuse(&[("firstName", json!("Ada")), ("orderNumber", json!("   "))]);
        assert_eq!(e.field, "formData.orderNumber");
        let ok = [("firstName", json!("Ada")), ("orderNumber", json!("1"))];
        let with = |extra: (&str, Value)| {
            let mut all = ok.to_vec();
            all.push(extra);
            f.accept(&attrs(&all)).unwrap_err()
        };
        assert_eq!(
            with(("email", json!("not-an-email"))).field,
            "formData.email"
        );
        assert_eq!(with(("topic", json!("Refunds"))).field, "formData.topic");
        assert_eq!(with(("shoeSize", json!("42"))).field, "formData.shoeSize");
        assert_eq!(with(("topic", json!(7))).field, "formData.topic");
        assert_eq!(
            with(("topic", json!("x".repeat(MAX_VALUE_CHARS + 1)))).field,
            "formData.topic"
        );
        assert_eq!(with(("firstName", json!("Bob"))).message, "given twice");
        let mut hidden = form();
        hidden.email = FieldMode::Hidden;
        let e = hidden
            .accept(&attrs(&[
                ("firstName", json!("Ada")),
                ("orderNumber", json!("1")),
                ("email", json!("ada@example.org")),
            ]))
            .unwrap_err();
        assert_eq!(e.field, "formData.email");
        // An empty hidden value is not an answer.
        assert!(hidden
            .accept(&attrs(&[
                ("firstName", json!("Ada")),
                ("orderNumber", json!("1")),
                ("email", json!("")),
            ]))
            .is_ok());
    }

    #[test]
    fn a_left_message_offers_name_and_email() {
        let mut f = form();
        f.email = FieldMode::Hidden;
        f.name = FieldMode::Hidden;
        let left = f.for_left_message();
        assert_eq!(
            (left.name, left.email),
            (FieldMode::Optional, FieldMode::Optional)
        );
        assert!(left
            .accept(&attrs(&[
                ("email", json!("a@b.co")),
                ("orderNumber", json!("1"))
            ]))
            .is_ok());
        assert_eq!(form().for_left_message().name, FieldMode::Required);
    }

    #[test]
    fn the_default_form_requires_nothing() {
        let f = PrechatForm::default();
        assert_eq!(f.accept(&[]).unwrap(), Answers::default());
        let answers = f
            .accept(&attrs(&[
                ("firstName", json!("Jane")),
                ("lastName", json!("Doe")),
            ]))
            .unwrap();
        assert_eq!(answers.last_name.as_deref(), Some("Doe"));
    }

    #[test]
    fn bad_forms_name_the_field() {
        let mut f = form();
        f.fields[0].key = "email".into();
        assert_eq!(f.check().unwrap_err().field, "fields[0].key");
        let mut f = form();
        f.fields[1].key = "orderNumber".into();
        assert_eq!(f.check().unwrap_err().field, "fields[1].key");
        let mut f = form();
        f.fields[0].key = "9lives".into();
        assert_eq!(f.check().unwrap_err().field, "fields[0].key");
        let mut f = form();
        f.fields[0].label = " ".into();
        assert_eq!(f.check().unwrap_err().field, "fields[0].label");
        let mut f = form();
        f.fields[1].options.clear();
        assert_eq!(f.check().unwrap_err().field, "fields[1].options");
        let mut f = form();
        f.fields[0].options = vec!["a".into()];
        assert_eq!(f.check().unwrap_err().field, "fields[0].options");
        let mut f = form();
        f.fields[1].options.push("Billing".into());
        assert_eq!(f.check().unwrap_err().field, "fields[1].options[2]");
        let mut f = form();
        f.fields = vec![f.fields[0].clone(); MAX_FIELDS + 1];
        assert_eq!(f.check().unwrap_err().field, "fields");
        assert!(form().check().is_ok());
        let parsed: Result<PrechatForm, _> =
            serde_json::from_value(json!({"name": "sometimes", "email": "hidden"}));
        assert!(parsed.is_err());
    }
}
