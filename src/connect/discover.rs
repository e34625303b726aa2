//! What the org holds before anything is changed: the app named by the run (an External
//! Client App with its parts under the names the org gave them, or a connected app, each
//! read whole through SOAP `readMetadata`), so that a deploy changes only what certmint
//! means to change, goes to the parts that exist instead of adding a second one, and
//! never sends a consumer key to an app that has one
//! (`../shared/reference/salesforce-org-fidelity.md`, D1, D6, D8).
//!
//! Reads are allowed to be unavailable (a token the SOAP API refuses, a user without the
//! permission to read an External Client App's secrets): each lookup says so
//! ([`Read::Unavailable`]) and the caller decides what it can still do safely.

use super::OrgClient;
use crate::Result;
use crate::error::OrgCall;
use crate::wire::metadata::eca::{PART_TYPES, may_belong_to};
use crate::wire::metadata::{EcaPartNames, Element, MetadataType};

/// An External Client App that exists in the org.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExistingEca {
    /// Its API name as the org spells it.
    pub name: String,
    /// Its parts' names (a part it does not have: `None`).
    pub parts: EcaPartNames,
    /// Each part as read, by type.
    pub read: Vec<(MetadataType, Element)>,
    /// The consumer key, when the org shows it to this admin (global OAuth settings).
    pub consumer_key: Option<String>,
    /// True when the parts were read (false: found by SOQL or names only).
    pub complete: bool,
}

impl ExistingEca {
    /// The part of type `kind`, as read.
    pub fn part(&self, kind: MetadataType) -> Option<&Element> {
        self.read.iter().find(|(k, _)| *k == kind).map(|(_, e)| e)
    }
}

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<T> {
    /// The org has no such app.
    Missing,
    /// Found, as read.
    Found(T),
    /// The org would not say (the reason, for the user).
    Unavailable(String),
}

/// True when `e` means a read is not available to this session (rather than a session
/// that is gone, or a network failure, which end the run). The SOAP API refusing the
/// session (`INVALID_SESSION_ID`) counts: the REST calls made just before worked, and
/// the SOAP API refuses JWT-format access tokens that REST takes (fidelity §5).
pub fn is_unavailable(e: &crate::Error) -> bool {
    match e {
        crate::Error::OrgRefused { code, call, .. } => match call {
            OrgCall::ReadMetadata | OrgCall::ListMetadata => true,
            OrgCall::Query => code != crate::wire::rest::INVALID_SESSION_ID,
            _ => false,
        },
        crate::Error::Network {
            kind: crate::error::NetworkKind::UnexpectedResponse,
            ..
        } => true,
        crate::Error::Corrupt { .. } => true,
        _ => false,
    }
}

/// Why a read was unavailable, for the user.
fn why(e: &crate::Error) -> String {
    match e {
        crate::Error::OrgRefused { code, .. } if code == crate::wire::rest::INVALID_SESSION_ID => {
            format!(
                "{e} (the SOAP Metadata API refuses JWT-format access tokens, which the REST API takes; a session from `sf org login web` works for both)"
            )
        }
        _ => e.to_string(),
    }
}

/// The External Client App `name`: does it exist, under which part names, with what
/// settings and consumer key. `known` are part names recorded by an earlier run (used
/// when the parts cannot be listed).
pub fn eca(
    org: &OrgClient<'_>,
    name: &str,
    known: Option<&EcaPartNames>,
) -> Result<Read<ExistingEca>> {
    // Does the app exist? listMetadata first (documented), SOQL second.
    let exists = match org.list_metadata(&[MetadataType::ExternalClientApplication]) {
        Ok(list) => list
            .iter()
            .find(|p| p.full_name.eq_ignore_ascii_case(name))
            .map(|p| p.full_name.clone()),
        Err(e) if is_unavailable(&e) => match org.eca_by_soql(name) {
            Ok(Some(_)) => {
                // It exists, but its parts cannot be listed: only recorded names help.
                return Ok(match known {
                    Some(k) if k.is_complete() => Read::Found(ExistingEca {
                        name: name.to_owned(),
                        parts: k.clone(),
                        ..ExistingEca::default()
                    }),
                    _ => Read::Unavailable(format!(
                        "the External Client App `{name}` exists, but the org would not list its parts through the Metadata API ({})",
                        why(&e)
                    )),
                });
            }
            Ok(None) => return Ok(Read::Missing),
            Err(e2) if is_unavailable(&e2) => {
                return Ok(Read::Unavailable(format!(
                    "the org would not say whether the External Client App `{name}` exists: listMetadata: {}; SOQL: {e2}",
                    why(&e)
                )));
            }
            Err(e2) => return Err(e2),
        },
        Err(e) => return Err(e),
    };
    let Some(name) = exists else {
        return Ok(Read::Missing);
    };
    // Its parts: the listed components whose names begin with the app's, confirmed by
    // reading them (each names its app in `externalClientApplication`).
    let listed = match org.list_metadata(PART_TYPES) {
        Ok(l) => l,
        Err(e) if is_unavailable(&e) => {
            return Ok(Read::Unavailable(format!(
                "the org would not list the parts of the External Client App `{name}`: {}",
                why(&e)
            )));
        }
        Err(e) => return Err(e),
    };
    let mut found = ExistingEca {
        name: name.clone(),
        complete: true,
        ..ExistingEca::default()
    };
    for kind in PART_TYPES {
        let candidates: Vec<&str> = listed
            .iter()
            .filter(|p| p.type_name == kind.name() && may_belong_to(&p.full_name, &name))
            .map(|p| p.full_name.as_str())
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let read = match org.read_metadata(*kind, &candidates) {
            Ok(r) => r,
            Err(e) if is_unavailable(&e) => {
                // Listed but unreadable: the name alone, when it is the only candidate.
                found.complete = false;
                if candidates.len() == 1 {
                    found.parts.set(*kind, Some(candidates[0].to_owned()));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        for el in read.into_iter().flatten() {
            let parent = el
                .text_at(&["externalClientApplication"])
                .unwrap_or_default();
            if parent.eq_ignore_ascii_case(&name) {
                let full = el.text_at(&["fullName"]).unwrap_or_default().to_owned();
                if *kind == MetadataType::ExtlClntAppGlobalOauthSettings {
                    found.consumer_key = el
                        .text_at(&["consumerKey"])
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned);
                }
                found.parts.set(*kind, Some(full));
                found.read.push((*kind, el));
                break;
            }
        }
    }
    Ok(Read::Found(found))
}

/// The connected app `name`, read whole.
pub fn connected_app(org: &OrgClient<'_>, name: &str) -> Result<Read<Element>> {
    match org.read_one(MetadataType::ConnectedApp, name) {
        Ok(Some(el)) => Ok(Read::Found(el)),
        Ok(None) => Ok(Read::Missing),
        Err(e) if is_unavailable(&e) => Ok(Read::Unavailable(format!(
            "the org would not read the connected app `{name}` through the Metadata API: {}",
            why(&e)
        ))),
        Err(e) => Err(e),
    }
}

/// The org, the admin who deploys, and the integration user, as a run starts.
#[derive(Clone, Debug)]
pub struct OrgSide {
    /// The org.
    pub org: super::org::OrgInfo,
    /// The admin of the session.
    pub admin: super::org::AdminInfo,
    /// The integration user (exists and is active).
    pub user: super::org::UserInfo,
}

/// Read the org, the admin and the integration user `username` (which must exist and be
/// active).
pub fn org_side(org: &OrgClient<'_>, username: &str) -> Result<OrgSide> {
    use crate::error::Input;
    let info = org.organization()?;
    let admin = org.admin()?;
    let user = org.user(username)?.ok_or_else(|| {
        crate::Error::invalid(
            Input::User,
            format!(
                "the org has no user `{}`: check --username (Setup > Users shows usernames)",
                crate::text::escape(username)
            ),
        )
    })?;
    if !user.active {
        return Err(crate::Error::invalid(
            Input::User,
            format!(
                "the user `{}` is inactive: activate it in Setup > Users first",
                crate::text::escape(username)
            ),
        ));
    }
    Ok(OrgSide {
        org: info,
        admin,
        user,
    })
}

/// Check, before anything changes, that the admin may do what the run needs: deploy
/// (`deploy`), create the permission set (`create_ps`), assign it (`assign_ps`). Nothing is
/// checked when the org would not say what the admin may do.
pub fn check_permissions(
    admin: &super::org::AdminInfo,
    deploy: bool,
    create_ps: bool,
    assign_ps: bool,
) -> Result<()> {
    let Some(p) = admin.permissions else {
        return Ok(());
    };
    let mut missing = Vec::new();
    let mut needed = Vec::new();
    if deploy && !p.may_deploy() {
        if !p.modify_metadata {
            missing.push("Modify Metadata Through Metadata API Functions (or Modify All Data)");
        }
        if !p.customize_application {
            missing.push("Customize Application");
        }
        needed.push("deploy the app");
    }
    if create_ps && !p.may_create_permission_set() {
        missing.push("Manage Profiles and Permission Sets");
        needed.push("create the permission set");
    }
    if assign_ps && !p.may_assign_permission_set() {
        missing.push("Assign Permission Sets");
        needed.push("assign the permission set");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let list = |v: &[&str]| match v {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    Err(crate::Error::MissingPermissions {
        user: crate::text::escape(&admin.username),
        missing: format!(
            "the user permission{} {}",
            if missing.len() == 1 { "" } else { "s" },
            list(&missing)
        ),
        needed_for: list(&needed),
    })
}
