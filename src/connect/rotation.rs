//! The year after: a new certificate on a connected directory's app, through the same
//! phases as `connect` ([`super::deploy`]): the app read from the org and changed only in
//! its certificate, deployed, read back, proven.
//!
//! - [`redeploy`] (`renew --deploy`): the app gets the given generation's certificate and
//!   is proven with its key. A renewal keeps the key, so every client keeps working
//!   whichever certificate the org has at the moment: no downtime. The certificate read
//!   back from the org is the proof that the new one is on the app; the token proves the
//!   key.
//! - [`rotate`] (`rotate --deploy`): the new key's certificate goes on the app, is proven
//!   with the new key, and only then does the new generation become current; if it does
//!   not work within the wait (at least the 15 minutes Salesforce gives itself unless the
//!   user asks for less), the previous certificate is deployed again (the way back) and
//!   the previous generation stays current. An app holds one certificate, so clients
//!   still signing with the old key are refused from the moment the new certificate has
//!   propagated until they switch.
//! - [`second_app`] (`rotate --deploy --second-app`): a second app with the new
//!   certificate and its own consumer key, proven, then the manifest switches to it and
//!   to the new generation in one write; the first app keeps working for the clients that
//!   still use it, until [`retire_previous`] disables it (never automatically).

use std::path::Path;
use std::time::{Duration, Instant};

mod check;
mod second;

pub use check::{CheckedDeploy, check_deploy};
pub use second::second_app;

use super::deploy::{self, Deployed, Expect, Job};
use super::discover::{self, ExistingEca, Read};
use super::plan::{self, AppSpec, Existing, Given};
use super::verify::{Attempt, Backoff, Proof, Prover, sleep};
use super::{
    Confirmation, Endpoint, OrgClient, Report, Status, certificate_of, endpoint, explain,
    put_record, same_org, save_record,
};
use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppRecord, AppState, Generation, Manifest, Status as GenStatus};
use crate::wire::metadata::{DeployStatus, Element};
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
    /// The app read back from the org after the deploy.
    pub confirmation: Option<Confirmation>,
    /// What the run could not check.
    pub notes: Vec<String>,
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
        /// The app read back from the org.
        confirmation: Confirmation,
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
    let g = m.find_generation(name).ok_or_else(|| {
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
fn active_in_org(m: &Manifest, org: &OrgClient<'_>) -> Result<(AppRecord, super::org::OrgInfo)> {
    let rec = m.active_app().cloned().ok_or_else(|| {
        Error::invalid(
            Input::App,
            "this directory is not connected to an app yet: run `certmint connect DIR` first",
        )
    })?;
    let o = check_org(&rec, org)?;
    Ok((rec, o))
}

fn check_org(rec: &AppRecord, org: &OrgClient<'_>) -> Result<super::org::OrgInfo> {
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
    Ok(o)
}

/// The spec of a recorded app with `cert_pem`.
pub(crate) fn spec_of(rec: &AppRecord, alias: &str, cert_pem: String) -> Result<AppSpec> {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_owned()
        } else {
            s.to_owned()
        }
    };
    Ok(AppSpec {
        kind: rec.kind,
        name: rec.name.clone(),
        label: or(&rec.label, &rec.name),
        contact_email: or(&rec.contact_email, &rec.username),
        callback_url: or(&rec.callback_url, plan::PLACEHOLDER_CALLBACK_URL),
        description: format!(
            "JWT bearer integration {} (certmint directory alias {alias}); made by certmint",
            rec.name
        ),
        consumer_key: rec.consumer_key.clone(),
        send_consumer_key: false,
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
        permission_set_id: None,
        profiles: rec.profiles.clone(),
        enabled: true,
        parts: super::parts_of(rec).unwrap_or_default(),
    })
}

/// An app as the org holds it now.
pub(crate) enum InOrg {
    /// Gone (deleted by someone).
    Missing,
    /// An External Client App.
    Eca(ExistingEca),
    /// A connected app.
    ConnectedApp(Element),
}

/// Read `rec`'s app from the org. When it cannot be read, a recorded External Client App
/// is taken under its recorded part names (a note says so); a connected app must be read.
pub(crate) fn read_app(
    org: &OrgClient<'_>,
    rec: &AppRecord,
    notes: &mut Vec<String>,
) -> Result<InOrg> {
    match rec.kind {
        AppKind::ExternalClientApp => {
            Ok(match discover::eca(org, &rec.name, rec.parts.as_ref())? {
                Read::Found(ex) => InOrg::Eca(ex),
                Read::Missing => InOrg::Missing,
                Read::Unavailable(why) => {
                    notes.push(format!("{why}; the recorded parts get certmint's settings"));
                    InOrg::Eca(ExistingEca {
                        name: rec.name.clone(),
                        parts: super::parts_of(rec).unwrap_or_default(),
                        ..ExistingEca::default()
                    })
                }
            })
        }
        AppKind::ConnectedApp => match discover::connected_app(org, &rec.name)? {
            Read::Found(el) => Ok(InOrg::ConnectedApp(el)),
            Read::Missing => Ok(InOrg::Missing),
            Read::Unavailable(why) => Err(Error::invalid(
                Input::App,
                format!(
                    "{why}; certmint does not rewrite a connected app it cannot read (a deploy resets whatever it leaves out)"
                ),
            )),
        },
    }
}

/// The plan for `spec` against the app as the org holds it.
pub(crate) fn plan_for(spec: &AppSpec, app: &InOrg) -> Result<plan::Plan> {
    match app {
        InOrg::Eca(ex) => spec.plan_edit(Existing::Eca(ex), Given::default()),
        InOrg::ConnectedApp(el) => spec.plan_edit(Existing::ConnectedApp(el), Given::default()),
        InOrg::Missing if spec.kind == AppKind::ExternalClientApp => {
            // Deleted by someone: created again, with the recorded consumer key.
            let mut s = spec.clone();
            s.send_consumer_key = true;
            s.plan_new()
        }
        InOrg::Missing => Err(Error::invalid(
            Input::App,
            format!(
                "the org no longer has the connected app `{}`, and connected apps cannot be created any more: connect the directory to an External Client App with `certmint connect DIR --app-name NAME --reconnect`",
                spec.name
            ),
        )),
    }
}

/// What a deploy puts on an app and how it is proven.
struct Target<'a> {
    /// The generation whose certificate is deployed.
    generation: &'a str,
    /// That certificate, PEM.
    cert_pem: String,
    /// That certificate's SHA-256.
    cert_sha256: String,
    /// Its key, which proves the app.
    key: &'a RsaKey,
    /// Make the generation current once proven (in the same manifest write).
    activate: bool,
}

/// Deploy `spec` to `rec`'s app (or resume the deploy), read it back, prove it with the
/// target's key. On success the record is saved `verified` and active, in the same write
/// as making the generation current when asked; otherwise it is saved as far as it got.
fn deploy_and_prove(
    job: &Job<'_, '_>,
    mut rec: AppRecord,
    spec: &AppSpec,
    target: Target<'_>,
    end: &Endpoint,
    report: &mut dyn Report,
) -> Result<Redeployed> {
    let mut notes = Vec::new();
    let app = read_app(job.org, &rec, &mut notes)?;
    let plan = plan_for(spec, &app)?;
    // What the admin needs, checked before anything changes.
    discover::check_permissions(&job.org.admin()?, !plan.is_empty(), false, false)?;
    let g = target.generation;
    let done = |status, app, confirmation, notes| Redeployed {
        status,
        app,
        generation: g.to_owned(),
        confirmation,
        notes,
    };
    let prover = Prover::with_audience(
        job.org.http(),
        end.login.clone(),
        end.audience.clone(),
        target.key,
        &rec.consumer_key,
        &rec.username,
    )?;
    let finish = |rec: &AppRecord| -> Result<()> {
        if target.activate {
            workdir::activate_with(job.dir, g, |m| {
                put_record(m, rec, Some(end));
                Ok(())
            })?;
        } else {
            save_record(job.dir, rec, Some(end))?;
        }
        Ok(())
    };
    if plan.is_empty() && rec.generation.as_deref() == Some(g) {
        if let Attempt::Granted(_) = prover.attempt()? {
            rec.state = AppState::Verified;
            finish(&rec)?;
            return Ok(done(Status::Unchanged, rec, None, notes));
        }
        report.step("the app holds this certificate, but a token could not be minted: waiting for it to work");
    }
    if let InOrg::Eca(ex) = &app
        && ex.complete
    {
        rec.parts = Some(
            ex.parts
                .clone()
                .or(&super::parts_of(&rec).unwrap_or_default()),
        );
    }
    rec.generation = Some(g.to_owned());
    rec.certificate_sha256 = Some(target.cert_sha256.clone());
    match job.deploy(&mut rec, &plan, report)? {
        Deployed::Running(id) => return Ok(done(Status::DeployRunning { id }, rec, None, notes)),
        Deployed::Failed {
            id,
            status,
            failures,
        } => {
            return Ok(done(
                Status::DeployFailed {
                    id,
                    status,
                    failures,
                },
                rec,
                None,
                notes,
            ));
        }
        Deployed::Succeeded => report.step(&format!(
            "deployed the certificate of {g} to the {} `{}`",
            rec.kind.describe(),
            rec.name
        )),
        Deployed::Nothing => {
            report.step("the app already holds this certificate: waiting for it to work")
        }
    }
    let confirmation = deploy::confirm(
        job.org,
        &rec,
        Expect {
            certificate: Some(&target.cert_pem),
            permission_set: None,
            permission_set_id: None,
            enabled: None,
        },
    )?;
    match &confirmation {
        Confirmation::Confirmed(what) => {
            report.step(&format!("the org confirms the app holds {what} of {g}"))
        }
        Confirmation::Differs(why) => {
            let why = why.clone();
            return Ok(done(
                Status::NotConfirmed { why },
                rec,
                Some(confirmation),
                notes,
            ));
        }
        Confirmation::Unavailable(why) => notes.push(format!(
            "could not read the app back to see the certificate on it ({why})"
        )),
    }
    let status = match job.prove(&prover, report)? {
        Proof::Works {
            attempts, after, ..
        } => {
            rec.state = AppState::Verified;
            finish(&rec)?;
            Status::Connected { attempts, after }
        }
        Proof::TimedOut { attempts, last } => Status::NotYetWorking { attempts, last },
    };
    Ok(done(status, rec, Some(confirmation), notes))
}

fn job<'a, 'o>(dir: &'a Path, org: &'a OrgClient<'o>, w: Waiting) -> Job<'a, 'o> {
    Job {
        dir,
        org,
        wait: w.wait,
        backoff: w.backoff,
    }
}

/// Where `rec`'s tokens are minted.
fn endpoint_of(
    m: &Manifest,
    rec: &AppRecord,
    org: &OrgClient<'_>,
    sandbox: bool,
) -> Result<Endpoint> {
    endpoint(
        rec.kind,
        None,
        m.salesforce.login_url.as_deref(),
        Some(org.session().instance_url()),
        sandbox,
    )
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
    let (rec, o) = active_in_org(&m, org)?;
    let g = generation(&m, generation_dir)?.clone();
    let (pem, sha) = certificate_of(dir, &m, &g, Some(key))?;
    let spec = spec_of(&rec, &m.alias, pem.clone())?;
    let end = endpoint_of(&m, &rec, org, o.is_sandbox)?;
    deploy_and_prove(
        &job(dir, org, waiting),
        rec,
        &spec,
        Target {
            generation: &g.dir,
            cert_pem: pem,
            cert_sha256: sha,
            key,
            activate: false,
        },
        &end,
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
    let (rec, o) = active_in_org(&m, org)?;
    let current = super::current(&m)?;
    let g = generation(&m, new_generation)?.clone();
    if g.dir == current.dir {
        return Err(Error::invalid(
            Input::Generation,
            format!("{} is already the current generation", g.dir),
        ));
    }
    let (pem, sha) = certificate_of(dir, &m, &g, Some(new_key))?;
    let spec = spec_of(&rec, &m.alias, pem.clone())?;
    let end = endpoint_of(&m, &rec, org, o.is_sandbox)?;
    let job = job(dir, org, waiting);
    let new = deploy_and_prove(
        &job,
        rec,
        &spec,
        Target {
            generation: &g.dir,
            cert_pem: pem,
            cert_sha256: sha,
            key: new_key,
            activate: true,
        },
        &end,
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
    let spec = spec_of(&rec, &m.alias, pem.clone())?;
    let back = deploy_and_prove(
        &job,
        rec,
        &spec,
        Target {
            generation: &current.dir,
            cert_pem: pem,
            cert_sha256: sha,
            key: current_key,
            activate: false,
        },
        &end,
        report,
    )?;
    Ok(Rotated {
        new,
        rolled_back: Some(back),
        current: current.dir,
    })
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
        .find(|a| {
            &a.name == name
                && !a.active
                && !matches!(a.state, AppState::Retired | AppState::Removed)
        })
        .cloned())
}

/// `rotate --retire-previous`: disable the app used before the last switch onto a second
/// app (an External Client App's plugin policies `isEnabled` false; a connected app loses
/// certmint's certificate and certmint's pre-authorizations, and keeps everyone else's),
/// read it back, then, when `previous_key` is given, wait until a mint through it is
/// refused. Never the active app.
pub fn retire_previous(
    dir: &Path,
    org: &OrgClient<'_>,
    previous_key: Option<&RsaKey>,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Retired> {
    let m = workdir::load(dir)?;
    let (active, o) = active_in_org(&m, org)?;
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
    let mut spec = spec_of(&prev, &m.alias, pem)?;
    spec.enabled = false;
    let mut notes = Vec::new();
    let app = read_app(org, &prev, &mut notes)?;
    if matches!(app, InOrg::Missing) {
        prev.state = AppState::Retired;
        save_record(dir, &prev, None)?;
        report.step(&format!(
            "the org no longer has the {} `{}`",
            prev.kind.describe(),
            prev.name
        ));
        return Ok(Retired::Done {
            app: prev,
            refused: None,
            confirmation: Confirmation::Confirmed("deleted from the org".into()),
        });
    }
    let plan = plan_for(&spec, &app)?;
    let job = job(dir, org, waiting);
    match job.deploy(&mut prev, &plan, report)? {
        Deployed::Running(id) => return Ok(Retired::DeployRunning { app: prev, id }),
        Deployed::Failed {
            id,
            status,
            failures,
        } => {
            return Ok(Retired::DeployFailed {
                app: prev,
                id,
                status,
                failures,
            });
        }
        Deployed::Succeeded | Deployed::Nothing => {}
    }
    report.step(&format!(
        "retired the {} `{}`: {} (delete it in Setup when no one needs its record)",
        prev.kind.describe(),
        prev.name,
        match prev.kind {
            AppKind::ExternalClientApp => "disabled in the org",
            AppKind::ConnectedApp =>
                "certmint's certificate and pre-authorizations removed from it",
        }
    ));
    let confirmation = deploy::confirm(
        org,
        &prev,
        Expect {
            certificate: None,
            permission_set: None,
            permission_set_id: None,
            enabled: (prev.kind == AppKind::ExternalClientApp).then_some(false),
        },
    )?;
    // Recorded retired once a refused token proves it (or when no key can check): until
    // then a run of the same command finds it again and goes on checking.
    let retired = |mut prev: AppRecord| -> Result<AppRecord> {
        prev.state = AppState::Retired;
        save_record(dir, &prev, None)?;
        Ok(prev)
    };
    let Some(key) = previous_key else {
        return Ok(Retired::Done {
            app: retired(prev)?,
            refused: None,
            confirmation,
        });
    };
    let end = endpoint_of(&m, &prev, org, o.is_sandbox)?;
    let prover = Prover::with_audience(
        org.http(),
        end.login.clone(),
        end.audience.clone(),
        key,
        &prev.consumer_key,
        &prev.username,
    )?;
    let deadline = Instant::now() + waiting.wait;
    let mut backoff = waiting.backoff;
    loop {
        if let Attempt::Refused(_) = prover.attempt()? {
            return Ok(Retired::Done {
                app: retired(prev)?,
                refused: Some(true),
                confirmation,
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Retired::Done {
                app: prev,
                refused: Some(false),
                confirmation,
            });
        }
        report.progress("the retired app still issues tokens; the change may still be propagating");
        sleep(
            report,
            backoff.pause(left),
            deadline,
            "waiting for the retired app to refuse tokens",
        );
    }
}
