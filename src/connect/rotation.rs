//! The year after: a new certificate on a connected directory's app.
//!
//! - [`redeploy`] (`renew --deploy`): the app gets the given generation's certificate and
//!   is proven with its key. A renewal keeps the key, so every client keeps working
//!   whichever certificate the org has at the moment: no downtime.
//! - [`rotate`] (`rotate --deploy`): the new key's certificate goes on the app, is proven
//!   with the new key, and only then does the new generation become current; if it does
//!   not work within the wait, the previous certificate is deployed again (the way back)
//!   and the previous generation stays current. An app holds one certificate, so clients
//!   still signing with the old key are refused from the moment the new certificate has
//!   propagated until they switch.
//! - [`second_app`] (`rotate --deploy --second-app`): a second app with the new
//!   certificate and its own consumer key, proven, then the manifest switches to it and
//!   to the new generation in one write; the first app keeps working for the clients that
//!   still use it, until [`retire_previous`] disables it (never automatically).

use std::path::Path;
use std::time::{Duration, Instant};

use super::verify::{Attempt, Backoff, Proof, Prover};
use super::{
    Deployed, OrgClient, Report, Status, certificate_of, deploy_and_wait, explain, login_url, plan,
    poll, put_record, same_org, save_record,
};
use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppRecord, AppState, Generation, Manifest, Status as GenStatus};
use crate::wire::metadata::DeployStatus;
use crate::{Error, Result, workdir};

/// How long to wait and how to pause between attempts.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    /// The most time for a deploy, then for a token.
    pub wait: Duration,
    /// Pauses between token attempts.
    pub backoff: Backoff,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting {
            wait: super::DEFAULT_WAIT,
            backoff: Backoff::default(),
        }
    }
}

/// What a redeploy did.
#[derive(Debug)]
pub struct Redeployed {
    /// How it ended ([`Status::Unchanged`] when the app already had the certificate and
    /// works).
    pub status: Status,
    /// The app as recorded now.
    pub app: AppRecord,
    /// The generation whose certificate was deployed.
    pub generation: String,
}

/// What `rotate --deploy` did.
#[derive(Debug)]
pub struct Rotated {
    /// The new certificate's deploy and proof.
    pub new: Redeployed,
    /// When the new certificate did not work: the redeploy of the previous one.
    pub rolled_back: Option<Redeployed>,
    /// The current generation now.
    pub current: String,
}

/// What `rotate --retire-previous` did.
#[derive(Debug)]
pub enum Retired {
    /// The previous app is disabled in the org.
    Done {
        /// The app, as recorded now.
        app: AppRecord,
        /// Whether a mint through it was seen refused within the wait (`None`: not
        /// checked, no key).
        refused: Option<bool>,
    },
    /// The org refused the deploy.
    DeployFailed {
        /// The app.
        app: AppRecord,
        /// The deploy.
        id: String,
        /// Its status.
        status: DeployStatus,
        /// Each failure, explained.
        failures: Vec<explain::ComponentFailure>,
    },
    /// The deploy did not finish within the wait.
    DeployRunning {
        /// The app.
        app: AppRecord,
        /// The deploy.
        id: String,
    },
}

fn generation<'a>(m: &'a Manifest, name: &str) -> Result<&'a Generation> {
    let g = m
        .generations
        .iter()
        .find(|g| g.dir == name || format!("g{}", g.number) == name)
        .ok_or_else(|| {
            Error::invalid(
                Input::Generation,
                format!(
                    "`{}` is not a generation of this directory",
                    crate::text::escape(name)
                ),
            )
        })?;
    if g.status != GenStatus::Complete {
        return Err(Error::invalid(
            Input::Generation,
            format!("{} is not complete; finish it first", g.dir),
        ));
    }
    Ok(g)
}

/// The active app, checked to be in the session's org.
fn active_in_org(m: &Manifest, org: &OrgClient<'_>) -> Result<AppRecord> {
    let rec = m.active_app().cloned().ok_or_else(|| {
        Error::invalid(
            Input::App,
            "this directory is not connected to an app yet: run `certmint connect DIR` first",
        )
    })?;
    check_org(&rec, org)?;
    Ok(rec)
}

fn check_org(rec: &AppRecord, org: &OrgClient<'_>) -> Result<()> {
    let o = org.organization()?;
    if !rec.org_id.is_empty() && !same_org(&rec.org_id, &o.id) {
        return Err(Error::invalid(
            Input::Org,
            format!(
                "the app `{}` is in org {} ({}), but the admin session is for org {} ({}): use a session for the app's org",
                rec.name,
                rec.org_id,
                rec.instance_url,
                o.id,
                org.session().instance_url()
            ),
        ));
    }
    Ok(())
}

/// The spec of a recorded app with `cert_pem`.
fn spec_of(
    rec: &AppRecord,
    alias: &str,
    cert_pem: String,
    send_key: bool,
) -> Result<plan::AppSpec> {
    Ok(plan::AppSpec {
        kind: rec.kind,
        name: rec.name.clone(),
        label: if rec.label.is_empty() {
            rec.name.clone()
        } else {
            rec.label.clone()
        },
        contact_email: if rec.contact_email.is_empty() {
            rec.username.clone()
        } else {
            rec.contact_email.clone()
        },
        callback_url: if rec.callback_url.is_empty() {
            plan::PLACEHOLDER_CALLBACK_URL.to_owned()
        } else {
            rec.callback_url.clone()
        },
        description: format!(
            "JWT bearer integration {} (certmint directory alias {alias}); made by certmint",
            rec.name
        ),
        consumer_key: rec.consumer_key.clone(),
        send_consumer_key: send_key && rec.kind == AppKind::ExternalClientApp,
        certificate_pem: cert_pem,
        scopes: if rec.scopes.is_empty() {
            plan::DEFAULT_SCOPES.to_vec()
        } else {
            rec.scopes
                .iter()
                .map(|s| plan::parse_scope(s))
                .collect::<Result<Vec<_>>>()?
        },
        permission_set: rec.permission_set.clone(),
        create_permission_set: false,
        profiles: rec.profiles.clone(),
        enabled: true,
    })
}

/// What a deploy puts on an app and how it is proven.
struct Target<'a> {
    /// The generation whose certificate is deployed.
    generation: &'a str,
    /// That certificate's SHA-256.
    cert_sha256: String,
    /// Its key, which proves the app.
    key: &'a RsaKey,
    /// Make the generation current once proven (in the same manifest write).
    activate: bool,
    /// Assign the app's permission set to this user (id) before the proof.
    assign_to: Option<&'a str>,
}

/// Deploy `rec` as `spec` (or resume its deploy), then prove it with the target's key. On
/// success the record is saved `verified` and active, in the same write as making the
/// generation current when asked; otherwise it is saved as far as it got.
fn deploy_and_prove(
    dir: &Path,
    org: &OrgClient<'_>,
    mut rec: AppRecord,
    spec: &plan::AppSpec,
    target: Target<'_>,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Redeployed> {
    let Target {
        generation: g,
        cert_sha256,
        key,
        activate,
        assign_to,
    } = target;
    let activate = activate.then_some(g);
    let m = workdir::load(dir)?;
    let plan = spec.plan()?;
    let login = login_url(None, &m, Some(org))?;
    let prover = Prover::new(
        org.http(),
        login.clone(),
        key,
        &rec.consumer_key,
        &rec.username,
    )?;
    let done = |status, app| Redeployed {
        status,
        app,
        generation: g.to_owned(),
    };
    let same_plan = rec.plan_sha256.as_deref() == Some(plan.digest.as_str())
        && rec.generation.as_deref() == Some(g);
    let finish = |rec: &AppRecord| -> Result<()> {
        match activate {
            Some(gen_dir) => {
                workdir::activate_with(dir, gen_dir, |m| {
                    put_record(m, rec, Some(login.as_str()));
                    Ok(())
                })?;
            }
            None => {
                save_record(dir, rec, Some(login.as_str()))?;
            }
        }
        Ok(())
    };
    if same_plan && rec.state == AppState::Verified {
        if let Attempt::Granted(_) = prover.attempt()? {
            finish(&rec)?;
            return Ok(done(Status::Unchanged, rec));
        }
        report.step("the app is recorded with this certificate, but a token could not be minted: deploying it again");
    }
    let deployed = if same_plan && rec.state == AppState::Deployed {
        true
    } else {
        let resume = (same_plan && rec.state == AppState::Deploying)
            .then(|| rec.deploy_id.clone())
            .flatten();
        rec.plan_sha256 = Some(plan.digest.clone());
        rec.generation = Some(g.to_owned());
        rec.certificate_sha256 = Some(cert_sha256);
        let outcome = match resume {
            Some(id) => {
                report.step(&format!("resuming deploy {id}"));
                poll(org, &id, waiting.wait, report)?
            }
            None => {
                rec.state = AppState::Planned;
                save_record(dir, &rec, None)?;
                deploy_and_wait(dir, org, &plan, &mut rec, waiting.wait, report)?
            }
        };
        let result = match outcome {
            Deployed::Running(id) => return Ok(done(Status::DeployRunning { id }, rec)),
            Deployed::Done(r) => r,
        };
        if result.status != DeployStatus::Succeeded {
            rec.state = AppState::Planned;
            save_record(dir, &rec, None)?;
            return Ok(done(
                Status::DeployFailed {
                    id: result.id.clone(),
                    status: result.status,
                    failures: explain::failures(&result),
                },
                rec,
            ));
        }
        rec.state = AppState::Deployed;
        save_record(dir, &rec, None)?;
        report.step(&format!(
            "deployed the certificate of {g} to the {} `{}`",
            rec.kind.describe(),
            rec.name
        ));
        false
    };
    if deployed {
        report.step("the deploy had succeeded: waiting for the certificate to work");
    }
    if let (Some(user), Some(ps)) = (assign_to, &rec.permission_set) {
        let id = org.permission_set(ps)?.ok_or_else(|| {
            Error::invalid(
                Input::PermissionSet,
                format!("the permission set `{ps}` is not in the org after the deploy"),
            )
        })?;
        if !org.is_assigned(&id, user)? && org.assign(&id, user)? != super::org::Created::Duplicate
        {
            report.step(&format!(
                "assigned the permission set `{ps}` to {}",
                crate::text::escape(&rec.username)
            ));
        }
    }
    report.step(&format!(
        "minting a token with the key of {g} until it works (up to {}s)",
        waiting.wait.as_secs()
    ));
    match prover.until(waiting.wait, waiting.backoff, report)? {
        Proof::Works {
            attempts, after, ..
        } => {
            rec.state = AppState::Verified;
            finish(&rec)?;
            Ok(done(Status::Connected { attempts, after }, rec))
        }
        Proof::TimedOut { attempts, last } => {
            Ok(done(Status::NotYetWorking { attempts, last }, rec))
        }
    }
}

/// `renew --deploy`: deploy `generation`'s certificate to the active app (no consumer key
/// sent) and prove it with `key` (the generation's, which a renewal shares with the
/// previous one).
pub fn redeploy(
    dir: &Path,
    org: &OrgClient<'_>,
    generation_dir: &str,
    key: &RsaKey,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Redeployed> {
    let m = workdir::load(dir)?;
    let rec = active_in_org(&m, org)?;
    let g = generation(&m, generation_dir)?.clone();
    let (pem, sha) = certificate_of(dir, &m, &g, Some(key))?;
    let spec = spec_of(&rec, &m.alias, pem, false)?;
    deploy_and_prove(
        dir,
        org,
        rec,
        &spec,
        Target {
            generation: &g.dir,
            cert_sha256: sha,
            key,
            activate: false,
            assign_to: None,
        },
        waiting,
        report,
    )
}

/// `rotate --deploy`: deploy the new generation's certificate to the active app, prove it
/// with `new_key`, then make the new generation current; if it does not work within the
/// wait, deploy the current generation's certificate again and prove it with
/// `current_key` (the way back), leaving the current generation as it is.
pub fn rotate(
    dir: &Path,
    org: &OrgClient<'_>,
    new_generation: &str,
    new_key: &RsaKey,
    current_key: &RsaKey,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Rotated> {
    let m = workdir::load(dir)?;
    let rec = active_in_org(&m, org)?;
    let current = super::current(&m)?;
    let g = generation(&m, new_generation)?.clone();
    if g.dir == current.dir {
        return Err(Error::invalid(
            Input::Generation,
            format!("{} is already the current generation", g.dir),
        ));
    }
    let (pem, sha) = certificate_of(dir, &m, &g, Some(new_key))?;
    let spec = spec_of(&rec, &m.alias, pem, false)?;
    let new = deploy_and_prove(
        dir,
        org,
        rec,
        &spec,
        Target {
            generation: &g.dir,
            cert_sha256: sha,
            key: new_key,
            activate: true,
            assign_to: None,
        },
        waiting,
        report,
    )?;
    if matches!(new.status, Status::Connected { .. } | Status::Unchanged) {
        return Ok(Rotated {
            new,
            rolled_back: None,
            current: g.dir,
        });
    }
    // Only a certificate that was deployed and never took needs the way back: a refused
    // deploy changed nothing, and one still running cannot be followed by another.
    if !matches!(new.status, Status::NotYetWorking { .. }) {
        return Ok(Rotated {
            new,
            rolled_back: None,
            current: current.dir,
        });
    }
    report.step(&format!(
        "the certificate of {} did not work within {}s: deploying the certificate of {} again",
        g.dir,
        waiting.wait.as_secs(),
        current.dir
    ));
    let m = workdir::load(dir)?;
    let rec = m
        .active_app()
        .cloned()
        .ok_or_else(|| Error::internal("the active app disappeared from the manifest"))?;
    let (pem, sha) = certificate_of(dir, &m, &current, Some(current_key))?;
    let spec = spec_of(&rec, &m.alias, pem, false)?;
    let back = deploy_and_prove(
        dir,
        org,
        rec,
        &spec,
        Target {
            generation: &current.dir,
            cert_sha256: sha,
            key: current_key,
            activate: false,
            assign_to: None,
        },
        waiting,
        report,
    )?;
    Ok(Rotated {
        new,
        rolled_back: Some(back),
        current: current.dir,
    })
}

/// `rotate --deploy --second-app`: a second app `<app>_g<N>` with the new generation's
/// certificate and its own consumer key, pre-authorizing the same permission set and
/// profiles for the same user; proven with `new_key`; then, in one manifest write, the new
/// generation becomes current and the second app becomes the one `mint --dir` uses. The
/// first app is left as it is (its clients keep working) until [`retire_previous`].
pub fn second_app(
    dir: &Path,
    org: &OrgClient<'_>,
    new_generation: &str,
    new_key: &RsaKey,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Redeployed> {
    let m = workdir::load(dir)?;
    let first = active_in_org(&m, org)?;
    let g = generation(&m, new_generation)?.clone();
    if m.current.as_deref() == Some(g.dir.as_str())
        && first.generation.as_deref() == Some(g.dir.as_str())
    {
        return Err(Error::invalid(
            Input::Generation,
            format!(
                "{} is already current and on the active app `{}`: rotate first (`certmint rotate DIR`)",
                g.dir, first.name
            ),
        ));
    }
    let name = plan::second_app_name(&first.name, g.number);
    if name == first.name {
        return Err(Error::internal(
            "the second app would have the first one's name",
        ));
    }
    let o = org.organization()?;
    let earlier = m
        .apps
        .iter()
        .find(|a| a.name == name && (a.org_id.is_empty() || same_org(&a.org_id, &o.id)))
        .cloned();
    let mut rec = match earlier {
        Some(r) => r,
        None => AppRecord {
            name: name.clone(),
            kind: AppKind::ExternalClientApp,
            consumer_key: plan::new_consumer_key()?,
            created: true,
            org_id: o.id.clone(),
            instance_url: org.session().instance_url().to_owned(),
            state: AppState::Planned,
            replaces: Some(first.name.clone()),
            active: false,
            generation: None,
            certificate_sha256: None,
            plan_sha256: None,
            deploy_id: None,
            label: name.clone(),
            updated: String::new(),
            ..first.clone()
        },
    };
    rec.kind = AppKind::ExternalClientApp;
    let (pem, sha) = certificate_of(dir, &m, &g, Some(new_key))?;
    let send_key = !matches!(rec.state, AppState::Deployed | AppState::Verified);
    let mut spec = spec_of(&rec, &m.alias, pem, send_key)?;
    if let Some(ps) = &rec.permission_set {
        spec.create_permission_set = org.permission_set(ps)?.is_none();
    }
    let user = org.user(&rec.username)?.ok_or_else(|| {
        Error::invalid(
            Input::User,
            format!(
                "the org has no user `{}`",
                crate::text::escape(&rec.username)
            ),
        )
    })?;
    deploy_and_prove(
        dir,
        org,
        rec,
        &spec,
        Target {
            generation: &g.dir,
            cert_sha256: sha,
            key: new_key,
            activate: true,
            assign_to: Some(&user.id),
        },
        waiting,
        report,
    )
}

/// The app the active one replaced (`rotate --deploy --second-app`), unless it is retired.
pub fn previous_app(m: &Manifest) -> Result<Option<AppRecord>> {
    let Some(active) = m.active_app() else {
        return Ok(None);
    };
    let Some(name) = &active.replaces else {
        return Ok(None);
    };
    Ok(m.apps
        .iter()
        .find(|a| &a.name == name && !a.active && a.state != AppState::Retired)
        .cloned())
}

/// `rotate --retire-previous`: disable the app used before the last switch onto a second
/// app (an External Client App's plugin policies `isEnabled` false; a connected app loses
/// its certificate and pre-authorizations), then, when `previous_key` is given, wait until
/// a mint through it is refused. Never the active app.
pub fn retire_previous(
    dir: &Path,
    org: &OrgClient<'_>,
    previous_key: Option<&RsaKey>,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Retired> {
    let m = workdir::load(dir)?;
    let active = active_in_org(&m, org)?;
    let mut prev = previous_app(&m)?
        .filter(|a| !a.active && (a.org_id.is_empty() || same_org(&a.org_id, &active.org_id)))
        .ok_or_else(|| {
            Error::invalid(
                Input::App,
                "no previous app to retire: the active app replaced none (`rotate --deploy --second-app` makes a second app), or it is retired already",
            )
        })?;
    let g = prev
        .generation
        .clone()
        .ok_or_else(|| Error::corrupt(Input::Manifest, "the previous app names no generation"))?;
    let gen_rec = generation(&m, &g)?.clone();
    let (pem, _) = certificate_of(dir, &m, &gen_rec, None)?;
    let mut spec = spec_of(&prev, &m.alias, pem, false)?;
    spec.enabled = false;
    let plan = spec.plan()?;
    let done = match deploy_and_wait(dir, org, &plan, &mut prev, waiting.wait, report)? {
        Deployed::Running(id) => return Ok(Retired::DeployRunning { app: prev, id }),
        Deployed::Done(r) => r,
    };
    if done.status != DeployStatus::Succeeded {
        prev.state = AppState::Verified;
        save_record(dir, &prev, None)?;
        return Ok(Retired::DeployFailed {
            app: prev,
            id: done.id.clone(),
            status: done.status,
            failures: explain::failures(&done),
        });
    }
    prev.state = AppState::Retired;
    prev.plan_sha256 = Some(plan.digest.clone());
    save_record(dir, &prev, None)?;
    report.step(&format!(
        "retired the {} `{}`: disabled in the org (delete it in Setup when no one needs its record)",
        prev.kind.describe(),
        prev.name
    ));
    let Some(key) = previous_key else {
        return Ok(Retired::Done {
            app: prev,
            refused: None,
        });
    };
    let login = login_url(None, &m, Some(org))?;
    let prover = Prover::new(org.http(), login, key, &prev.consumer_key, &prev.username)?;
    let deadline = Instant::now() + waiting.wait;
    let mut backoff = waiting.backoff;
    loop {
        if let Attempt::Refused(_) = prover.attempt()? {
            return Ok(Retired::Done {
                app: prev,
                refused: Some(true),
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Retired::Done {
                app: prev,
                refused: Some(false),
            });
        }
        report.progress("the retired app still issues tokens; the change may still be propagating");
        std::thread::sleep(backoff.pause(left));
    }
}
