//! `GET /assets/{sha256}`: the files of apps' `[client].assets`, by content
//! address. Only blobs some version lists as an asset are served (never a
//! component), cached for good (the address names the content) and
//! revalidated by their digest; the type comes from the listed name's
//! extension, and is never sniffed.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The content type of an asset named `name`, by its extension.
pub fn content_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether an `If-None-Match` header names `etag` (or is `*`).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// `GET /assets/{sha256}`.
pub async fn serve(
    State(state): State<Arc<AppState>>,
    Path(sha256): Path<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("there is no asset {sha256}"));
    let valid = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return Err(missing());
    }
    let Some((name, bytes)) = state.apps.asset(&sha256).await? else {
        return Err(missing());
    };
    let etag = format!("\"{sha256}\"");
    let headers = [
        (header::CACHE_CONTROL, IMMUTABLE),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header value"),
        ),
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&name)),
        ),
    ];
    if matches(&request, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    Ok((headers, Body::from(bytes)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_extension_and_default_to_bytes() {
        assert_eq!(content_type("sprites/hero.PNG"), "image/png");
        assert_eq!(content_type("a.jpeg"), "image/jpeg");
        assert_eq!(content_type("music.ogg"), "audio/ogg");
        assert_eq!(content_type("level.json"), "application/json");
        assert_eq!(content_type("page.html"), "application/octet-stream");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let etag = "\"abc\"";
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            h
        };
        assert!(matches(&with("\"abc\""), etag));
        assert!(matches(&with("\"x\", W/\"abc\""), etag));
        assert!(matches(&with("*"), etag));
        assert!(!matches(&with("\"abd\""), etag));
        assert!(!matches(&HeaderMap::new(), etag));
    }
}
