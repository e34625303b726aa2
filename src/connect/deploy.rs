//! The one deploy-and-prove state machine that `connect`, `renew --deploy`, `rotate
//! --deploy` (with `--second-app` and `--retire-previous`) and `disconnect` share. Each
//! phase is recorded in the manifest's `[[app]]` record before the next begins, so an
//! interrupted run resumes where it stopped:
//!
//! 1. **Permission set** (`ensure_permission_set`): created through the REST API when
//!    missing, and assigned to the integration user, before any deploy names it: a deploy
//!    that fails then cannot roll the permission set back and loop. (A live report says
//!    an External Client App's policies may name only a permission set the deploying
//!    admin holds: when the org refuses the policies so, `deploy_holding_if_asked`
//!    assigns it to the admin for the length of one more deploy, and takes it back.)
//! 2. **Deploy** (`Job::deploy`): the plan's package, all or nothing; its id recorded
//!    (`deploying`) before polling, so a rerun follows the same deploy, or starts the phase
//!    again when the org no longer knows that id.
//! 3. **Confirm** (`confirm`): the app read back from the org says what was deployed
//!    (admin-approved, the permission set named, the certificate).
//! 4. **Prove** (`Job::prove`): a token minted through the app, with backoff, until the
//!    change has propagated or the wait is over.

use std::path::Path;
use std::time::{Duration, Instant};

use super::org::{Created, OrgClient, is_not_found, is_transient};
use super::plan::{Plan, comma_items, names_permission_set, same_certificate};
use super::verify::{Backoff, Proof, Prover, sleep};
use super::{ComponentFailure, Report, explain, save_record};
use crate::manifest::{AppKind, AppRecord, AppState};
use crate::wire::metadata::{DeployOptions, DeployResult, DeployStatus, MetadataType};
use crate::wire::rest::objects;
use crate::{Error, Result};

/// The deploy options certmint uses: all or nothing, one package, warnings not ignored,
/// no test level (a metadata-only deploy runs no tests, and `NoTestRun` is refused in
/// production); `check_only` validates without changing anything.
pub fn deploy_options(check_only: bool) -> DeployOptions {
    DeployOptions {
        check_only: check_only.then_some(true),
        rollback_on_error: Some(true),
        single_package: Some(true),
        ignore_warnings: Some(false),
        ..DeployOptions::default()
    }
}

/// How a poll ended.
#[derive(Debug)]
pub(crate) enum Polled {
    /// Finished.
    Done(Box<DeployResult>),
    /// Still running when the wait ran out.
    Running(String),
}

/// How the deploy phase ended.
#[derive(Debug)]
pub(crate) enum Deployed {
    /// The org already had it all: nothing was sent.
    Nothing,
    /// Deployed now (or an interrupted run's deploy had succeeded).
    Succeeded,
    /// Refused: nothing changed.
    Failed {
        /// The deploy.
        id: String,
        /// Its final status.
        status: DeployStatus,
        /// Each failure, explained.
        failures: Vec<ComponentFailure>,
    },
    /// Still running when the wait ran out.
    Running(String),
}

/// A run against one org: where the record is kept, the session, how long to wait.
pub(crate) struct Job<'a, 'o> {
    /// The certmint directory.
    pub(crate) dir: &'a Path,
    /// The admin session.
    pub(crate) org: &'a OrgClient<'o>,
    /// The most time for a deploy, then for a token.
    pub(crate) wait: Duration,
    /// Pauses between token attempts.
    pub(crate) backoff: Backoff,
}

impl Job<'_, '_> {
    /// Poll deploy `id` until it is done or the wait is over (at least 60 s: a deploy is
    /// not a propagation), 0.5 s doubling to 5 s between polls.
    pub(crate) fn poll(&self, id: &str, report: &mut dyn Report) -> Result<Polled> {
        let deadline = Instant::now() + self.wait.max(Duration::from_secs(60));
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let mut transient = 0;
        loop {
            let r = match self.org.deploy_status(id) {
                Ok(r) => r,
                Err(e) if is_transient(&e) && transient < 5 => {
                    transient += 1;
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if r.done || r.status.is_done() {
                return Ok(Polled::Done(Box::new(r)));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Polled::Running(id.to_owned()));
            }
            report.progress(&format!(
                "deploy {id}: {:?}, {} of {} components",
                r.status, r.number_components_deployed, r.number_components_total
            ));
            sleep(
                report,
                backoff.pause(left),
                deadline,
                &format!("waiting for deploy {id}"),
            );
        }
    }

    /// The deploy phase: `plan`'s package, or the deploy an interrupted run started for the
    /// same plan (started again when the org no longer knows it). The record goes to
    /// `deploying` with the id before polling, to `deployed` on success; on a refusal it is
    /// put back as it was.
    pub(crate) fn deploy(
        &self,
        rec: &mut AppRecord,
        plan: &Plan,
        report: &mut dyn Report,
    ) -> Result<Deployed> {
        if plan.is_empty() {
            return Ok(Deployed::Nothing);
        }
        let before = rec.clone();
        let resume = (rec.state == AppState::Deploying
            && rec.plan_sha256.as_deref() == Some(plan.digest.as_str()))
        .then(|| rec.deploy_id.clone())
        .flatten();
        let mut polled = None;
        if let Some(id) = resume {
            report.step(&format!("resuming deploy {id}"));
            match self.poll(&id, report) {
                Ok(p) => polled = Some(p),
                Err(e) if is_not_found(&e) => report.step(&format!(
                    "the org no longer knows deploy {id}: deploying again"
                )),
                Err(e) => return Err(e),
            }
        }
        let polled = match polled {
            Some(p) => p,
            None => {
                let zip = plan.zip()?;
                let id = self.org.deploy(&zip, &deploy_options(false))?;
                rec.state = AppState::Deploying;
                rec.deploy_id = Some(id.clone());
                rec.plan_sha256 = Some(plan.digest.clone());
                save_record(self.dir, rec, None)?;
                report.step(&format!(
                    "deploying {} component{} to {} (deploy {})",
                    plan.sent().count(),
                    if plan.sent().count() == 1 { "" } else { "s" },
                    self.org.session().instance_url(),
                    id
                ));
                self.poll(&id, report)?
            }
        };
        let result = match polled {
            Polled::Running(id) => return Ok(Deployed::Running(id)),
            Polled::Done(r) => r,
        };
        if result.status != DeployStatus::Succeeded {
            // Nothing changed in the org (all or nothing): the record is as it was.
            let mut back = before;
            back.deploy_id = Some(result.id.clone());
            if back.state == AppState::Deploying {
                back.state = AppState::Planned;
            }
            *rec = back;
            save_record(self.dir, rec, None)?;
            return Ok(Deployed::Failed {
                id: result.id.clone(),
                status: result.status,
                failures: explain::failures(&result),
            });
        }
        rec.state = AppState::Deployed;
        save_record(self.dir, rec, None)?;
        Ok(Deployed::Succeeded)
    }

    /// A check-only deploy of `plan` (`checkOnly: true`): what the org says, nothing
    /// changed. `None` when there is nothing to check.
    pub(crate) fn check_only(
        &self,
        plan: &Plan,
        report: &mut dyn Report,
    ) -> Result<Option<Polled>> {
        if plan.is_empty() {
            return Ok(None);
        }
        let id = self.org.deploy(&plan.zip()?, &deploy_options(true))?;
        report.step(&format!(
            "validating {} component{} with a check-only deploy ({}): nothing changes in the org",
            plan.sent().count(),
            if plan.sent().count() == 1 { "" } else { "s" },
            id
        ));
        self.poll(&id, report).map(Some)
    }

    /// The prove phase: mint through the app until a token comes or the wait is over.
    pub(crate) fn prove(&self, prover: &Prover<'_>, report: &mut dyn Report) -> Result<Proof> {
        report.step(&format!(
            "minting a token through the app at {} until it works (up to {}s; Salesforce distributes a change within 15 minutes)",
            prover.login(),
            self.wait.as_secs()
        ));
        prover.until(self.wait, self.backoff, report)
    }
}

/// What the permission set phase did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PermissionSetReady {
    /// The permission set's id.
    pub(crate) id: String,
    /// True when this run created it or assigned it.
    pub(crate) changed: bool,
}

/// The permission set phase: `name` made when missing (REST `POST sobjects/PermissionSet`)
/// and assigned to the integration user `user_id`, each step recorded in `rec`.
pub(crate) fn ensure_permission_set(
    job: &Job<'_, '_>,
    rec: &mut AppRecord,
    name: &str,
    user_id: &str,
    report: &mut dyn Report,
) -> Result<PermissionSetReady> {
    let mut changed = false;
    let org = job.org;
    let id = match org.permission_set(name)? {
        Some(id) => id,
        None => {
            let description = format!(
                "Pre-authorizes the integration user on the app {} (JWT bearer flow); made by certmint.",
                rec.name
            );
            match org.create_permission_set(name, name, &description)? {
                Created::New(id) => {
                    changed = true;
                    rec.permission_set_created = true;
                    save_record(job.dir, rec, None)?;
                    report.step(&format!("created the permission set `{name}`"));
                    id
                }
                // Made by someone else meanwhile.
                Created::Duplicate => org.permission_set(name)?.ok_or_else(|| {
                    Error::internal(format!(
                        "the permission set `{name}` exists and cannot be found"
                    ))
                })?,
            }
        }
    };
    if org.assignment(&id, user_id)?.is_none() {
        if let Created::New(_) = org.assign(&id, user_id)? {
            changed = true;
            report.step(&format!(
                "assigned the permission set `{name}` to {}",
                crate::text::escape(&rec.username)
            ));
        }
        rec.permission_set_assigned = true;
        save_record(job.dir, rec, None)?;
    }
    Ok(PermissionSetReady { id, changed })
}

/// True when a refused deploy's failures say that an External Client App's OAuth
/// policies could not name the permission set `ps` (the live report behind
/// [`hold_for_deploy`]: the set must be assigned to the deploying admin first). The text
/// of that refusal is not known, so any policy failure that names the set, or a
/// permission set, counts.
pub(crate) fn wants_admin_hold(failures: &[ComponentFailure], ps: &str) -> bool {
    let ps = ps.to_ascii_lowercase();
    failures.iter().any(|f| {
        let problem = f.problem.to_ascii_lowercase();
        f.component_type.as_deref()
            == Some(MetadataType::ExtlClntAppOauthConfigurablePolicies.name())
            && (problem.contains(&ps)
                || problem.contains("permission set")
                || problem.contains("permissionset"))
    })
}

/// The deploy phase with the one retry a live report calls for: when the org refuses an
/// External Client App's OAuth policies over the permission set `ps` (id, name), the set
/// is assigned to the deploying admin `admin_id` and the deploy made again; the
/// assignment is taken back once the deploy is over ([`release`]), also when an earlier,
/// interrupted run made it.
pub(crate) fn deploy_holding_if_asked(
    job: &Job<'_, '_>,
    rec: &mut AppRecord,
    plan: &Plan,
    ps: Option<(&str, &str)>,
    admin_id: &str,
    report: &mut dyn Report,
) -> Result<Deployed> {
    let mut deployed = job.deploy(rec, plan, report)?;
    if let (Deployed::Failed { failures, .. }, Some((id, name))) = (&deployed, ps)
        && rec.kind == AppKind::ExternalClientApp
        && rec.admin_assignment.is_none()
        && wants_admin_hold(failures, name)
    {
        let said = failures
            .iter()
            .find(|f| wants_admin_hold(std::slice::from_ref(f), name))
            .map(|f| f.problem.clone())
            .unwrap_or_default();
        report.step(&format!(
            "the org refused the OAuth policies' permission set `{name}` ({said}): assigning it to the deploying admin for the length of the deploy (a live report says the org requires it), then deploying again"
        ));
        hold_for_deploy(job, rec, id, admin_id, report)?;
        if rec.admin_assignment.is_some() {
            deployed = job.deploy(rec, plan, report)?;
        }
    }
    if !matches!(deployed, Deployed::Running(_)) {
        release(job, rec, report)?;
    }
    Ok(deployed)
}

/// Assign permission set `ps` to the deploying admin `admin_id` for the length of a deploy
/// that names it, unless they hold it already; recorded in `rec.admin_assignment` until
/// [`release`] takes it back. A live third-party report says an External Client App's
/// OAuth policies can name only a permission set the deploying admin holds.
pub(crate) fn hold_for_deploy(
    job: &Job<'_, '_>,
    rec: &mut AppRecord,
    ps: &str,
    admin_id: &str,
    report: &mut dyn Report,
) -> Result<()> {
    if rec.admin_assignment.is_some() || job.org.assignment(ps, admin_id)?.is_some() {
        return Ok(());
    }
    if let Created::New(id) = job.org.assign(ps, admin_id)? {
        rec.admin_assignment = Some(id);
        save_record(job.dir, rec, None)?;
        report.step(
            "assigned the permission set to the deploying admin for the length of the deploy",
        );
    }
    Ok(())
}

/// Take back the admin's assignment [`hold_for_deploy`] made.
pub(crate) fn release(
    job: &Job<'_, '_>,
    rec: &mut AppRecord,
    report: &mut dyn Report,
) -> Result<()> {
    let Some(id) = rec.admin_assignment.clone() else {
        return Ok(());
    };
    job.org.delete(objects::PERMISSION_SET_ASSIGNMENT, &id)?;
    rec.admin_assignment = None;
    save_record(job.dir, rec, None)?;
    report.step("removed the deploying admin's assignment of the permission set");
    Ok(())
}

/// What the org says the app holds after a deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// It holds what was deployed (what was checked).
    Confirmed(String),
    /// It does not: what differs.
    Differs(String),
    /// The org would not say (why).
    Unavailable(String),
}

/// What `confirm` checks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expect<'a> {
    /// The certificate on the app (`None`: not checked).
    pub(crate) certificate: Option<&'a str>,
    /// Admin approval naming this permission set (`None`: approval not checked).
    pub(crate) permission_set: Option<&'a str>,
    /// The permission set's record id, when known (a policy may name it by id).
    pub(crate) permission_set_id: Option<&'a str>,
    /// The app is enabled (an External Client App's plugin policies).
    pub(crate) enabled: Option<bool>,
}

/// The confirm phase: read the app back and check what `expect` says.
pub(crate) fn confirm(
    org: &OrgClient<'_>,
    rec: &AppRecord,
    expect: Expect<'_>,
) -> Result<Confirmation> {
    let mut checked = Vec::new();
    let mut differs = Vec::new();
    let read = |kind: MetadataType, name: &str| match org.read_one(kind, name) {
        Ok(Some(el)) => Ok(Ok(el)),
        Ok(None) => Ok(Err(format!("the org has no {kind} `{name}`"))),
        Err(e) if super::discover::is_unavailable(&e) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    };
    match rec.kind {
        AppKind::ExternalClientApp => {
            let parts = rec.parts.clone().unwrap_or_default();
            if let (Some(ps), Some(name)) = (expect.permission_set, parts.oauth_policy.as_deref()) {
                match read(MetadataType::ExtlClntAppOauthConfigurablePolicies, name)? {
                    Ok(el) => {
                        let users = el
                            .text_at(&["permittedUsersPolicyType"])
                            .unwrap_or_default();
                        let sets = el
                            .text_at(&["commaSeparatedPermissionSet"])
                            .map(comma_items)
                            .unwrap_or_default();
                        if users != "AdminApprovedPreAuthorized" {
                            differs.push(format!("its OAuth policies say permitted users `{users}`, not AdminApprovedPreAuthorized"));
                        } else if !names_permission_set(&sets, ps, expect.permission_set_id) {
                            differs.push(format!(
                                "its OAuth policies do not name the permission set `{ps}`"
                            ));
                        } else {
                            checked.push(format!("admin approved, pre-authorizing `{ps}`"));
                        }
                    }
                    Err(why) => return Ok(Confirmation::Unavailable(why)),
                }
            }
            if let (Some(cert), Some(name)) = (expect.certificate, parts.global_oauth.as_deref()) {
                match read(MetadataType::ExtlClntAppGlobalOauthSettings, name)? {
                    Ok(el) => match el.text_at(&["certificate"]) {
                        Some(c) if same_certificate(c, cert) => {
                            checked.push("the certificate".into())
                        }
                        _ => differs
                            .push("its global OAuth settings hold another certificate".into()),
                    },
                    Err(why) => return Ok(Confirmation::Unavailable(why)),
                }
            }
            if let (Some(on), Some(name)) = (expect.enabled, parts.plugin_policy.as_deref()) {
                match read(MetadataType::ExtlClntAppConfigurablePolicies, name)? {
                    Ok(el) => {
                        let is = el.text_at(&["isEnabled"]) == Some("true");
                        if is == on {
                            checked.push(if on {
                                "enabled".into()
                            } else {
                                "disabled".into()
                            });
                        } else {
                            differs
                                .push(format!("it is {}", if is { "enabled" } else { "disabled" }));
                        }
                    }
                    Err(why) => return Ok(Confirmation::Unavailable(why)),
                }
            }
        }
        AppKind::ConnectedApp => match read(MetadataType::ConnectedApp, &rec.name)? {
            Ok(el) => {
                if let Some(ps) = expect.permission_set {
                    let approved = el.text_at(&["oauthConfig", "isAdminApproved"]) == Some("true");
                    let names: Vec<String> = el
                        .texts_at(&["permissionSetName"])
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    let named = names_permission_set(&names, ps, expect.permission_set_id);
                    if approved && named {
                        checked.push(format!("admin approved, pre-authorizing `{ps}`"));
                    } else {
                        differs.push(format!(
                            "it is {}admin approved and does {}name the permission set `{ps}`",
                            if approved { "" } else { "not " },
                            if named { "" } else { "not " }
                        ));
                    }
                }
                if let Some(cert) = expect.certificate {
                    match el.text_at(&["oauthConfig", "certificate"]) {
                        Some(c) if same_certificate(c, cert) => {
                            checked.push("the certificate".into())
                        }
                        _ => differs.push("it holds another certificate".into()),
                    }
                }
            }
            Err(why) => return Ok(Confirmation::Unavailable(why)),
        },
    }
    Ok(if differs.is_empty() {
        Confirmation::Confirmed(checked.join(", "))
    } else {
        Confirmation::Differs(differs.join("; "))
    })
}
