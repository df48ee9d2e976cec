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
    let mime = file.metadata.mimetype().to_string();
    // Pages revalidate every time so an upgrade shows at once; assets are cached an hour.
    let cache = if mime.starts_with("text/html") {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .body(file.data.into_owned())
}

pub async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "admin/index.html")
}

pub async fn asset(req: HttpRequest) -> HttpResponse {
    let section = req.match_info().query("section");
    let path = req.match_info().query("path");
    serve(&req, &format!("{section}/{path}"))
}
