//! Typed request extractors: a JSON body and a query string parsed into serde
//! structs whose errors name the refused field (`steps[1].expression`, `limit`), and
//! the role extractors that refuse a caller before any body is read.
//!
//! Handlers list the role extractor BEFORE the body: actix runs extractors in
//! argument order and stops at the first refusal, so an agent posting anything to an
//! admin route gets 403, never a 400 about its body.

use super::auth::AuthUser;
use super::error::ApiError;
use crate::store::users::Role;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// The most bytes a body may have (mirrors `http.max_body_bytes`).
#[derive(Clone, Copy)]
pub struct MaxBody(pub usize);

/// A JSON body parsed into `T`; refusals name the field. The extractor itself never
/// fails: actix polls a handler's extractors together, so a body error could otherwise
/// answer before the role check. The handler takes the body with `into_inner()?`
/// after its role extractor has passed.
pub struct Body<T>(Result<T, ApiError>);

impl<T> Body<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

/// Where a serde error points: the path, plus the field an "unknown/missing field"
/// message names.
fn field_of(path: &str, message: &str) -> String {
    let root = path == "." || path.is_empty();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (missing, root) {
        // serde reports a missing field at the object that lacks it.
        (Some(name), true) => name.to_string(),
        (Some(name), false) => format!("{path}.{name}"),
        (None, true) => message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map_or_else(|| "body".to_string(), |(name, _)| name.to_string()),
        // An unknown field's path already ends with its name.
        (None, false) => path.to_string(),
    }
}

/// Parses `bytes` as JSON into `T`, naming the refused field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("malformed JSON: {inner}"))
        } else {
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            let field = field_of(&path, &message);
            ApiError::invalid(field.clone(), format!("{field}: {message}"))
        }
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        let limit = req.app_data::<MaxBody>().map_or(1 << 20, |m| m.0);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let parsed = async {
                let bytes = bytes.await.map_err(|e| {
                    match e.as_error::<actix_web::error::PayloadError>() {
                        Some(actix_web::error::PayloadError::Overflow) => {
                            ApiError::PayloadTooLarge { limit }
                        }
                        _ => ApiError::BadRequest(format!("cannot read request body: {e}")),
                    }
                })?;
                if !json {
                    return Err(ApiError::UnsupportedMediaType);
                }
                if bytes.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                parse_json(&bytes)
            };
            Ok(Body(parsed.await))
        })
    }
}

/// The query string parsed into `T` (`deny_unknown_fields`); refusals name the parameter.
pub struct QueryOf<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryOf<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(QueryOf))
    }
}

/// Parses a query string into `T`; empty values count as absent.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    let kept: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let cleaned = serde_urlencoded::to_string(&kept)
        .map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(&cleaned));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if message.starts_with("unknown field") || message.starts_with("duplicate field") {
            return ApiError::BadRequest(format!("query parameter: {message}"));
        }
        let field = field_of(&path, &message);
        ApiError::invalid(
            field.clone(),
            format!("query parameter `{field}`: {message}"),
        )
    })
}

fn form_urlencoded_parse(s: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(s.as_bytes())
}

/// Checks an integer query parameter against its range.
pub fn in_range(name: &str, value: Option<i64>, min: i64, max: i64) -> Result<(), ApiError> {
    match value {
        Some(v) if v < min || v > max => Err(ApiError::invalid(
            name,
            format!("query parameter `{name}` must be from {min} to {max}"),
        )),
        _ => Ok(()),
    }
}

fn role_guard(
    req: &HttpRequest,
    payload: &mut Payload,
    role: Role,
) -> Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>> {
    let auth = AuthUser::from_request(req, payload);
    Box::pin(async move {
        let auth = auth.await?;
        auth.require(role)?;
        Ok(auth)
    })
}

/// A caller with the admin role (403 otherwise, before any body is read).
pub struct Admin(pub AuthUser);

/// A caller with at least the supervisor role.
pub struct Supervisor(pub AuthUser);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let f = role_guard(req, payload, Role::Admin);
        Box::pin(async move { f.await.map(Admin) })
    }
}

impl FromRequest for Supervisor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let f = role_guard(req, payload, Role::Supervisor);
        Box::pin(async move { f.await.map(Supervisor) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Step {
        expression: String,
        timeout_secs: i64,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        name: String,
        steps: Vec<Step>,
    }

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Invalid { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        let e = parse_json::<Q>(br#"{"name": 5, "steps": []}"#).unwrap_err();
        assert_eq!(field(e), "name");
        let e = parse_json::<Q>(br#"{"name": "a", "steps": [{"expression": "", "timeoutSecs": 1}, {"expression": 1, "timeoutSecs": 1}]}"#).unwrap_err();
        assert_eq!(field(e), "steps[1].expression");
        let e = parse_json::<Q>(br#"{"name": "a", "steps": [], "bogus": 1}"#).unwrap_err();
        assert_eq!(field(e), "bogus");
        let e = parse_json::<Q>(br#"{"steps": []}"#).unwrap_err();
        assert_eq!(field(e), "name");
        let e = parse_json::<Q>(br#"{"name": "a", "steps": [{"expression": ""}]}"#).unwrap_err();
        assert_eq!(field(e), "steps[0].timeoutSecs");
        assert!(matches!(
            parse_json::<Q>(b"{"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct L {
        limit: Option<i64>,
        q: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let l: L = parse_query("limit=5&q=").unwrap();
        assert_eq!((l.limit, l.q), (Some(5), None));
        assert_eq!(field(parse_query::<L>("limit=x").unwrap_err()), "limit");
        assert!(matches!(
            parse_query::<L>("lmit=1"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(in_range("limit", Some(0), 1, 500).is_err());
    }
}
