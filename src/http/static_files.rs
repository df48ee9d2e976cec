//! The bundled web pages (admin, desk, widget), embedded at build time.

use actix_web::{http::header, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// Serves `path` from the embedded `web/` tree; directories map to their index.html.
pub fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let mut path = path.trim_start_matches('/').to_string();
    if path.is_empty() || path.ends_with('/') {
        path.push_str("index.html");
    }
    let file = Assets::get(&path).or_else(|| {
        // `/desk` without a slash still finds the desk.
        Assets::get(&format!("{path}/index.html"))
    });
    let Some(file) = file else {
        return actix_web::ResponseError::error_response(&super::error::ApiError::NotFound(
            format!("/{path}"),
        ));
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let mime = content_type(file.metadata.mimetype());
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, cache_control(&path)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ETAG, etag))
        .body(file.data.into_owned())
}

/// Text types say their charset so a browser never guesses it.
fn content_type(mime: &str) -> String {
    let textual = mime.starts_with("text/")
        || mime == "application/javascript"
        || mime == "application/json"
        || mime == "image/svg+xml";
    if textual && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// Our own pages, scripts and styles revalidate every time (a cheap 304 thanks to the
/// ETag), so an upgrade never pairs a new page with an old script; third-party files
/// under `vendor/` change only with their version and are cached for a day.
fn cache_control(path: &str) -> &'static str {
    if path.starts_with("vendor/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    }
}

pub async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "admin/index.html")
}

pub async fn asset(req: HttpRequest) -> HttpResponse {
    let section = req.match_info().query("section");
    let path = req.match_info().query("path");
    serve(&req, &format!("{section}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_carry_a_charset() {
        assert_eq!(content_type("text/html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("application/javascript"),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(content_type("image/png"), "image/png");
        assert_eq!(
            content_type("text/css; charset=utf-8"),
            "text/css; charset=utf-8"
        );
    }

    #[test]
    fn only_vendored_files_are_cached() {
        assert_eq!(cache_control("desk/desk.js"), "no-cache");
        assert_eq!(cache_control("admin/index.html"), "no-cache");
        assert_eq!(
            cache_control("vendor/socket.io.esm.min.js"),
            "public, max-age=86400"
        );
    }

    #[test]
    fn every_page_and_its_modules_are_embedded() {
        for path in [
            "admin/index.html",
            "desk/index.html",
            "widget/index.html",
            "vendor/socket.io.esm.min.js",
        ] {
            assert!(Assets::get(path).is_some(), "{path} is not embedded");
        }
    }
}
