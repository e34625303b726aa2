//! The org while the server runs: a copy of the configured [`Config`] that deploys
//! (`deploy`) and REST writes change, the deploys kept for polling, and the state file
//! that keeps the org across restarts. Below `state`: [`super::state::Shared`] holds one
//! `Org` behind a lock; handlers read it for every grant and query and write it for
//! deploys and sObject creates.
//!
//! Memory is bounded: at most [`MAX_APPS`] apps, [`MAX_USERS`] users,
//! [`MAX_PERMISSION_SETS`] permission sets, [`MAX_ASSIGNMENTS`] assignments and the last
//! [`MAX_DEPLOYS`] deploys; an app keeps one previous version while a change propagates.

mod apply;
pub(crate) mod deploy;
mod destroy;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::path::PathBuf;

use super::config::stored::serial_of;
use super::config::{Config, Permission, PermissionSetRecord, Permissions};
use crate::wire::rest::RestError;

pub use super::config::{MAX_APPS, MAX_ASSIGNMENTS, MAX_PERMISSION_SETS, MAX_PROFILES, MAX_USERS};

/// Deploys kept for polling (older ones answer 404).
pub const MAX_DEPLOYS: usize = 100;

/// The running org.
pub(crate) struct Org {
    /// Apps, users, profiles, permission sets, and the org's settings.
    pub(crate) cfg: Config,
    /// Recent deploys, oldest first.
    pub(crate) deploys: VecDeque<deploy::Record>,
    /// Deploys made so far (for ids).
    pub(crate) deploy_count: u64,
    /// Where the changeable part is kept, if anywhere.
    state_file: Option<PathBuf>,
}

impl Org {
    pub(crate) fn new(cfg: Config, state_file: Option<PathBuf>) -> Self {
        Org {
            cfg,
            deploys: VecDeque::new(),
            deploy_count: 0,
            state_file,
        }
    }

    /// Write the state file (temp file and rename), when there is one.
    pub(crate) fn save(&self) -> crate::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let text = self.cfg.state_toml()?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| crate::Error::Io(e.error))?;
        Ok(())
    }

    /// Assignments in the org.
    pub(crate) fn assignment_count(&self) -> usize {
        self.cfg.users.iter().map(|u| u.permission_sets.len()).sum()
    }

    /// `POST sobjects/PermissionSet`: a new permission set (`DUPLICATE_VALUE` on a name in
    /// use). Returns its id.
    pub(crate) fn create_permission_set(
        &mut self,
        name: &str,
        label: Option<&str>,
        permissions: Permissions,
    ) -> Result<String, RestError> {
        if let Err(p) = crate::wire::metadata::check_full_name(name) {
            return Err(RestError::new("INVALID_FIELD", p.message));
        }
        if let Some(i) = self
            .cfg
            .permission_sets
            .iter()
            .position(|p| p.namespace.is_none() && p.name.eq_ignore_ascii_case(name))
        {
            return Err(RestError::new(
                "DUPLICATE_VALUE",
                format!(
                    "duplicate value found: Name duplicates value on record with id: {}",
                    self.cfg.permission_sets[i].id
                ),
            ));
        }
        if self.cfg.permission_sets.len() >= MAX_PERMISSION_SETS {
            return Err(limit_exceeded("permission sets", MAX_PERMISSION_SETS));
        }
        let id = apply::next_id(&self.cfg, "0PS")
            .map_err(|p| RestError::new("UNKNOWN_EXCEPTION", p.message))?;
        self.cfg.permission_sets.push(PermissionSetRecord {
            id: id.clone(),
            namespace: None,
            name: name.to_owned(),
            label: label.unwrap_or(name).to_owned(),
            permissions,
        });
        Ok(id)
    }

    /// Whether user `user` (index) holds permission `p`; else `INSUFFICIENT_ACCESS_OR_READONLY`
    /// in Salesforce's REST shape.
    pub(crate) fn require(&self, user: usize, p: Permission) -> Result<(), RestError> {
        if self.cfg.users.get(user).is_some_and(|u| self.cfg.may(u, p)) {
            return Ok(());
        }
        let mut e = RestError::new(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights on object id",
        );
        e.fields = Some(Vec::new());
        Err(e)
    }

    /// `DELETE sobjects/PermissionSet/<id>`: refused for a profile's own, while assigned,
    /// or while an app pre-authorizes it (`DELETE_FAILED`, the emulator's wording).
    pub(crate) fn delete_permission_set(&mut self, id: &str) -> Result<(), RestError> {
        if profile_permission_set(&self.cfg, id).is_some() {
            return Err(RestError::new(
                "DELETE_FAILED",
                "a permission set owned by a profile cannot be deleted",
            ));
        }
        let Some(ix) = self
            .cfg
            .permission_sets
            .iter()
            .position(|p| same_id(&p.id, id))
        else {
            return Err(not_found());
        };
        if let Some(why) = destroy::permission_set_in_use(&self.cfg, ix) {
            return Err(RestError::new("DELETE_FAILED", why));
        }
        destroy::remove_permission_set(&mut self.cfg, ix);
        Ok(())
    }

    /// `DELETE sobjects/PermissionSetAssignment/<id>`: refused for the assignment of a
    /// user's profile's own permission set (the emulator's wording).
    pub(crate) fn delete_assignment(&mut self, id: &str) -> Result<(), RestError> {
        match parse_assignment_id(&self.cfg, id) {
            Some(AssignmentRef::Profile) => Err(RestError::new(
                "DELETE_FAILED",
                "the assignment of a profile's permission set cannot be deleted",
            )),
            Some(AssignmentRef::Set { ps, user }) => {
                self.cfg.users[user].permission_sets.retain(|&i| i != ps);
                Ok(())
            }
            None => Err(not_found()),
        }
    }

    /// `POST sobjects/PermissionSetAssignment`: assign permission set `ps` (id) to user
    /// `user` (id); `DUPLICATE_VALUE` when already assigned. Returns the assignment's id.
    pub(crate) fn assign(&mut self, ps: &str, user: &str) -> Result<String, RestError> {
        let Some(psi) = self
            .cfg
            .permission_sets
            .iter()
            .position(|p| same_id(&p.id, ps))
        else {
            return Err(RestError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            ));
        };
        let Some(ui) = self.cfg.user_by_id(user) else {
            return Err(RestError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            ));
        };
        if self.cfg.users[ui].permission_sets.contains(&psi) {
            return Err(RestError::new(
                "DUPLICATE_VALUE",
                "duplicate value found: <unknown> duplicates value on record with id: <unknown>",
            ));
        }
        if self.assignment_count() >= MAX_ASSIGNMENTS {
            return Err(limit_exceeded(
                "permission set assignments",
                MAX_ASSIGNMENTS,
            ));
        }
        self.cfg.users[ui].permission_sets.push(psi);
        assignment_id(&self.cfg.permission_sets[psi], ui)
            .map_err(|e| RestError::new("UNKNOWN_EXCEPTION", e.to_string()))
    }
}

/// A 15- or 18-character id naming the record with 18-character id `id18`.
pub(crate) fn same_id(id18: &str, id: &str) -> bool {
    id18 == id || (id.len() == 15 && id18.starts_with(id))
}

/// 404 `NOT_FOUND`, Salesforce's answer for a record id it does not have.
fn not_found() -> RestError {
    RestError::new("NOT_FOUND", "The requested resource does not exist")
}

/// The id of the assignment of permission set `ps` to user `user` (index): stable (from
/// the permission set's serial number), so nothing per assignment needs storing.
pub(crate) fn assignment_id(ps: &PermissionSetRecord, user: usize) -> crate::Result<String> {
    let serial = serial_of(&ps.id).unwrap_or(0);
    let id15 = format!("0Pa{:06}{:06}", serial % 1_000_000, user % 1_000_000);
    super::config::id18(&id15, "0Pa", crate::error::Input::AssignmentId)
}

/// The id of the assignment of user `user`'s profile's own permission set (profile index
/// `profile`): `0PaP…`.
pub(crate) fn profile_assignment_id(profile: usize, user: usize) -> crate::Result<String> {
    let id15 = format!("0PaP{:05}{:06}", profile % 100_000, user % 1_000_000);
    super::config::id18(&id15, "0Pa", crate::error::Input::AssignmentId)
}

/// The id of profile `profile`'s own permission set (index): `0PSPRF…` (a real org gives
/// every profile one; its id is assumed).
pub(crate) fn profile_permission_set_id(profile: usize) -> crate::Result<String> {
    let id15 = format!("0PSPRF{:09}", profile + 1);
    super::config::id18(&id15, "0PS", crate::error::Input::PermissionSet)
}

/// The profile (index) owning the permission set with id `id`.
pub(crate) fn profile_permission_set(cfg: &Config, id: &str) -> Option<usize> {
    (0..cfg.profiles.len())
        .find(|&i| profile_permission_set_id(i).is_ok_and(|own| same_id(&own, id)))
}

/// What an assignment id names.
enum AssignmentRef {
    /// A user's profile's permission set (indexes).
    Profile,
    /// Permission set `ps` assigned to user `user` (indexes).
    Set { ps: usize, user: usize },
}

fn parse_assignment_id(cfg: &Config, id: &str) -> Option<AssignmentRef> {
    let body = id.get(3..15)?;
    if let Some(rest) = body.strip_prefix('P') {
        let profile: usize = rest.get(..5)?.parse().ok()?;
        let user: usize = rest.get(5..)?.parse().ok()?;
        let u = cfg.users.get(user)?;
        let own = profile_assignment_id(profile, user).ok()?;
        return (u.profile == profile && same_id(&own, id)).then_some(AssignmentRef::Profile);
    }
    let serial: usize = body.get(..6)?.parse().ok()?;
    let user: usize = body.get(6..)?.parse().ok()?;
    let u = cfg.users.get(user)?;
    let ps = u.permission_sets.iter().copied().find(|&ps| {
        cfg.permission_sets
            .get(ps)
            .is_some_and(|p| serial_of(&p.id).map(|n| n % 1_000_000) == Some(serial))
    })?;
    let own = assignment_id(&cfg.permission_sets[ps], user).ok()?;
    same_id(&own, id).then_some(AssignmentRef::Set { ps, user })
}

/// `LIMIT_EXCEEDED` in Salesforce's REST error shape (`message`, `errorCode`, `fields`).
fn limit_exceeded(what: &str, n: usize) -> RestError {
    let mut e = RestError::new(
        "LIMIT_EXCEEDED",
        format!("the emulator holds at most {n} {what}"),
    );
    e.fields = Some(Vec::new());
    e
}
