//! `--check-only` for `renew --deploy` and `rotate --deploy`: the deploy validated by the
//! org, nothing changed.

use std::path::Path;

use super::{InOrg, Waiting, active_in_org, job, plan_for, read_app, spec_of};
use crate::connect::deploy;
use crate::connect::discover;
use crate::connect::plan;
use crate::connect::{OrgClient, Report, Status, explain};
use crate::manifest::{AppKind, AppRecord};
use crate::wire::metadata::EcaPartNames;
use crate::{Result, workdir};

/// What `--check-only` found for `renew --deploy` or `rotate --deploy`.
#[derive(Debug)]
pub struct CheckedDeploy {
    /// [`Status::Checked`] (or [`Status::DeployRunning`] when the check outlived the wait).
    pub status: Status,
    /// The app the check was for.
    pub app: AppRecord,
    /// What the deploy would change.
    pub changes: Vec<crate::connect::ComponentChanges>,
    /// What could not be checked.
    pub notes: Vec<String>,
}

/// `renew --deploy --check-only`, `rotate --deploy --check-only [--second-app]`: the
/// deploy of `cert_pem` (the renewed or rotated certificate, made in memory) validated by
/// the org with a check-only deploy: to the active app, or with `second_app` (the new
/// generation's number) to a second app `<app>_g<N>`. Nothing changes in the org or the
/// directory.
pub fn check_deploy(
    dir: &Path,
    org: &OrgClient<'_>,
    cert_pem: &str,
    second_app: Option<u32>,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<CheckedDeploy> {
    let m = workdir::load(dir)?;
    let (first, _) = active_in_org(&m, org)?;
    let mut notes = Vec::new();
    let (rec, mut spec) = match second_app {
        None => {
            let spec = spec_of(&first, &m.alias, cert_pem.to_owned())?;
            (first, spec)
        }
        Some(number) => {
            let name = plan::second_app_name(&first.name, number);
            let mut r = first.clone();
            r.name = name.clone();
            r.label = name.clone();
            r.consumer_key = plan::new_consumer_key()?;
            r.kind = AppKind::ExternalClientApp;
            r.parts = Some(EcaPartNames::generated(&name));
            let spec = spec_of(&r, &m.alias, cert_pem.to_owned())?;
            (r, spec)
        }
    };
    let app = read_app(org, &rec, &mut notes)?;
    if second_app.is_some() {
        spec.send_consumer_key = matches!(app, InOrg::Missing);
    }
    let side = discover::org_side(org, &rec.username)?;
    let ps_missing = match &rec.permission_set {
        Some(ps) => org.permission_set(ps)?.is_none(),
        None => false,
    };
    if ps_missing {
        notes.push(format!(
            "the permission set `{}` is not in the org: the run creates it first; its reference is left out of the check",
            rec.permission_set.as_deref().unwrap_or_default()
        ));
        spec.permission_set = None;
    }
    discover::check_permissions(&side.admin, true, ps_missing, second_app.is_some())?;
    let plan = plan_for(&spec, &app)?;
    let changes = crate::connect::run::changes_of(&plan);
    let status = match job(dir, org, waiting).check_only(&plan, report)? {
        None => Status::Checked {
            id: None,
            status: None,
            failures: Vec::new(),
        },
        Some(deploy::Polled::Running(id)) => Status::DeployRunning { id },
        Some(deploy::Polled::Done(r)) => Status::Checked {
            id: Some(r.id.clone()),
            status: Some(r.status),
            failures: explain::failures(&r),
        },
    };
    Ok(CheckedDeploy {
        status,
        app: rec,
        changes,
        notes,
    })
}
