//! The org while the server runs: a copy of the configured [`Config`] that deploys
//! (`deploy`) and REST writes change, the deploys kept for polling, and the state file
//! that keeps the org across restarts. Below `state`: [`super::state::Shared`] holds one
//! `Org` behind a lock; handlers read it for every grant and query and write it for
//! deploys and sObject creates.
//!
//! Memory is bounded: at most [`MAX_APPS`] apps, [`MAX_USERS`] users,
//! [`MAX_PERMISSION_SETS`] permission sets, [`MAX_ASSIGNMENTS`] assignments and the last
//! [`MAX_DEPLOYS`] deploys; an app keeps one previous version while a change propagates.

pub(crate) mod deploy;

use std::collections::VecDeque;
use std::path::PathBuf;

use super::config::{Config, PermissionSetRecord, record_id};
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
    ) -> Result<String, RestError> {
        if let Err(p) = crate::wire::metadata::check_full_name(name) {
            return Err(RestError::new("INVALID_FIELD", p.message));
        }
        if let Some(i) = self
            .cfg
            .permission_sets
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
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
        let id = record_id("0PS", self.cfg.permission_sets.len() + 1)
            .map_err(|e| RestError::new("UNKNOWN_EXCEPTION", e.to_string()))?;
        self.cfg.permission_sets.push(PermissionSetRecord {
            id: id.clone(),
            name: name.to_owned(),
            label: label.unwrap_or(name).to_owned(),
            modify_metadata: false,
        });
        Ok(id)
    }

    /// `POST sobjects/PermissionSetAssignment`: assign permission set `ps` (id) to user
    /// `user` (id); `DUPLICATE_VALUE` when already assigned. Returns the assignment's id.
    pub(crate) fn assign(&mut self, ps: &str, user: &str) -> Result<String, RestError> {
        let Some(psi) = self
            .cfg
            .permission_sets
            .iter()
            .position(|p| p.id == ps || (ps.len() == 15 && p.id.starts_with(ps)))
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
        assignment_id(psi, ui).map_err(|e| RestError::new("UNKNOWN_EXCEPTION", e.to_string()))
    }
}

/// The id of the assignment of permission set `ps` to user `user` (indexes): stable, so
/// nothing per assignment needs storing.
pub(crate) fn assignment_id(ps: usize, user: usize) -> crate::Result<String> {
    let id15 = format!("0Pa{:06}{:06}", ps % 1_000_000, user % 1_000_000);
    super::config::id18(&id15, "0Pa", crate::error::Input::AssignmentId)
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
