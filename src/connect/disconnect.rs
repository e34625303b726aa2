//! `certmint disconnect DIR`: a clean way out. What certmint made in the org goes, with a
//! destructive deploy (`destructiveChanges.xml`): the External Client Apps it created
//! (their four parts and the header, in one deploy), then the assignments it made of its
//! permission set, then the permission set when certmint created it and no app it did not
//! create still names it. An app certmint did not create (a connected app it updated, an
//! External Client App it adopted) is left in the org, and said so. Each app removed is
//! recorded `removed` in the manifest; a second run finds what is left and removes that.
//!
//! [`survey`] says what would go (for the CLI to show and ask); [`disconnect`] does it.

use std::path::Path;

use super::deploy::{Job, Polled};
use super::discover::{self, Read};
use super::verify::Backoff;
use super::{OrgClient, Report, explain, same_org};
use crate::error::Input;
use crate::manifest::{AppKind, AppRecord, AppState};
use crate::wire::metadata::eca::PART_TYPES;
use crate::wire::metadata::{DeployPackage, DeployStatus, EcaPartNames, MetadataType};
use crate::wire::rest::objects;
use crate::{Error, Result, workdir};

/// An External Client App to delete, with its parts as the org names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppToRemove {
    /// Its record.
    pub record: AppRecord,
    /// Its parts (those the org has).
    pub parts: EcaPartNames,
    /// False when the org no longer has it (only the record changes).
    pub in_org: bool,
}

/// What `disconnect` would remove, and what it leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Survey {
    /// The org's id.
    pub org_id: String,
    /// Apps certmint created.
    pub apps: Vec<AppToRemove>,
    /// Apps certmint did not create, left as they are (with why).
    pub kept: Vec<(AppRecord, String)>,
    /// The permission set certmint created, to delete (name, id).
    pub permission_set: Option<(String, String)>,
    /// Assignments certmint made to remove (assignment id, who, permission set).
    pub assignments: Vec<(String, String, String)>,
    /// Why a permission set certmint made or assigned stays (with its assignments).
    pub permission_set_kept: Option<String>,
}

impl Survey {
    /// True when nothing is left to remove.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty() && self.permission_set.is_none() && self.assignments.is_empty()
    }
}

/// What a disconnect did.
#[derive(Debug)]
pub enum Disconnected {
    /// Everything in the survey is gone.
    Done(Survey),
    /// The org refused the destructive deploy: nothing was deleted.
    DeployFailed {
        /// The deploy.
        id: String,
        /// Its status.
        status: DeployStatus,
        /// Each failure, explained.
        failures: Vec<explain::ComponentFailure>,
    },
    /// The deploy did not finish within the wait.
    DeployRunning {
        /// The deploy.
        id: String,
    },
}

/// What would go: the apps of `dir` in the session's org that certmint created and the
/// org still has, the assignments certmint made, and the permission set certmint made.
pub fn survey(dir: &Path, org: &OrgClient<'_>) -> Result<Survey> {
    let m = workdir::load(dir)?;
    let info = org.organization()?;
    let in_org = |a: &&AppRecord| a.org_id.is_empty() || same_org(&a.org_id, &info.id);
    let ours: Vec<&AppRecord> = m
        .apps
        .iter()
        .filter(in_org)
        .filter(|a| a.state != AppState::Removed)
        .collect();
    if !m.apps.iter().any(|a| in_org(&a)) {
        return Err(Error::invalid(
            Input::App,
            format!(
                "this directory records no app in org {}: nothing to disconnect",
                info.id
            ),
        ));
    }
    let mut s = Survey {
        org_id: info.id.clone(),
        ..Survey::default()
    };
    for rec in &ours {
        if rec.kind == AppKind::ExternalClientApp && rec.created {
            let (parts, in_org) = match discover::eca(org, &rec.name, rec.parts.as_ref())? {
                Read::Found(ex) => (ex.parts, true),
                Read::Missing => (EcaPartNames::default(), false),
                Read::Unavailable(why) => {
                    return Err(Error::invalid(
                        Input::App,
                        format!("{why}: certmint deletes only what it can see"),
                    ));
                }
            };
            s.apps.push(AppToRemove {
                record: (*rec).clone(),
                parts,
                in_org,
            });
        } else {
            s.kept.push((
                (*rec).clone(),
                format!(
                    "certmint did not create the {} `{}`: it stays in the org",
                    rec.kind.describe(),
                    rec.name
                ),
            ));
        }
    }
    // The permission set and the assignments certmint made.
    let created_ps = ours
        .iter()
        .find(|a| a.permission_set_created)
        .and_then(|a| a.permission_set.clone());
    let assigned: Vec<&AppRecord> = ours
        .iter()
        .copied()
        .filter(|a| a.permission_set_assigned)
        .collect();
    let mut names: Vec<String> = ours
        .iter()
        .filter_map(|a| a.permission_set.clone())
        .collect();
    names.sort();
    names.dedup();
    for ps in &names {
        let Some(id) = org.permission_set(ps)? else {
            continue;
        };
        // A permission set an app certmint did not create still names stays, and so do
        // the assignments through it: that app's users keep their pre-authorization.
        if let Some((a, _)) = s
            .kept
            .iter()
            .find(|(a, _)| a.permission_set.as_deref() == Some(ps.as_str()))
        {
            s.permission_set_kept = Some(format!(
                "the permission set `{ps}` and its assignments stay: the {} `{}`, which certmint did not create, pre-authorizes it",
                a.kind.describe(),
                a.name
            ));
            continue;
        }
        for a in assigned
            .iter()
            .filter(|a| a.permission_set.as_deref() == Some(ps))
        {
            if let Some(user) = org.user(&a.username)?
                && let Some(asg) = org.assignment(&id, &user.id)?
                && !s.assignments.iter().any(|(x, _, _)| *x == asg)
            {
                s.assignments.push((asg, a.username.clone(), ps.clone()));
            }
        }
        for a in &ours {
            if let Some(asg) = &a.admin_assignment
                && !s.assignments.iter().any(|(x, _, _)| x == asg)
            {
                s.assignments
                    .push((asg.clone(), "the deploying admin".into(), ps.clone()));
            }
        }
        if created_ps.as_deref() == Some(ps.as_str()) {
            s.permission_set = Some((ps.clone(), id));
        }
    }
    Ok(s)
}

/// Remove what `survey` lists: one destructive deploy of the apps, then the assignments,
/// then the permission set; the manifest records each removed app `removed` (and no app
/// active when the active one went).
pub fn disconnect(
    dir: &Path,
    org: &OrgClient<'_>,
    survey: Survey,
    wait: std::time::Duration,
    report: &mut dyn Report,
) -> Result<Disconnected> {
    let job = Job {
        dir,
        org,
        wait,
        backoff: Backoff::default(),
    };
    let mut package = DeployPackage::new(super::plan::API_VERSION);
    let mut count = 0usize;
    for a in survey.apps.iter().filter(|a| a.in_org) {
        for kind in PART_TYPES {
            if let Some(n) = a.parts.get(*kind) {
                package.delete(*kind, n)?;
                count += 1;
            }
        }
        package.delete(MetadataType::ExternalClientApplication, &a.record.name)?;
        count += 1;
    }
    if count > 0 {
        let id = org.deploy(&package.to_zip()?, &super::deploy_options(false))?;
        report.step(&format!(
            "deleting {count} component{} (deploy {})",
            if count == 1 { "" } else { "s" },
            id
        ));
        match job.poll(&id, report)? {
            Polled::Running(id) => return Ok(Disconnected::DeployRunning { id }),
            Polled::Done(r) if r.status != DeployStatus::Succeeded => {
                return Ok(Disconnected::DeployFailed {
                    id: r.id.clone(),
                    status: r.status,
                    failures: explain::failures(&r),
                });
            }
            Polled::Done(_) => {}
        }
    }
    for a in &survey.apps {
        report.step(&format!(
            "deleted the External Client App `{}`",
            a.record.name
        ));
    }
    mark_removed(dir, &survey)?;
    for (id, who, ps) in &survey.assignments {
        if org.delete(objects::PERMISSION_SET_ASSIGNMENT, id)? {
            report.step(&format!(
                "removed the assignment of `{ps}` to {}",
                crate::text::escape(who)
            ));
        }
    }
    if let Some((name, id)) = &survey.permission_set {
        if org.delete(objects::PERMISSION_SET, id)? {
            report.step(&format!("deleted the permission set `{name}`"));
        }
        workdir::update(dir, |m| {
            for a in &mut m.apps {
                if a.permission_set.as_deref() == Some(name.as_str()) {
                    a.permission_set_created = false;
                    a.permission_set_assigned = false;
                    a.admin_assignment = None;
                }
            }
            Ok(())
        })?;
    }
    Ok(Disconnected::Done(survey))
}

fn mark_removed(dir: &Path, survey: &Survey) -> Result<()> {
    workdir::update(dir, |m| {
        let mut removed_active = false;
        for gone in &survey.apps {
            for a in &mut m.apps {
                if a.name == gone.record.name
                    && a.kind == gone.record.kind
                    && (a.org_id.is_empty() || same_org(&a.org_id, &survey.org_id))
                {
                    removed_active |= a.active;
                    a.state = AppState::Removed;
                    a.active = false;
                    a.deploy_id = None;
                    a.updated = crate::text::rfc3339(crate::x509::now_seconds());
                }
            }
        }
        if removed_active {
            m.salesforce.client_id = None;
        }
        Ok(())
    })?;
    Ok(())
}
