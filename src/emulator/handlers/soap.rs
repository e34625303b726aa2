//! The SOAP Metadata API (`POST /services/Soap/m/<version>`), the two calls a client reads
//! the org with before changing an app it did not create: `readMetadata` (components by
//! type and full name, from the files the org keeps, `fullName` first; a name the org does
//! not have gives a record without `fullName`; at most [`MAX_READ_NAMES`] names) and
//! `listMetadata` (the components of up to [`MAX_LIST_QUERIES`] types, as
//! `FileProperties`), for `ConnectedApp`, the five External Client App types and
//! `PermissionSet`. The session is the envelope's `SessionHeader/sessionId`, the same
//! access tokens as REST; an invalid one is the `sf:INVALID_SESSION_ID` fault (HTTP 500).
//! Only a user who may deploy may call it (else `sf:INSUFFICIENT_ACCESS`). Without
//! `consumer_key_readable`, a global OAuth settings record leaves `consumerKey` out, as
//! for a user without "View External Client Apps Consumer Secrets in Metadata".
//!
//! The faults' texts for too many names or queries, an unknown type and an operation the
//! emulator does not serve are the emulator's own.

use hyper::http::request::Parts;

use super::super::config::Config;
use super::super::config::stored::{AppMeta, Stored};
use super::super::org::deploy::date;
use super::super::response::{self, Reply};
use super::super::state::Shared;
use crate::wire::metadata::soap::{
    FileProperties, ListQuery, MAX_LIST_QUERIES, MAX_READ_NAMES, SoapCall, SoapFault, SoapRequest,
    list_response, read_response,
};
use crate::wire::metadata::{
    Component, Element, MetadataType, PermissionSet, PermissionSetUserPermission,
};

fn fault(f: &SoapFault) -> Reply {
    response::soap(f.to_envelope(), Some(&f.code))
}

/// Answer one SOAP call (the body read already).
pub(in crate::emulator) fn call(sh: &Shared, _req: &Parts, body: &[u8]) -> Reply {
    let request = match SoapRequest::parse(body) {
        Ok(r) => r,
        Err(f) => return fault(&f),
    };
    let org = sh.org();
    let session = request
        .session_id
        .as_deref()
        .and_then(|t| sh.tokens.check(&org.cfg, t, sh.now()));
    let Some(s) = session.filter(|_| org.cfg.soap_sessions) else {
        return fault(&SoapFault::invalid_session());
    };
    sh.count_api_request();
    if !org
        .cfg
        .users
        .get(s.user)
        .is_some_and(|u| org.cfg.may_deploy(u))
    {
        return fault(&SoapFault::new(
            "INSUFFICIENT_ACCESS",
            "the user needs Modify Metadata Through Metadata API Functions or Modify All Data",
        ));
    }
    let cfg = &org.cfg;
    match request.call {
        None => fault(&SoapFault::new(
            "INVALID_OPERATION",
            &format!(
                "the certmint emulator serves readMetadata and listMetadata, not {}",
                crate::text::escape(&request.operation)
            ),
        )),
        Some(SoapCall::ReadMetadata {
            type_name,
            full_names,
        }) => {
            let Some(kind) = MetadataType::from_name(type_name.trim()) else {
                return fault(&unknown_type(&type_name));
            };
            if full_names.len() > MAX_READ_NAMES {
                return fault(&SoapFault::new(
                    "EXCEEDED_ID_LIMIT",
                    &format!(
                        "record limit reached. cannot submit more than {MAX_READ_NAMES} records into this call"
                    ),
                ));
            }
            let records: Vec<Option<Element>> = full_names
                .iter()
                .map(|n| read_one(cfg, kind, n.trim()))
                .collect();
            response::soap(read_response(kind.name(), &records), None)
        }
        Some(SoapCall::ListMetadata { queries, .. }) => {
            if queries.len() > MAX_LIST_QUERIES {
                return fault(&SoapFault::new(
                    "INVALID_OPERATION",
                    &format!("listMetadata takes at most {MAX_LIST_QUERIES} queries"),
                ));
            }
            let mut props = Vec::new();
            for ListQuery { type_name, .. } in &queries {
                let Some(kind) = MetadataType::from_name(type_name.trim()) else {
                    return fault(&unknown_type(type_name));
                };
                props.extend(list(cfg, kind));
            }
            response::soap(list_response(&props), None)
        }
    }
}

fn unknown_type(name: &str) -> SoapFault {
    SoapFault::new(
        "INVALID_TYPE",
        &format!(
            "the certmint emulator does not serve the type {}",
            crate::text::escape(name)
        ),
    )
}

/// Every component of `kind` the org keeps.
fn stored_of(cfg: &Config, kind: MetadataType) -> Vec<&Stored> {
    cfg.apps
        .iter()
        .filter_map(|a| a.meta.as_ref())
        .flat_map(AppMeta::components)
        .filter(|s| s.kind() == Some(kind))
        .collect()
}

/// A permission set as a `PermissionSet` component (its label and the user permissions
/// the emulator models).
fn permission_set_tree(cfg: &Config, name: &str) -> Option<Element> {
    let p = cfg
        .permission_sets
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))?;
    let ps = PermissionSet {
        label: p.label.clone(),
        user_permissions: p
            .permissions
            .names()
            .into_iter()
            .map(|n| PermissionSetUserPermission {
                enabled: true,
                name: n.to_owned(),
            })
            .collect(),
        ..Default::default()
    };
    Component::PermissionSet(ps).to_element().ok()
}

/// The record of component `name` of `kind`: its kept file, `fullName` first.
fn read_one(cfg: &Config, kind: MetadataType, name: &str) -> Option<Element> {
    let (full_name, mut tree) = if kind == MetadataType::PermissionSet {
        let p = cfg
            .permission_sets
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))?;
        (p.name.clone(), permission_set_tree(cfg, name)?)
    } else {
        let s = stored_of(cfg, kind)
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))?;
        (s.name.clone(), s.tree()?)
    };
    if kind == MetadataType::ExtlClntAppGlobalOauthSettings && !cfg.consumer_key_readable {
        tree.remove(&["consumerKey"]);
    }
    tree.remove(&["fullName"]);
    tree.children
        .insert(0, Element::leaf("fullName", full_name));
    Some(tree)
}

/// The `FileProperties` of every component of `kind`.
fn list(cfg: &Config, kind: MetadataType) -> Vec<FileProperties> {
    let user_name = |id: &str| {
        cfg.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    if kind == MetadataType::PermissionSet {
        return cfg
            .permission_sets
            .iter()
            .map(|p| FileProperties {
                created_date: date(0),
                file_name: kind.path(&p.name),
                full_name: p.name.clone(),
                id: p.id.clone(),
                last_modified_date: date(0),
                manageable_state: Some("unmanaged".into()),
                type_name: kind.name().into(),
                ..FileProperties::default()
            })
            .collect();
    }
    stored_of(cfg, kind)
        .into_iter()
        .map(|s| FileProperties {
            created_by_id: s.by.clone(),
            created_by_name: user_name(&s.by),
            created_date: date(s.created_ms),
            file_name: kind.path(&s.name),
            full_name: s.name.clone(),
            id: s.id.clone(),
            last_modified_by_id: s.by.clone(),
            last_modified_by_name: user_name(&s.by),
            last_modified_date: date(s.modified_ms),
            manageable_state: Some("unmanaged".into()),
            namespace_prefix: None,
            type_name: kind.name().into(),
        })
        .collect()
}
