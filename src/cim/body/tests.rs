//! Unit tests of [`super`]: round trips and validation of every documented body type.
use super::*;
use serde_json::json;

fn round_trip(value: Value) -> MessageBody {
    let body: MessageBody = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&body).unwrap(), value);
    body
}

#[test]
fn documented_bodies_round_trip_into_their_variants() {
    assert!(matches!(
        round_trip(json!({"markdownText": "hi", "type": "PLAIN"})),
        MessageBody::Plain(_)
    ));
    assert!(matches!(
        round_trip(json!({
            "type": "IMAGE", "caption": "Screenshot",
            "attachment": {"mediaUrl": "http://f", "thumbnail": null, "mimeType": "image/jpeg", "size": 41047},
            "markdownText": null, "additionalDetails": {"timestamp": "1652080145"}
        })),
        MessageBody::Image(_)
    ));
    assert!(matches!(
        round_trip(
            json!({"type": "LOCATION", "location": {"latitude": 31.5, "longitude": 74.3}, "markdownText": null})
        ),
        MessageBody::Location(_)
    ));
    assert!(matches!(
        round_trip(json!({"type": "URL", "markdownText": "app", "mediaUrl": ""})),
        MessageBody::Url(_)
    ));
    assert!(matches!(
        round_trip(
            json!({"type": "CONTACT", "markdownText": null, "additionalDetails": null, "contacts": [{"name": {"formattedName": "D"}}]})
        ),
        MessageBody::Contact(_)
    ));
    assert!(matches!(
        round_trip(
            json!({"type": "BUTTON", "markdownText": "Hi", "buttonMessageType": "BUTTON",
            "buttons": [{"type": "String", "title": "Button 1", "payload": "x", "additionalButtonDetails": {"sectionNo": 1}}]})
        ),
        MessageBody::Button(_)
    ));
    assert!(matches!(
        round_trip(json!({"markdownText": " ", "type": "WRAPUP",
            "wrapups": [{"categoryName": "Category1", "value": "internet disconnectivity"}], "note": "optional"})),
        MessageBody::Wrapup(_)
    ));
    assert!(matches!(
        round_trip(
            json!({"type": "NOTIFICATION", "markdownText": "Optional", "notificationType": "TYPING_STARTED"})
        ),
        MessageBody::Notification(NotificationBody {
            notification_type: NotificationType::TypingStarted,
            ..
        })
    ));
    assert!(matches!(
        round_trip(
            json!({"type": "DELIVERYNOTIFICATION", "markdownText": "Optional", "messageId": "abc", "status": "READ", "reasonCode": 200})
        ),
        MessageBody::DeliveryNotification(DeliveryNotificationBody {
            status: DeliveryStatus::Read,
            ..
        })
    ));
}

#[test]
fn unknown_types_are_kept_verbatim() {
    let body = round_trip(json!({"type": "FORM_DATA", "formId": "f", "sections": []}));
    assert_eq!(body.type_name(), "FORM_DATA");
    assert!(!body.is_known());
}

#[test]
fn builders_emit_documented_shapes() {
    assert_eq!(
        serde_json::to_value(MessageBody::plain("hello")).unwrap(),
        json!({"type": "PLAIN", "markdownText": "hello"})
    );
    assert_eq!(
        serde_json::to_value(MessageBody::wrapup(
            vec![WrapupEntry::new("Sales", "upgrade")],
            None
        ))
        .unwrap(),
        json!({"type": "WRAPUP", "wrapups": [{"categoryName": "Sales", "value": "upgrade"}], "note": null})
    );
    assert_eq!(
        serde_json::to_value(MessageBody::notification(NotificationType::TypingStopped)).unwrap(),
        json!({"type": "NOTIFICATION", "notificationType": "TYPING_STOPPED"})
    );
    assert_eq!(
        serde_json::to_value(MessageBody::delivery_notification(
            "m-1",
            DeliveryStatus::Delivered,
            Some(json!(200))
        ))
        .unwrap(),
        json!({"type": "DELIVERYNOTIFICATION", "messageId": "m-1", "status": "DELIVERED", "reasonCode": 200})
    );
    assert_eq!(MessageBody::plain("x").markdown_text(), Some("x"));
}

#[test]
fn validate_body_names_the_missing_field() {
    let cases = [
        (json!({"markdownText": "x"}), "body.type"),
        (json!({"type": "PLAIN"}), "body.markdownText"),
        (
            json!({"type": "IMAGE", "attachment": {}}),
            "body.attachment.mediaUrl",
        ),
        (
            json!({"type": "LOCATION", "location": {"latitude": 1}}),
            "body.location.longitude",
        ),
        (
            json!({"type": "WRAPUP", "wrapups": [{"categoryName": "c"}]}),
            "body.wrapups[0].value",
        ),
        (json!({"type": "NOTIFICATION"}), "body.notificationType"),
        (
            json!({"type": "DELIVERYNOTIFICATION", "status": "READ"}),
            "body.messageId",
        ),
        (
            json!({"type": "BUTTON", "buttons": [{"payload": "p"}]}),
            "body.buttons[0].title",
        ),
    ];
    for (body, path) in cases {
        let err = validate_body(&body, "body").unwrap_err();
        assert_eq!(err, CimError::missing(path), "{body}");
    }
    assert_eq!(
        validate_body(&Value::Null, "body").unwrap_err(),
        CimError::missing("body")
    );
    let err = validate_body(&json!({"type": 3}), "body").unwrap_err();
    assert_eq!(err.path(), "body.type");
    assert_eq!(err.code(), "invalid_field");
}

#[test]
fn validate_body_reports_type_errors_beyond_required_fields() {
    let err = validate_body(
        &json!({"type": "PLAIN", "markdownText": "x", "extra": 1}),
        "body",
    );
    assert!(err.is_ok());
    let err = validate_body(
        &json!({"type": "DELIVERYNOTIFICATION", "messageId": "m", "status": "READ", "markdownText": 5}),
        "body",
    )
    .unwrap_err();
    assert_eq!(err.path(), "body");
    assert!(
        err.to_string().contains("DELIVERYNOTIFICATION body"),
        "{err}"
    );
}
