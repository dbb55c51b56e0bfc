//! JSON request bodies: [`JsonBody`] answers a missing content type or a
//! malformed body in Lodge's error shape, naming the field when serde can.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match <axum::Json<T> as FromRequest<S>>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "send a JSON body with `Content-Type: application/json`",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than this endpoint reads ({} KiB)",
                    crate::JSON_BODY_LIMIT >> 10
                ),
            )),
            Err(e) => Err(ApiError::bad_request(
                "invalid_json",
                format!(
                    "the request body is not what this endpoint takes: {}",
                    without_values(&e.body_text())
                ),
            )),
        }
    }
}

/// `Option<JsonBody<T>>`: `None` for a request without a body (no content
/// type and no length, or a length of 0), for endpoints whose body is all
/// optional fields.
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let headers = req.headers();
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok());
        let empty = length == Some("0")
            || (length.is_none()
                && !headers.contains_key(header::CONTENT_TYPE)
                && !headers.contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// serde's message with the values it quotes (between backticks) left
/// out: a mistyped password must not come back in an error.
fn without_values(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "…" } else { part })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_values_are_left_out() {
        assert_eq!(
            super::without_values("password: invalid type: integer `12345678`, expected a string"),
            "password: invalid type: integer …, expected a string"
        );
    }
}
