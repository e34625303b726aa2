//! The emulator's answers: [`Resp`] and its builders, one per kind of answer Salesforce
//! gives, each with the note the request log shows. Bodies are the [`crate::wire`] types,
//! serialised; headers are Salesforce's (`Content-Type: application/json;charset=UTF-8`,
//! `Cache-Control: no-cache,must-revalidate,max-age=0,no-store,private`).

use std::borrow::Cow;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde::Serialize;

use crate::wire::identity::{BAD_ID, BAD_OAUTH_TOKEN};
use crate::wire::oauth::{ErrorBody, TokenError, TokenResponse};
use crate::wire::rest::RestError;
use crate::wire::{CACHE_CONTROL, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// An HTTP response with its whole body.
pub(super) type Resp = Response<Full<Bytes>>;
/// What the request log says about a response (empty for a plain success).
pub(super) type Note = Cow<'static, str>;
/// A response and its log note.
pub(super) type Reply = (Resp, Note);

/// A response with Salesforce's headers.
pub(super) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    r
}

/// A JSON response from bytes.
pub(super) fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    respond(status, JSON_CONTENT_TYPE, body)
}

/// 200 with `value` as JSON.
pub(super) fn ok_json<T: Serialize>(value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => (json(StatusCode::OK, body), Cow::Borrowed("")),
        // The wire types are strings, numbers and booleans: this does not happen.
        Err(_) => server_error("the response could not be serialised"),
    }
}

/// The same response, closing the connection after it.
pub(super) fn closing(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// A REST error list with `status`, logged as its code.
pub(super) fn rest_error(status: StatusCode, e: RestError) -> Reply {
    let note = e.error_code.clone();
    (json(status, e.list()), note)
}

/// 204 without a body (a REST delete).
pub(super) fn no_content() -> Reply {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    (r, Cow::Borrowed(""))
}

/// A SOAP answer (`text/xml`): 200, or 500 for a fault (logged as its code).
pub(super) fn soap(body: String, fault: Option<&str>) -> Reply {
    let status = if fault.is_some() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    (
        respond(status, SOAP_CONTENT_TYPE, body),
        fault.map_or(Cow::Borrowed(""), |f| Cow::Owned(f.to_owned())),
    )
}

/// The content type of a SOAP answer, as Salesforce sends it.
const SOAP_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

/// 404 `NOT_FOUND`.
pub(super) fn not_found() -> Reply {
    rest_error(
        StatusCode::NOT_FOUND,
        RestError::new("NOT_FOUND", "The requested resource does not exist"),
    )
}

/// 405 `METHOD_NOT_ALLOWED`.
pub(super) fn method_not_allowed() -> Reply {
    rest_error(
        StatusCode::METHOD_NOT_ALLOWED,
        RestError::new(
            "METHOD_NOT_ALLOWED",
            "HTTP Method not allowed. Allowed are GET,HEAD,POST",
        ),
    )
}

/// 401 `INVALID_SESSION_ID`, with `WWW-Authenticate: Token` as Salesforce sends.
pub(super) fn invalid_session() -> Reply {
    let (mut r, note) = rest_error(StatusCode::UNAUTHORIZED, RestError::invalid_session());
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
    (r, note)
}

/// An OAuth error body (`{"error","error_description"}`) with `status`.
pub(super) fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: &'static str,
) -> Reply {
    let body = ErrorBody {
        error: Cow::Borrowed(error),
        error_description: Cow::Borrowed(description),
    };
    (json(status, body.to_json()), Cow::Borrowed(error))
}

/// 413, closing the connection (the rest of the body is not read).
pub(super) fn too_large() -> Reply {
    (
        closing(json(
            StatusCode::PAYLOAD_TOO_LARGE,
            RestError::new("PAYLOAD_TOO_LARGE", "the request body is too large").list(),
        )),
        Cow::Borrowed("body too large"),
    )
}

/// 408, closing the connection.
pub(super) fn body_timed_out() -> Reply {
    (
        closing(json(
            StatusCode::REQUEST_TIMEOUT,
            RestError::new(
                "REQUEST_TIMEOUT",
                "the request body was not received in time",
            )
            .list(),
        )),
        Cow::Borrowed("body timed out"),
    )
}

/// 400 for a body that broke off, closing the connection.
pub(super) fn body_unreadable() -> Reply {
    (
        closing(json(
            StatusCode::BAD_REQUEST,
            RestError::new("BAD_REQUEST", "the request body could not be read").list(),
        )),
        Cow::Borrowed("body unreadable"),
    )
}

/// 503 `SERVER_UNAVAILABLE`: the emulator is busy (deploy uploads at their limit).
pub(super) fn unavailable() -> Reply {
    rest_error(
        StatusCode::SERVICE_UNAVAILABLE,
        RestError::new(
            "SERVER_UNAVAILABLE",
            "the emulator is receiving as many deploys as it takes at once; try again",
        ),
    )
}

/// 403 `Bad_OAuth_Token` (text), from the identity and UserInfo endpoints.
pub(super) fn bad_oauth_token() -> Reply {
    (
        respond(StatusCode::FORBIDDEN, TEXT_CONTENT_TYPE, BAD_OAUTH_TOKEN),
        Cow::Borrowed(BAD_OAUTH_TOKEN),
    )
}

/// 403 `Bad_Id` (text): an identity URL that names no user of the org.
pub(super) fn bad_id() -> Reply {
    (
        respond(StatusCode::FORBIDDEN, TEXT_CONTENT_TYPE, BAD_ID),
        Cow::Borrowed(BAD_ID),
    )
}

/// The token endpoint's refusal, logged with the emulator's own reason when it has one.
pub(super) fn token_refused(e: TokenError, why: Option<&'static str>) -> Reply {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let note = match why {
        Some(why) => format!("{} \"{}\" ({why})", e.code(), e.description()),
        None => format!("{} \"{}\"", e.code(), e.description()),
    };
    (json(status, e.body().to_json()), Cow::Owned(note))
}

/// The token endpoint's grant.
pub(super) fn token_granted(grant: &TokenResponse) -> Reply {
    (json(StatusCode::OK, grant.to_json()), Cow::Borrowed(""))
}

/// 500 `server_error` (the emulator itself failed, e.g. its random number generator).
pub(super) fn server_error(what: &'static str) -> Reply {
    let body = ErrorBody {
        error: Cow::Borrowed("server_error"),
        error_description: Cow::Borrowed(what),
    };
    (
        json(StatusCode::INTERNAL_SERVER_ERROR, body.to_json()),
        Cow::Borrowed(what),
    )
}
