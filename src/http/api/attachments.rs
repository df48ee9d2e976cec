//! Attachment upload and download.
//!
//! - `POST /api/v1/conversations/{id}/attachments` — one file as `multipart/form-data`
//!   (field `file`), by a desk (`Authorization: Bearer`, an active participant of the
//!   open conversation) or by a widget (`X-Channel-Session` + `X-Session-Secret`, the
//!   secret the tab got when it started the chat, for a running session of that
//!   conversation). Checked for size while it is read and for its type from its
//!   content, then written and synced under its hash, then its row is committed; only
//!   then is its signed URL answered, with the IMAGE/FILE body to send. A refused
//!   upload stores nothing.
//! - `GET /attachments/{id}?exp=..&sig=..` — the file, for whoever holds a signed URL
//!   that has not expired (no token: an `<img>` tag or a connector's provider).

use crate::attachments::sniff::{clean_name, inline, sniff};
use crate::attachments::{AttachmentError, Attachments};
use crate::cim::{ParticipantRole, ParticipantType};
use crate::clock::now_ms;
use crate::http::auth::{bearer_token, user_for_token};
use crate::http::error::ErrorBody;
use crate::http::AppState;
use crate::store::attachments::{self as rows, AttachmentRow};
use crate::store::secrets;
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload);
}

impl ResponseError for AttachmentError {
    fn status_code(&self) -> StatusCode {
        match self {
            AttachmentError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AttachmentError::NotParticipant(_)
            | AttachmentError::BadSignature
            | AttachmentError::Expired => StatusCode::FORBIDDEN,
            AttachmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AttachmentError::ForbiddenType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AttachmentError::BadUpload(_) => StatusCode::BAD_REQUEST,
            AttachmentError::NotFound(_) => StatusCode::NOT_FOUND,
            AttachmentError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AttachmentError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AttachmentError::Internal(detail) = self {
            tracing::error!(%detail, "attachment request failed");
        }
        HttpResponse::build(self.status_code()).json(ErrorBody {
            code: self.code().to_owned(),
            message: self.to_string(),
            field: None,
            blockers: Vec::new(),
        })
    }
}

/// The upload form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file. Its type is read from its content; the name is kept for display.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored upload: its signed URL and the CIM body to send it with.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uploaded {
    pub id: String,
    /// Signed; works without a token until `expiresAt`.
    pub url: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
    pub file_name: String,
    pub size: i64,
    /// As sniffed from the content.
    pub mime_type: String,
    /// The IMAGE (for images) or FILE body of the message to send: `{type, caption,
    /// attachment: {mediaUrl, thumbnail, mimeType, size}, additionalDetails:
    /// {attachmentId, fileName}}`.
    #[schema(value_type = Object)]
    pub body: Value,
}

/// Who uploads: `AGENT:<user id>` or `CUSTOMER:<channel session id>`.
async fn uploader(
    state: &AppState,
    req: &HttpRequest,
    conversation_id: &str,
) -> Result<String, AttachmentError> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(token) = bearer_token(req) {
        let user = user_for_token(state, token)
            .await
            .map_err(|e| AttachmentError::Unavailable(e.to_string()))?
            .ok_or(AttachmentError::Unauthenticated)?;
        // An active agent participant who may write: not a silent monitor, not in
        // wrap-up (their messages would be refused, so their files would be orphans).
        let topic = state.conversations.topic(conversation_id).await.ok();
        let writes = topic.is_some_and(|t| {
            t.conversation.participants.iter().any(|p| {
                p.participant_type == ParticipantType::Agent
                    && p.is_active.get() != Some(&false)
                    && p.as_cc_user().is_some_and(|u| u.id == user.id)
                    && !matches!(
                        p.role,
                        ParticipantRole::SilentMonitor | ParticipantRole::WrapUp
                    )
            })
        });
        if !writes {
            return Err(AttachmentError::NotParticipant(format!(
                "you do not write in conversation {conversation_id} (not a participant, a silent monitor, or in wrap-up)"
            )));
        }
        return Ok(format!("AGENT:{}", user.id));
    }
    let (Some(session_id), Some(secret)) =
        (header("X-Channel-Session"), header("X-Session-Secret"))
    else {
        return Err(AttachmentError::Unauthenticated);
    };
    let conversation = conversation_id.to_owned();
    let session = session_id.clone();
    let (digest, running) = state
        .store
        .read(move |c| {
            let digest = secrets::widget_secret(c, &session)?;
            let running: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM channel_sessions
                                WHERE id = ?1 AND conversation_id = ?2 AND state = 'STARTED')",
                [&session, &conversation],
                |r| r.get(0),
            )?;
            Ok((digest, running))
        })
        .await?;
    if !digest.is_some_and(|d| secrets::matches(&secret, &d)) {
        return Err(AttachmentError::Unauthenticated);
    }
    if !running {
        return Err(AttachmentError::NotParticipant(format!(
            "your chat is not conversation {conversation_id}, or it has ended"
        )));
    }
    Ok(format!("CUSTOMER:{session_id}"))
}

/// The one file of the form, read up to `limit` bytes: its name and bytes.
async fn read_file(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(String, Vec<u8>), AttachmentError> {
    let is_multipart = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AttachmentError::BadUpload(
            "send the file as multipart/form-data in a field named file".into(),
        ));
    }
    let bad = |e: actix_multipart::MultipartError| AttachmentError::BadUpload(e.to_string());
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad)?;
        if field.name() != Some("file") {
            // Other fields are read past and ignored.
            while let Some(chunk) = field.next().await {
                chunk.map_err(bad)?;
            }
            continue;
        }
        let name = clean_name(
            field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default(),
        );
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            if bytes.len() + chunk.len() > limit {
                return Err(AttachmentError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(AttachmentError::BadUpload("the file is empty".into()));
        }
        return Ok((name, bytes));
    }
    Err(AttachmentError::BadUpload(
        "the form has no field named file".into(),
    ))
}

/// The IMAGE or FILE body for an upload (CIM field names).
pub fn message_body(row: &AttachmentRow, url: &str) -> Value {
    let kind = if row.mime_type.starts_with("image/") {
        "IMAGE"
    } else {
        "FILE"
    };
    json!({
        "type": kind,
        "caption": null,
        "attachment": {
            "mediaUrl": url,
            "thumbnail": null,
            "mimeType": row.mime_type,
            "size": row.size,
        },
        "additionalDetails": {"attachmentId": row.id, "fileName": row.file_name},
    })
}

/// Uploads a file into a conversation.
#[utoipa::path(
    tag = "conversations",
    params(
        ("id" = String, Path, description = "The conversation"),
        ("X-Channel-Session" = Option<String>, Header, description = "Widget: the chat's channel session id"),
        ("X-Session-Secret" = Option<String>, Header, description = "Widget: the sessionSecret the tab got when it started the chat"),
    ),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = Uploaded),
        (status = 400, description = "bad_upload: not multipart, no field `file`, or an empty file", body = ErrorBody),
        (status = 401, description = "unauthenticated: no valid bearer token nor session secret", body = ErrorBody),
        (status = 403, description = "not_participant: not in this open conversation (or the chat ended)", body = ErrorBody),
        (status = 413, description = "too_large: over `attachments.max_bytes`", body = ErrorBody),
        (status = 415, description = "forbidden_type: the content is not of an allowed type", body = ErrorBody),
    ),
    security(("bearer" = []), ())
)]
#[post("/conversations/{id}/attachments")]
async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AttachmentError> {
    let conversation_id = id.into_inner();
    let attachments: &Attachments = &state.attachments;
    // Who may upload is settled before a byte of the body is read.
    let uploaded_by = uploader(&state, &req, &conversation_id).await?;
    let limit = attachments.settings.max_bytes;
    let (name, bytes) = read_file(&req, payload, limit).await?;
    let mime = sniff(&bytes).ok_or_else(|| AttachmentError::ForbiddenType("unknown".into()))?;
    if !attachments.settings.allowed_types.iter().any(|t| t == mime) {
        return Err(AttachmentError::ForbiddenType(mime.to_owned()));
    }
    let size = bytes.len() as i64;
    let files = attachments.files.clone();
    let hash = tokio::task::spawn_blocking(move || files.put(&bytes))
        .await
        .map_err(|e| AttachmentError::Internal(e.to_string()))?
        .map_err(|e| AttachmentError::Internal(format!("writing the file: {e}")))?;
    let now = now_ms();
    let row = AttachmentRow {
        id: uuid::Uuid::new_v4().to_string(),
        sha256: hash,
        conversation_id,
        size,
        mime_type: mime.to_owned(),
        file_name: name,
        uploaded_by,
        created_at: now,
    };
    let stored = row.clone();
    state.store.write(move |c| rows::insert(c, &stored)).await?;
    let (url, expires_at) = attachments.signer.url(&row.id, now);
    Ok(HttpResponse::Created().json(Uploaded {
        body: message_body(&row, &url),
        id: row.id,
        url,
        expires_at,
        file_name: row.file_name,
        size: row.size,
        mime_type: row.mime_type,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// Unix seconds the URL works until. Without it: 403 bad_signature.
    #[param(required = true)]
    exp: Option<String>,
    /// HMAC-SHA256 of `{id}.{exp}` under the site key, hex. Without it: 403
    /// bad_signature.
    #[param(required = true)]
    sig: Option<String>,
}

/// An attachment, by its signed URL (no token: the URL is the credential).
#[utoipa::path(
    get,
    path = "/attachments/{id}",
    tag = "conversations",
    params(("id" = String, Path, description = "The attachment"), Signed),
    responses(
        (status = 200, description = "the file, with its sniffed type", content_type = "application/octet-stream", body = String),
        (status = 403, description = "bad_signature or expired", body = ErrorBody),
        (status = 404, description = "not_found: deleted (retention, erasure)", body = ErrorBody),
    )
)]
pub async fn download(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<Signed>,
) -> Result<HttpResponse, AttachmentError> {
    let id = id.into_inner();
    let Signed { exp, sig } = query.into_inner();
    let (Some(exp), Some(sig)) = (exp, sig) else {
        return Err(AttachmentError::BadSignature);
    };
    let now = now_ms();
    state.attachments.signer.verify(&id, &exp, &sig, now)?;
    let wanted = id.clone();
    let row = state
        .store
        .read(move |c| rows::get(c, &wanted))
        .await?
        .ok_or_else(|| AttachmentError::NotFound(id.clone()))?;
    let files = state.attachments.files.clone();
    let hash = row.sha256.clone();
    let bytes = tokio::task::spawn_blocking(move || files.read(&hash))
        .await
        .map_err(|e| AttachmentError::Internal(e.to_string()))?
        .map_err(|_| AttachmentError::NotFound(id))?;
    let disposition = if inline(&row.mime_type) {
        "inline"
    } else {
        "attachment"
    };
    let max_age = (exp.parse::<i64>().unwrap_or(0) - now / 1000).max(0);
    // Header values are ASCII: other characters of the name become '_'.
    let ascii_name: String = row
        .file_name
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type(row.mime_type.as_str())
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header((
            "Content-Disposition",
            format!("{disposition}; filename=\"{ascii_name}\""),
        ))
        .insert_header(("Cache-Control", format!("private, max-age={max_age}")))
        .body(bytes))
}
