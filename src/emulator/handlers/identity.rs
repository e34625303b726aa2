//! The identity URL (`GET <id>`) and OpenID Connect UserInfo: who a token belongs to.

use hyper::http::request::Parts;

use super::super::response::{self, Reply};
use super::super::state::{LATEST_API, Shared};
use super::session;
use crate::wire::identity::{IdentityBody, IdentityUrls, Photos, Status, UserInfoBody};

/// `GET|POST /id/<org id>/<user id>` (`rest` is what follows `/id/`).
pub(in crate::emulator) fn identity(sh: &Shared, req: &Parts, rest: &str) -> Reply {
    if session(sh, req).is_none() {
        return response::bad_oauth_token();
    }
    let mut it = rest.trim_end_matches('/').split('/');
    let (Some(org), Some(uid), None) = (it.next(), it.next(), it.next()) else {
        return response::bad_id();
    };
    let org_ok = org == sh.cfg.org_id || org == sh.cfg.org_id15();
    let Some(u) = sh
        .cfg
        .user_by_id(uid)
        .filter(|_| org_ok)
        .and_then(|ix| sh.cfg.users.get(ix))
    else {
        return response::bad_id();
    };
    let instance = &sh.urls.instance;
    let org_id = &sh.cfg.org_id;
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
    let Some(u) = session(sh, req).and_then(|s| sh.cfg.users.get(s.user)) else {
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
