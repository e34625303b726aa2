//! Destructive deploys: the components a deploy's `destructiveChangesPre.xml` (before its
//! own components), `destructiveChanges.xml` and `destructiveChangesPost.xml` (after them)
//! delete. Connected apps, External Client App headers and parts, and permission sets:
//!
//! - a header whose parts are not deleted in the same deploy is refused (the emulator's
//!   wording); deleting a header deletes the app, its parts with it;
//! - a permission set still assigned to a user, or still pre-authorized by an app, is
//!   refused (the emulator's wording);
//! - a component the org does not have fails with `No <Type> named: <name> found`
//!   (Salesforce's warning text) unless `ignoreWarnings`.
//!
//! Within a manifest, parts go before headers, headers before connected apps and those
//! before permission sets, so one manifest can delete a whole app.

use std::collections::HashSet;

use super::apply::{Ctx, eca_index, refresh_at, version_to_change};
use crate::emulator::config::Config;
use crate::emulator::config::stored::{AppMeta, part_slot};
use crate::wire::metadata::{DeployMessage, MetadataType, Package, Problem};

/// A deletion: (type, full name).
pub(super) type Deletion = (MetadataType, String);

/// The deletions of the destructive manifests read, and the problems of the unreadable
/// ones: (manifest file, its deletions in the order they apply, applied before the
/// package's components).
pub(super) struct Plan {
    pub(super) manifests: Vec<(&'static str, Vec<Deletion>, bool)>,
    /// Everything the deploy deletes, lower-cased names (the header rule).
    all: HashSet<(MetadataType, String)>,
    /// Parts deleted with their app (a header deleted before them).
    gone: HashSet<(MetadataType, String)>,
}

fn rank(k: MetadataType) -> usize {
    match k {
        MetadataType::ExtlClntAppConfigurablePolicies => 0,
        MetadataType::ExtlClntAppOauthConfigurablePolicies => 1,
        MetadataType::ExtlClntAppOauthSettings => 2,
        MetadataType::ExtlClntAppGlobalOauthSettings => 3,
        MetadataType::ExternalClientApplication => 4,
        MetadataType::ConnectedApp => 5,
        _ => 6,
    }
}

/// Read the destructive manifests; what cannot be read fails as a manifest problem.
pub(super) fn plan(
    manifests: Vec<(&'static str, &[u8], bool)>,
    failures: &mut Vec<DeployMessage>,
) -> Plan {
    let mut out = Plan {
        manifests: Vec::new(),
        all: HashSet::new(),
        gone: HashSet::new(),
    };
    for (file, bytes, pre) in manifests {
        let package = match Package::from_xml(bytes) {
            Ok(p) => p,
            Err(p) => {
                failures.push(DeployMessage::failure(None, file, file, &p));
                continue;
            }
        };
        let mut list = Vec::new();
        for t in &package.types {
            let Some(kind) = MetadataType::from_name(t.name.trim()) else {
                let mut m = DeployMessage::failure(
                    None,
                    file,
                    file,
                    &Problem::new(format!(
                        "Unknown type name '{}' specified in {file}",
                        t.name.trim()
                    )),
                );
                m.component_type = Some(t.name.trim().to_owned());
                failures.push(m);
                continue;
            };
            for m in &t.members {
                let m = m.trim().to_owned();
                out.all.insert((kind, m.to_ascii_lowercase()));
                list.push((kind, m));
            }
        }
        list.sort_by_key(|(k, _)| rank(*k));
        out.manifests.push((file, list, pre));
    }
    out
}

fn deleted(kind: MetadataType, name: &str) -> DeployMessage {
    DeployMessage {
        changed: true,
        component_type: Some(kind.name().to_owned()),
        deleted: true,
        file_name: Some(kind.path(name)),
        full_name: Some(name.to_owned()),
        success: true,
        ..DeployMessage::default()
    }
}

/// Remove app `ix`, and what points at it by index (users' direct pre-authorizations and
/// approvals; the deploy's touched apps). A session issued through it keeps working: the
/// emulator's tokens name an app by position.
fn remove_app(cfg: &mut Config, ctx: &mut Ctx<'_>, ix: usize) {
    cfg.apps.remove(ix);
    let shift = |v: &mut Vec<usize>| {
        v.retain(|&i| i != ix);
        for i in v.iter_mut() {
            if *i > ix {
                *i -= 1;
            }
        }
    };
    for u in &mut cfg.users {
        shift(&mut u.pre_authorized);
        shift(&mut u.approved);
    }
    let mut touched: Vec<usize> = ctx.touched.drain().collect();
    shift(&mut touched);
    ctx.touched = touched.into_iter().collect();
}

/// Remove permission set `ix`, and fix the users' assignments (indexes).
pub(crate) fn remove_permission_set(cfg: &mut Config, ix: usize) {
    cfg.permission_sets.remove(ix);
    for u in &mut cfg.users {
        u.permission_sets.retain(|&i| i != ix);
        for i in &mut u.permission_sets {
            if *i > ix {
                *i -= 1;
            }
        }
    }
}

/// Why permission set `ix` may not be deleted: assigned, or pre-authorized by an app (the
/// emulator's wording).
pub(crate) fn permission_set_in_use(cfg: &Config, ix: usize) -> Option<String> {
    let ps = cfg.permission_sets.get(ix)?;
    let assigned = cfg
        .users
        .iter()
        .filter(|u| u.permission_sets.contains(&ix))
        .count();
    if assigned > 0 {
        return Some(format!(
            "The permission set {} is assigned to {assigned} user(s): remove the assignments first.",
            ps.name
        ));
    }
    let names = |n: &String| {
        n.eq_ignore_ascii_case(&ps.name) || n.eq_ignore_ascii_case(&ps.label) || *n == ps.id
    };
    cfg.apps
        .iter()
        .find(|a| {
            let mut v = Some(*a);
            while let Some(x) = v {
                if x.permission_sets.iter().any(names) {
                    return true;
                }
                v = x.previous.as_deref();
            }
            false
        })
        .map(|a| {
            format!(
                "The permission set {} is pre-authorized by the app {}: remove it from the app first.",
                ps.name, a.name
            )
        })
}

/// Apply the manifests applied before (`pre`) or after the package's components.
pub(super) fn apply(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    pre: bool,
    ignore_warnings: bool,
    successes: &mut Vec<DeployMessage>,
    failures: &mut Vec<DeployMessage>,
) {
    let manifests: Vec<(&'static str, Vec<Deletion>)> = plan
        .manifests
        .iter()
        .filter(|(_, _, p)| *p == pre)
        .map(|(f, l, _)| (*f, l.clone()))
        .collect();
    for (file, list) in manifests {
        for (kind, name) in list {
            match delete(cfg, ctx, plan, kind, &name) {
                Ok(true) => successes.push(deleted(kind, &name)),
                Ok(false) if ignore_warnings => {}
                Ok(false) => failures.push(DeployMessage::failure(
                    Some(kind.name()),
                    &name,
                    file,
                    &Problem::new(format!("No {kind} named: {name} found")),
                )),
                Err(p) => failures.push(DeployMessage::failure(Some(kind.name()), &name, file, &p)),
            }
        }
    }
}

/// Delete one component: `Ok(false)` when the org has no such component.
fn delete(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    kind: MetadataType,
    name: &str,
) -> Result<bool, Problem> {
    let lower = name.to_ascii_lowercase();
    if plan.gone.contains(&(kind, lower.clone())) {
        return Ok(true);
    }
    match kind {
        MetadataType::ConnectedApp => {
            let Some(ix) = cfg
                .apps
                .iter()
                .position(|a| a.name == name && !a.external_client_app)
            else {
                return Ok(false);
            };
            remove_app(cfg, ctx, ix);
            Ok(true)
        }
        MetadataType::ExternalClientApplication => {
            let Some(ix) = eca_index(cfg, name) else {
                return Ok(false);
            };
            let parts: Vec<(MetadataType, String)> = match &cfg.apps[ix].meta {
                Some(AppMeta::External(e)) => e
                    .parts
                    .iter()
                    .flatten()
                    .filter_map(|p| Some((p.kind()?, p.name.clone())))
                    .collect(),
                _ => Vec::new(),
            };
            let kept: Vec<&str> = parts
                .iter()
                .filter(|(k, n)| !plan.all.contains(&(*k, n.to_ascii_lowercase())))
                .map(|(_, n)| n.as_str())
                .collect();
            if !kept.is_empty() {
                // The emulator's wording.
                return Err(Problem::new(format!(
                    "Cannot delete the external client app {name}: delete its parts ({}) in the same deploy.",
                    kept.join(", ")
                )));
            }
            for (k, n) in parts {
                plan.gone.insert((k, n.to_ascii_lowercase()));
            }
            remove_app(cfg, ctx, ix);
            Ok(true)
        }
        MetadataType::PermissionSet => {
            let Some(ix) = cfg
                .permission_sets
                .iter()
                .position(|p| p.name.eq_ignore_ascii_case(name))
            else {
                return Ok(false);
            };
            if let Some(why) = permission_set_in_use(cfg, ix) {
                return Err(Problem::new(why));
            }
            remove_permission_set(cfg, ix);
            Ok(true)
        }
        part => {
            let Some(slot) = part_slot(part) else {
                return Ok(false);
            };
            let Some(ix) = cfg.apps.iter().position(|a| {
                a.meta
                    .as_ref()
                    .and_then(AppMeta::eca)
                    .and_then(|e| e.parts[slot].as_ref())
                    .is_some_and(|p| p.name.eq_ignore_ascii_case(name))
            }) else {
                return Ok(false);
            };
            if let Some(AppMeta::External(e)) = version_to_change(cfg, ix, ctx).meta.as_mut() {
                e.parts[slot] = None;
            }
            refresh_at(cfg, ix);
            Ok(true)
        }
    }
}
