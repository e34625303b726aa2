//! The client side of the OAuth 2.0 JWT bearer grant (RFC 7523 §2.1) against Salesforce's
//! token endpoint, `POST <login URL>/services/oauth2/token`, and the identity check that
//! proves the token works.
//!
//! - [`LoginUrl`]: `login`, `test`, a My Domain, a sandbox My Domain or an Experience Cloud
//!   site URL, and the audience Salesforce expects for each.
//! - [`Client`] ([`crate::transport`], shared with the org client of `connect`): HTTPS
//!   with the system's trusted roots (or a private CA), proxies from the environment,
//!   plain `http://` only to loopback; here it gains [`Client::exchange`] and
//!   [`Client::identity`].
//! - [`Exchange`]: the granted token ([`TokenResponse`]) or Salesforce's refusal
//!   ([`OAuthError`]), with an [`explain`]ed cause and fix for every known error
//!   ([`TokenError`]).
//!
//! The request and response bodies, paths and error strings are the wire contract in
//! [`crate::wire`], shared with the emulator; this module re-exports the ones a client
//! needs. There is no refresh token in this flow: a new assertion is signed for each token.

use crate::error::Input;
use crate::{Error, Result};

mod explain;
mod login_url;
mod response;

pub use crate::wire::form::encode as form_body;
pub use crate::wire::identity::USERINFO_PATH;
pub use crate::wire::oauth::{
    AccessToken, GRANT_TYPE, PRODUCTION, SANDBOX, TOKEN_PATH, TokenError, TokenResponse, mask_token,
};
pub use explain::{
    Advice, ExplainContext, Explanation, advice, explain, format_unix, likely_cause,
};
pub use login_url::{LoginKind, LoginUrl, is_loopback_host, resolve_audience};
pub use response::{Exchange, Identity, IdentityCheck, OAuthError};

pub use crate::transport::{
    Client, ClientOptions, ProxySettings, Resolver, RootsSource, check_plain_http, no_proxy_matches,
};

use crate::transport::{Url, read_response, snippet, unexpected};
use crate::wire::FORM_CONTENT_TYPE;
use crate::wire::oauth::TokenRequest;

impl Client {
    /// True when requests to `login` go through a proxy.
    pub fn is_proxied(&self, login: &LoginUrl) -> bool {
        !login.is_loopback() && self.proxy().uses_proxy_for(login.host())
    }

    /// POST the assertion to `<login>/services/oauth2/token`.
    pub fn exchange(&self, login: &LoginUrl, assertion: &str) -> Result<Exchange> {
        let url = login.token_url();
        let body = TokenRequest::jwt_bearer(assertion).to_form();
        let agent = self.agent_for(&url)?;
        let resp = agent
            .post(&url)
            .content_type(FORM_CONTENT_TYPE)
            .send(body.as_bytes())
            .map_err(|e| self.failed(e, &url))?;
        let (status, ctype, location, bytes) = read_response(resp, &url)?;
        if status == 200 {
            return TokenResponse::parse(&bytes).map(Exchange::Granted);
        }
        if let Some(err) = OAuthError::parse(status, &bytes) {
            return Ok(Exchange::Refused(err));
        }
        Err(unexpected(
            &url,
            status,
            &ctype,
            location.as_deref(),
            &bytes,
        ))
    }

    /// Prove the token works: GET the identity URL (`id`) with the token, or
    /// `/services/oauth2/userinfo` on the instance when there is no `id`. When the token
    /// came from a loopback emulator the request stays on that emulator. The token is only
    /// sent over HTTPS to the login host or a Salesforce domain, or to loopback.
    pub fn identity(&self, login: &LoginUrl, grant: &TokenResponse) -> Result<IdentityCheck> {
        let url = identity_url(login, grant)?;
        let agent = self.agent_for(&url)?;
        let auth = format!("Bearer {}", grant.access_token.expose());
        let resp = agent
            .get(&url)
            .header("Authorization", auth.as_str())
            .call()
            .map_err(|e| self.failed(e, &url))?;
        let (status, ctype, location, bytes) = read_response(resp, &url)?;
        match status {
            200 => Identity::parse(&url, &bytes).map(IdentityCheck::Verified),
            401 | 403 => Ok(IdentityCheck::Rejected {
                url,
                status,
                body: snippet(&bytes),
            }),
            _ => Err(unexpected(
                &url,
                status,
                &ctype,
                location.as_deref(),
                &bytes,
            )),
        }
    }
}

/// The URL [`Client::identity`] asks, after the safety checks it describes.
pub fn identity_url(login: &LoginUrl, grant: &TokenResponse) -> Result<String> {
    let raw = match (&grant.id, &grant.instance_url) {
        (Some(id), _) => id.clone(),
        (None, Some(inst)) => format!("{}{USERINFO_PATH}", inst.trim_end_matches('/')),
        (None, None) => format!("{}{USERINFO_PATH}", login.as_str()),
    };
    let u = Url::parse(&raw, Input::IdentityUrl)?;
    // Return the URL with the scheme it was checked under (a missing scheme was taken as
    // https, `HTTPS` as https), not as given: the checks must hold for what is requested.
    let raw = match raw.split_once("://") {
        Some((_, rest)) => format!("{}://{rest}", u.scheme),
        None => format!("{}://{raw}", u.scheme),
    };
    if login.is_loopback() {
        // The emulator may hand out Salesforce-shaped URLs; keep the token on loopback.
        if is_loopback_host(&u.host) {
            return Ok(raw);
        }
        return Ok(format!("{}{}", login.origin(), u.path));
    }
    let trusted = u.scheme == "https"
        && (u.host == login.host()
            || [
                ".salesforce.com",
                ".force.com",
                ".site.com",
                ".salesforce.mil",
                ".cloudforce.com",
            ]
            .iter()
            .any(|d| u.host.ends_with(d)));
    if !trusted {
        return Err(Error::invalid(
            Input::IdentityUrl,
            format!(
                "the token response points at `{}`, which is not a Salesforce host; the token was not sent there",
                crate::text::escape(&raw)
            ),
        ));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests;
