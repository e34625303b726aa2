//! The identity URL (`GET <id>`) and OpenID Connect UserInfo: who a token belongs to
//! (only the token's own user: another user's identity URL is 403 `Bad_Id`); token
//! revocation (`/services/oauth2/revoke`); the single-use frontdoor URL
//! (`/services/oauth2/singleaccess`) and the page it opens.

use hyper::http::request::Parts;

use super::super::response::{self, Reply};
use super::super::state::{LATEST_API, Shared};
use super::session;
use crate::wire::identity::{IdentityBody, IdentityUrls, Photos, Status, UserInfoBody};
use crate::wire::rest::{FRONTDOOR_PATH, SingleAccess};

/// `GET|POST /id/<org id>/<user id>` (`rest` is what follows `/id/`).
pub(in crate::emulator) fn identity(sh: &Shared, req: &Parts, rest: &str) -> Reply {
    let Some(s) = session(sh, req) else {
        return response::bad_oauth_token();
    };
    let org = sh.org();
    let mut it = rest.trim_end_matches('/').split('/');
    let (Some(org_seg), Some(uid), None) = (it.next(), it.next(), it.next()) else {
        return response::bad_id();
    };
    let org_ok = org_seg == sh.cfg.org_id || org_seg == sh.cfg.org_id15();
    // The token's own user only, as Salesforce does.
    let Some(u) = org
        .cfg
        .user_by_id(uid)
        .filter(|ix| org_ok && *ix == s.user)
        .and_then(|ix| org.cfg.users.get(ix))
    else {
        return response::bad_id();
    };
    let instance = &sh.urls.instance;
    let org_id = &org.cfg.org_id;
    let v = format!("{LATEST_API}.0");
    let (first, last) = split_name(&u.name);
    response::ok_json(&IdentityBody {
        id: Some(sh.urls.identity(&u.id)),
        asserted_user: Some(true),
        user_id: Some(u.id.clone()),
        organization_id: Some(org_id.clone()),
        username: Some(u.username.clone()),
        nick_name: Some(u.name.clone()),
        display_name: Some(u.name.clone()),
        email: Some(u.email.clone()),
        email_verified: Some(true),
        first_name: Some(first),
        last_name: Some(last),
        timezone: Some("GMT".into()),
        photos: Some(Photos::default()),
        status: Some(Status::default()),
        urls: Some(IdentityUrls {
            enterprise: Some(format!("{instance}/services/Soap/c/{v}/{org_id}")),
            partner: Some(format!("{instance}/services/Soap/u/{v}/{org_id}")),
            rest: Some(format!("{instance}/services/data/v{v}/")),
            sobjects: Some(format!("{instance}/services/data/v{v}/sobjects/")),
            query: Some(format!("{instance}/services/data/v{v}/query/")),
            profile: Some(format!("{instance}/{}", u.id)),
            custom_domain: sh.cfg.my_domain.clone(),
        }),
        active: Some(u.active),
        user_type: Some("STANDARD".into()),
        language: Some("en_US".into()),
        locale: Some("en_US".into()),
        utc_offset: Some(0),
        is_app_installed: Some(true),
    })
}

/// `GET|POST …/services/oauth2/userinfo`: the token's own user.
pub(in crate::emulator) fn userinfo(sh: &Shared, req: &Parts) -> Reply {
    let Some(s) = session(sh, req) else {
        return response::bad_oauth_token();
    };
    let org = sh.org();
    let Some(u) = org.cfg.users.get(s.user) else {
        return response::bad_oauth_token();
    };
    let (first, last) = split_name(&u.name);
    response::ok_json(&UserInfoBody {
        sub: Some(sh.urls.identity(&u.id)),
        user_id: Some(u.id.clone()),
        organization_id: Some(sh.cfg.org_id.clone()),
        preferred_username: Some(u.username.clone()),
        nickname: Some(u.name.clone()),
        name: Some(u.name.clone()),
        email: Some(u.email.clone()),
        email_verified: Some(true),
        given_name: Some(first),
        family_name: Some(last),
        zoneinfo: Some("GMT".into()),
        photos: Some(Photos::default()),
        profile: Some(format!("{}/{}", sh.urls.base, u.id)),
        is_salesforce_integration_user: Some(false),
        active: Some(u.active),
        user_type: Some("STANDARD".into()),
        language: Some("en_US".into()),
        locale: Some("en_US".into()),
        utc_offset: Some(0),
        updated_at: Some("1970-01-01T00:00:00Z".into()),
        is_app_installed: Some(true),
    })
}

/// `First Last` → (`First`, `Last`); one word is the last name.
fn split_name(name: &str) -> (String, String) {
    match name.rsplit_once(' ') {
        Some((f, l)) => (f.to_owned(), l.to_owned()),
        None => (String::new(), name.to_owned()),
    }
}

/// `POST …/services/oauth2/revoke` (`token=` in the form body or the query): 200 and the
/// token stops working; an unknown token gets 400 `unsupported_token_type`, as Salesforce
/// answers.
pub(in crate::emulator) fn revoke(sh: &Shared, req: &Parts, body: &[u8]) -> Reply {
    let token = crate::wire::form::first(body, "token")
        .map(|t| t.into_owned())
        .or_else(|| super::query_param(req, "token"));
    let revoked = token.is_some_and(|t| sh.tokens.revoke(&sh.org().cfg, &t, sh.now()));
    if revoked {
        (
            response::respond(hyper::StatusCode::OK, crate::wire::TEXT_CONTENT_TYPE, ""),
            std::borrow::Cow::Borrowed("revoked"),
        )
    } else {
        response::oauth_error(
            hyper::StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            "this token type is not supported",
        )
    }
}

/// `GET …/services/oauth2/singleaccess`: a single-use frontdoor URL for the token's user.
pub(in crate::emulator) fn singleaccess(sh: &Shared, req: &Parts) -> Reply {
    if session(sh, req).is_none() {
        return response::bad_oauth_token();
    }
    let mut otp = [0u8; 24];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut otp).is_err() {
        return response::server_error("random number generator failed");
    }
    use base64::Engine as _;
    let otp = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(otp);
    let mut uri = format!("{}{FRONTDOOR_PATH}?otp={otp}", sh.urls.instance);
    if let Some(r) = super::query_param(req, "redirect_uri") {
        uri.push_str("&startURL=");
        uri.extend(form_urlencoded::byte_serialize(r.as_bytes()));
    }
    response::ok_json(&SingleAccess { frontdoor_uri: uri })
}

/// `GET /secur/frontdoor.jsp`: the page a frontdoor URL opens (a note: there is no UI).
pub(in crate::emulator) fn frontdoor(sh: &Shared) -> Reply {
    (
        response::respond(
            hyper::StatusCode::OK,
            "text/html;charset=UTF-8",
            format!(
                "<!DOCTYPE html>\n<html><head><title>certmint emulator</title></head><body><h1>{}</h1><p>The certmint emulator has no user interface: this is where a Salesforce frontdoor URL would open the org.</p></body></html>\n",
                crate::text::escape(&sh.cfg.org_name)
                    .replace('<', "&lt;")
                    .replace('&', "&amp;")
            ),
        ),
        std::borrow::Cow::Borrowed(""),
    )
}
