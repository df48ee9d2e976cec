//! The plain-HTTP redirect port (`[http.tls] redirect_listen`): every request is answered
//! `308 Permanent Redirect` to the same path on the HTTPS listener, so a browser that types
//! the bare name lands on HTTPS. Nothing else is served there.

use actix_http::{HttpMessage, Request, Response, StatusCode};

/// The HTTPS address for a request that named `host` (its `Host` header, port or not) and
/// `path_and_query`; None when the host is missing or not a plain host name or address.
pub fn location(host: Option<&str>, path_and_query: &str, https_port: u16) -> Option<String> {
    let host = host?.trim();
    let name = if host.starts_with('[') {
        // An IPv6 literal: `[::1]` or `[::1]:80`.
        &host[..=host.find(']')?]
    } else {
        host.split(':').next()?
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let ipv6 = |c: char| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '[' | ']');
    if name.is_empty()
        || !(name.chars().all(plain) || name.starts_with('[') && name.chars().all(ipv6))
    {
        return None;
    }
    let path = if path_and_query.starts_with('/') {
        path_and_query
    } else {
        "/"
    };
    Some(match https_port {
        443 => format!("https://{name}{path}"),
        port => format!("https://{name}:{port}{path}"),
    })
}

/// Answers one request on the redirect port.
pub fn respond(req: &Request, https_port: u16) -> Response<String> {
    let host = req
        .headers()
        .get(actix_http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    match location(host, path, https_port) {
        Some(target) => {
            let mut response = Response::with_body(StatusCode::PERMANENT_REDIRECT, String::new());
            if let Ok(value) = actix_http::header::HeaderValue::from_str(&target) {
                response
                    .headers_mut()
                    .insert(actix_http::header::LOCATION, value);
            }
            response
        }
        None => {
            let body = serde_json::json!({
                "code": "bad_request",
                "message": "a Host header naming this server is needed to redirect to HTTPS",
            });
            let mut response = Response::with_body(StatusCode::BAD_REQUEST, body.to_string());
            response.headers_mut().insert(
                actix_http::header::CONTENT_TYPE,
                actix_http::header::HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::location;

    #[test]
    fn the_host_is_kept_and_the_port_becomes_the_https_one() {
        assert_eq!(
            location(Some("example.org:8080"), "/desk/?a=1", 8443).as_deref(),
            Some("https://example.org:8443/desk/?a=1")
        );
        assert_eq!(
            location(Some("example.org"), "/", 443).as_deref(),
            Some("https://example.org/")
        );
        assert_eq!(
            location(Some("[::1]:80"), "/x", 8443).as_deref(),
            Some("https://[::1]:8443/x")
        );
    }

    #[test]
    fn a_missing_or_strange_host_is_not_redirected() {
        assert_eq!(location(None, "/", 443), None);
        assert_eq!(location(Some(""), "/", 443), None);
        assert_eq!(location(Some("evil.org/path"), "/", 443), None);
        assert_eq!(location(Some("a b"), "/", 443), None);
        assert_eq!(location(Some("[::1"), "/", 443), None);
    }
}
