//! What the emulator answers, one module per endpoint family: [`grant`] (the token
//! endpoint), [`identity`] (the identity URL and UserInfo) and [`data`] (the REST API).
//! Handlers take the state and the request's head (`Parts`: method, URI, headers) plus
//! what `routes` already read from the body, and return a `response::Reply`; they know
//! nothing of connections or limits.

pub(super) mod data;
pub(super) mod deploy;
pub(super) mod grant;
pub(super) mod identity;
mod objects;
pub(super) mod soap;

use hyper::body::Bytes;
use hyper::header;
use hyper::http::request::Parts;

use super::state::Shared;
use super::tokens::Session;
use crate::wire::form;

/// The bearer token of a request: `Authorization: Bearer|OAuth <token>`, or the
/// `oauth_token` query parameter.
fn bearer(req: &Parts) -> Option<String> {
    if let Some(v) = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        for scheme in ["Bearer ", "OAuth "] {
            if v.len() > scheme.len() && v[..scheme.len()].eq_ignore_ascii_case(scheme) {
                return Some(v[scheme.len()..].trim().to_owned());
            }
        }
        return None;
    }
    query_param(req, "oauth_token")
}

/// The first value of a query parameter, decoded.
fn query_param(req: &Parts, name: &str) -> Option<String> {
    form::first(req.uri.query()?.as_bytes(), name).map(|v| v.into_owned())
}

/// The session of the request's token, when it is valid.
pub(in crate::emulator) fn session(sh: &Shared, req: &Parts) -> Option<Session> {
    let token = bearer(req)?;
    sh.tokens.check(&sh.org().cfg, &token, sh.now())
}

/// A request's body as `routes` read it: the bytes, and for multipart/form-data its parts
/// (name, bytes).
#[derive(Debug, Default)]
pub(in crate::emulator) struct Payload {
    /// The whole body.
    pub(in crate::emulator) bytes: Bytes,
    /// The parts of a multipart body.
    pub(in crate::emulator) form: Vec<(String, Bytes)>,
}
