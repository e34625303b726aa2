//! The org side of a JWT bearer integration, through the Metadata API: `certmint
//! connect` and the yearly rotation's `--deploy`.
//!
//! From a certmint directory (its current certificate, alias and integration user) and an
//! admin session, [`connect`] creates an External Client App (or updates an existing
//! connected app) with the certificate, a consumer key certmint chose, admin approval and a
//! permission set (created when missing) that pre-authorizes the integration user, assigns
//! the permission set, deploys through the REST Metadata API, and proves the app by minting
//! a token with the directory's key until the change has propagated. What it made is
//! recorded in the manifest ([`crate::manifest::AppRecord`]): `mint --dir` then needs no
//! `--client-id`, a second run that finds the app matching changes nothing, an interrupted
//! run resumes, and a run against another org or app is refused unless asked for.
//!
//! The year after, [`rotation`] deploys a renewed certificate ([`rotation::redeploy`]),
//! a rotated key's certificate with a way back ([`rotation::rotate`]), or a second app for
//! a switch without downtime ([`rotation::second_app`], [`rotation::retire_previous`]).
//!
//! The parts: [`plan`] (the components, built with [`crate::wire::metadata`]), [`org`]
//! (the admin session and the REST and Metadata API calls), [`sf`] (sessions from the
//! Salesforce CLI), [`verify`] (minting with backoff), [`explain`] (deploy failures and
//! REST errors with their fixes). Nothing here prints: progress and findings go to a
//! [`Report`], which the CLI shows.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppRecord, AppState, Generation, Manifest, Role};
use crate::token_endpoint::LoginUrl;
use crate::wire::metadata::{DeployOptions, DeployResult, DeployStatus, OauthScope};
use crate::{Error, Result, workdir};

pub mod explain;
pub mod org;
pub mod plan;
pub mod rotation;
pub mod sf;
pub mod verify;

pub use explain::ComponentFailure;
pub use org::{AdminSession, OrgClient};
pub use plan::{AppSpec, Plan};
pub use verify::{Attempt, Backoff, Proof};

/// Where `connect` tells what it does. Nothing in the library prints.
pub trait Report {
    /// A change made or a fact found (the CLI shows it unless `--quiet`).
    fn step(&mut self, text: &str);
    /// Progress while waiting for a deploy or for propagation (the CLI shows it on a
    /// terminal only).
    fn progress(&mut self, text: &str);
}

/// A [`Report`] that keeps nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Report for Silent {
    fn step(&mut self, _: &str) {}
    fn progress(&mut self, _: &str) {}
}

/// Which permission set pre-authorizes the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PermissionSetChoice {
    /// The one recorded, else one named after the app (created when missing).
    #[default]
    Default,
    /// This one (created when missing).
    Named(String),
    /// None: pre-authorize profiles only (`--profile`).
    None,
}

/// What a `connect` run is asked to do.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The integration user (default: the one recorded by `init`).
    pub username: Option<String>,
    /// The app's API name (default: the recorded app's, else the directory's alias).
    pub app_name: Option<String>,
    /// Update this existing connected app instead of creating an External Client App.
    pub connected_app: Option<String>,
    /// The existing connected app's consumer key (default: the recorded client id).
    pub client_id: Option<String>,
    /// OAuth scopes (default: the recorded ones, else `Api` and `RefreshToken`).
    pub scopes: Option<Vec<OauthScope>>,
    /// Profiles to pre-authorize (default: the recorded ones).
    pub profiles: Vec<String>,
    /// The permission set.
    pub permission_set: PermissionSetChoice,
    /// The app's label (default: its name).
    pub label: Option<String>,
    /// Its contact email (default: the admin's email, else the username).
    pub contact_email: Option<String>,
    /// Its callback URL (default: a placeholder).
    pub callback_url: Option<String>,
    /// Where to mint (default: the recorded login URL, else the instance URL).
    pub login_url: Option<String>,
    /// Connect to another org or app than the one recorded.
    pub reconnect: bool,
    /// Plan (and save) only: send nothing to the org.
    pub dry_run: bool,
    /// How long to wait for a deploy and then for a token.
    pub wait: Duration,
    /// The pauses between attempts.
    pub backoff: Backoff,
    /// Write the deploy's files there (`--save-metadata DIR`), replacing files when true.
    pub save_metadata: Option<(PathBuf, bool)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            username: None,
            app_name: None,
            connected_app: None,
            client_id: None,
            scopes: None,
            profiles: Vec::new(),
            permission_set: PermissionSetChoice::Default,
            label: None,
            contact_email: None,
            callback_url: None,
            login_url: None,
            reconnect: false,
            dry_run: false,
            wait: DEFAULT_WAIT,
            backoff: Backoff::default(),
            save_metadata: None,
        }
    }
}

/// The default `--wait`: ten minutes (third parties report 2 to 10 minutes of propagation).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(600);

/// How a run ended.
#[derive(Debug)]
pub enum Status {
    /// The app in the org matched and a token was minted through it: nothing changed.
    Unchanged,
    /// Deployed (or resumed) and proven by a token.
    Connected {
        /// Attempts until the token came.
        attempts: u32,
        /// Time from the deploy's end to the token.
        after: Duration,
    },
    /// `--dry-run`: the plan, recorded and maybe saved; nothing sent to the org.
    Planned,
    /// The org refused the deploy: nothing changed there.
    DeployFailed {
        /// The deploy's id.
        id: String,
        /// Its final status.
        status: DeployStatus,
        /// Each failure, explained.
        failures: Vec<ComponentFailure>,
    },
    /// The deploy did not finish within the wait; a second run resumes polling it.
    DeployRunning {
        /// The deploy's id.
        id: String,
    },
    /// Deployed, but no token within the wait; a second run resumes waiting.
    NotYetWorking {
        /// Attempts made.
        attempts: u32,
        /// The last one's outcome.
        last: Attempt,
    },
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The app as recorded now.
    pub app: AppRecord,
    /// Where tokens are minted.
    pub login_url: String,
    /// The generation whose certificate is on the app.
    pub generation: String,
    /// Files written by `--save-metadata`.
    pub saved: Vec<PathBuf>,
    /// The deploy's files (`package.xml` first), for `--dry-run` to show.
    pub files: Vec<String>,
}

/// Same org: the first 15 characters of the ids (18-character ids add a case suffix).
pub fn same_org(a: &str, b: &str) -> bool {
    let cut = |s: &str| s.chars().take(15).collect::<String>();
    !a.is_empty() && !b.is_empty() && cut(a) == cut(b)
}

fn now() -> String {
    crate::text::rfc3339(crate::x509::now_seconds())
}

/// Save `rec` in the manifest of `dir`: it replaces the record of the same app in the
/// same org (or a record of that app not yet tied to an org), else it is added. With
/// `active`, it becomes the app `mint --dir` uses: the others are made inactive and the
/// client id, username and (when none is recorded) login URL are set for `mint`.
pub(crate) fn save_record(dir: &Path, rec: &AppRecord, active: Option<&str>) -> Result<Manifest> {
    workdir::update(dir, |m| {
        put_record(m, rec, active);
        Ok(())
    })
}

pub(crate) fn put_record(m: &mut Manifest, rec: &AppRecord, active: Option<&str>) {
    let mut rec = rec.clone();
    rec.updated = now();
    let same = |a: &AppRecord| {
        a.name == rec.name
            && a.kind == rec.kind
            && (a.org_id.is_empty() || rec.org_id.is_empty() || same_org(&a.org_id, &rec.org_id))
    };
    if let Some(login) = active {
        for a in &mut m.apps {
            a.active = false;
        }
        rec.active = true;
        m.salesforce.client_id = Some(rec.consumer_key.clone());
        m.salesforce.username = Some(rec.username.clone());
        if !login.is_empty() {
            m.salesforce.login_url = Some(login.to_owned());
        }
    }
    match m.apps.iter().position(same) {
        Some(i) => m.apps[i] = rec,
        None => m.apps.push(rec),
    }
}

/// The current generation, complete.
pub(crate) fn current(m: &Manifest) -> Result<Generation> {
    if let Some(p) = m.pending() {
        return Err(Error::invalid(
            Input::Directory,
            format!(
                "generation {} was interrupted; finish it first with `certmint {}` on this directory",
                p.dir,
                p.origin.command()
            ),
        ));
    }
    m.current_generation().cloned().ok_or_else(|| {
        Error::invalid(
            Input::Directory,
            "no complete generation yet; run `certmint init` on it first",
        )
    })
}

/// A generation's certificate: its PEM text for the app and its SHA-256 fingerprint,
/// checked against `key` when given.
pub(crate) fn certificate_of(
    dir: &Path,
    m: &Manifest,
    g: &Generation,
    key: Option<&RsaKey>,
) -> Result<(String, String)> {
    let path = workdir::file_path(dir, m, g, Role::Certificate);
    let bytes = crate::readfile::read(&path)?;
    let info = crate::x509::parse(&bytes)?;
    if let Some(k) = key
        && !k.matches_spki(&info.spki)
    {
        return Err(Error::KeyMismatch(Input::Certificate));
    }
    Ok((plan::certificate_text(&bytes)?, info.sha256))
}

/// The deploy options certmint uses: all or nothing, one package, warnings not ignored,
/// no test level (a metadata-only deploy runs no tests, and `NoTestRun` is refused in
/// production).
pub fn deploy_options() -> DeployOptions {
    DeployOptions {
        rollback_on_error: Some(true),
        single_package: Some(true),
        ignore_warnings: Some(false),
        ..DeployOptions::default()
    }
}

/// How a deploy went.
#[derive(Debug)]
pub(crate) enum Deployed {
    /// Finished.
    Done(Box<DeployResult>),
    /// Still running when the wait ran out.
    Running(String),
}

/// Poll deploy `id` until it is done or `wait` is over (at least 60 s: a deploy is not a
/// propagation), 0.5 s doubling to 5 s between polls.
pub(crate) fn poll(
    org: &OrgClient<'_>,
    id: &str,
    wait: Duration,
    report: &mut dyn Report,
) -> Result<Deployed> {
    let deadline = Instant::now() + wait.max(Duration::from_secs(60));
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    let mut transient = 0;
    loop {
        let r = match org.deploy_status(id) {
            Ok(r) => r,
            Err(e) if org::is_transient(&e) && transient < 5 => {
                transient += 1;
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            Err(e) => return Err(e),
        };
        if r.done || r.status.is_done() {
            return Ok(Deployed::Done(Box::new(r)));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Deployed::Running(id.to_owned()));
        }
        report.progress(&format!(
            "deploy {id}: {:?}, {} of {} components",
            r.status, r.number_components_deployed, r.number_components_total
        ));
        std::thread::sleep(backoff.pause(left));
    }
}

/// Start a deploy of `plan` and wait for it; the record goes to `deploying` with its id
/// first (so an interruption resumes polling).
pub(crate) fn deploy_and_wait(
    dir: &Path,
    org: &OrgClient<'_>,
    plan: &Plan,
    rec: &mut AppRecord,
    wait: Duration,
    report: &mut dyn Report,
) -> Result<Deployed> {
    let zip = plan.zip()?;
    let resp = org.deploy(&zip, &deploy_options())?;
    rec.state = AppState::Deploying;
    rec.deploy_id = Some(resp.id.clone());
    save_record(dir, rec, None)?;
    report.step(&format!(
        "deploying {} components to {} (deploy {})",
        plan.components.len(),
        org.session().instance_url(),
        resp.id
    ));
    poll(org, &resp.id, wait, report)
}

/// The login URL tokens are minted at: the one asked for, else the recorded one, else
/// the org's instance URL.
pub(crate) fn login_url(
    settings_login: Option<&str>,
    m: &Manifest,
    org: Option<&OrgClient<'_>>,
) -> Result<LoginUrl> {
    let text = settings_login
        .map(str::to_owned)
        .or_else(|| m.salesforce.login_url.clone())
        .or_else(|| org.map(|o| o.session().instance_url().to_owned()))
        .unwrap_or_else(|| "login".to_owned());
    LoginUrl::parse(&text)
}

/// Connect the directory `dir` to the org of `org` (or, with `settings.dry_run` and no
/// session, plan only): see the module documentation. `key` is the current generation's
/// key, which proves the app.
pub fn connect(
    dir: &Path,
    settings: &Settings,
    org: Option<&OrgClient<'_>>,
    key: &RsaKey,
    report: &mut dyn Report,
) -> Result<Outcome> {
    let m = workdir::load(dir)?;
    let g = current(&m)?;
    let (cert_pem, cert_sha256) = certificate_of(dir, &m, &g, Some(key))?;
    let username = settings
        .username
        .clone()
        .or_else(|| m.salesforce.username.clone())
        .ok_or_else(|| {
            Error::invalid(
                Input::User,
                "no integration user: give --username (init records it with --username)",
            )
        })?;
    // The app a run continues: the active one, else the one an unfinished run left.
    let existing = m.active_app().cloned().or_else(|| {
        m.apps
            .iter()
            .rev()
            .find(|a| {
                !matches!(a.state, AppState::Retired | AppState::Verified) && a.replaces.is_none()
            })
            .cloned()
    });
    let kind = if settings.connected_app.is_some() {
        AppKind::ConnectedApp
    } else if settings.app_name.is_some() {
        AppKind::ExternalClientApp
    } else {
        existing
            .as_ref()
            .map_or(AppKind::ExternalClientApp, |a| a.kind)
    };
    let name = settings
        .connected_app
        .clone()
        .or_else(|| settings.app_name.clone())
        .or_else(|| existing.as_ref().map(|a| a.name.clone()))
        .unwrap_or_else(|| plan::app_name_from_alias(&m.alias));
    plan::check_app_name(&name)?;

    let org_info = org.map(org::OrgClient::organization).transpose()?;
    if let Some(o) = &org_info {
        report.step(&format!(
            "org {} ({}){}, as {}",
            crate::text::escape(&o.name),
            o.id,
            if o.is_sandbox { ", a sandbox" } else { "" },
            org.map(|c| c.session().source().to_owned())
                .unwrap_or_default()
        ));
    }
    let this_app = |a: &AppRecord| {
        a.name == name
            && a.kind == kind
            && (a.org_id.is_empty() || org_info.as_ref().is_none_or(|o| same_org(&a.org_id, &o.id)))
    };

    // The connected app must be this one, unless --reconnect.
    if let Some(rec) = m.active_app()
        && !this_app(rec)
        && !settings.reconnect
    {
        let now_org = org_info
            .as_ref()
            .map_or_else(|| "(no org)".to_owned(), |o| o.id.clone());
        return Err(Error::invalid(
            Input::Org,
            format!(
                "this directory is connected to the {} `{}` in org {} ({}); this run is for the {} `{}` in org {}: pass --reconnect to connect it there instead (the record of `{}` is kept, inactive)",
                rec.kind.describe(),
                rec.name,
                if rec.org_id.is_empty() {
                    "(not yet known)"
                } else {
                    &rec.org_id
                },
                if rec.instance_url.is_empty() {
                    "?"
                } else {
                    &rec.instance_url
                },
                kind.describe(),
                name,
                now_org,
                rec.name
            ),
        ));
    }
    // A record of this very app in this very org is continued (its consumer key, its
    // state); otherwise the app is new.
    let rec0 = m
        .apps
        .iter()
        .rev()
        .find(|a| this_app(a) && a.state != AppState::Retired)
        .cloned();

    let consumer_key = match kind {
        AppKind::ConnectedApp => settings
            .client_id
            .clone()
            .or_else(|| rec0.as_ref().map(|r| r.consumer_key.clone()))
            // The client id init recorded, unless it is another app's that connect made.
            .or_else(|| {
                m.active_app()
                    .is_none()
                    .then(|| m.salesforce.client_id.clone())
                    .flatten()
            })
            .ok_or_else(|| {
                Error::invalid(
                    Input::App,
                    "an existing connected app keeps its consumer key, which certmint cannot read: give it with --client-id (Setup > App Manager > View > Manage Consumer Details)",
                )
            })?,
        AppKind::ExternalClientApp => match &rec0 {
            Some(r) => r.consumer_key.clone(),
            None => plan::new_consumer_key()?,
        },
    };
    // The login URL recorded belongs to the connected app's org: not to another one.
    let login = match m.active_app() {
        Some(a) if !this_app(a) => {
            let mut other = m.clone();
            other.salesforce.login_url = None;
            login_url(settings.login_url.as_deref(), &other, org)?
        }
        _ => login_url(settings.login_url.as_deref(), &m, org)?,
    };
    // A sandbox on a classic instance host logs in through test.salesforce.com.
    let login = match &org_info {
        Some(o)
            if o.is_sandbox
                && settings.login_url.is_none()
                && m.salesforce.login_url.is_none()
                && login.kind() == crate::token_endpoint::LoginKind::MyDomain =>
        {
            LoginUrl::parse(crate::token_endpoint::SANDBOX)?
        }
        _ => login,
    };
    let prover = match org {
        Some(o) if !settings.dry_run => Some(verify::Prover::new(
            o.http(),
            login.clone(),
            key,
            &consumer_key,
            &username,
        )?),
        _ => None,
    };
    // Does the recorded app work now? Then it exists, and its consumer key is not sent
    // again (Salesforce sets it only at creation). An app that does not work may have
    // been deleted: an External Client App is then deployed with its recorded key, so
    // that it is created with it again.
    let deployed_before = rec0
        .as_ref()
        .is_some_and(|r| matches!(r.state, AppState::Deployed | AppState::Verified));
    let works_now = match &prover {
        Some(p) if deployed_before => matches!(p.attempt()?, Attempt::Granted(_)),
        _ => false,
    };
    let send_consumer_key =
        kind == AppKind::ExternalClientApp && !works_now && !(settings.dry_run && deployed_before);

    let permission_set = match &settings.permission_set {
        PermissionSetChoice::Default => Some(
            rec0.as_ref()
                .and_then(|r| r.permission_set.clone())
                .unwrap_or_else(|| plan::app_name_from_alias(&m.alias)),
        ),
        PermissionSetChoice::Named(n) => {
            plan::check_app_name(n)?;
            Some(n.clone())
        }
        PermissionSetChoice::None => None,
    };
    let profiles = if settings.profiles.is_empty() {
        rec0.as_ref()
            .map(|r| r.profiles.clone())
            .unwrap_or_default()
    } else {
        settings.profiles.clone()
    };
    if permission_set.is_none() && profiles.is_empty() {
        return Err(Error::invalid(
            Input::App,
            "nobody would be pre-authorized on the app: keep the permission set or give --profile NAME",
        ));
    }
    let scopes = match (&settings.scopes, &rec0) {
        (Some(s), _) => s.clone(),
        (None, Some(r)) if !r.scopes.is_empty() => r
            .scopes
            .iter()
            .map(|s| plan::parse_scope(s))
            .collect::<Result<Vec<_>>>()?,
        _ => plan::DEFAULT_SCOPES.to_vec(),
    };

    // The org's side: the user must exist; the permission set may.
    let mut user_id = None;
    let mut permission_set_id = None;
    let mut admin_email = None;
    if let Some(org) = org {
        let u = org.user(&username)?.ok_or_else(|| {
            Error::invalid(
                Input::User,
                format!(
                    "the org has no user `{}`: check --username (Setup > Users shows usernames)",
                    crate::text::escape(&username)
                ),
            )
        })?;
        if !u.active {
            return Err(Error::invalid(
                Input::User,
                format!(
                    "the user `{}` is inactive: activate it in Setup > Users first",
                    crate::text::escape(&username)
                ),
            ));
        }
        user_id = Some(u.id);
        if let Some(ps) = &permission_set {
            permission_set_id = org.permission_set(ps)?;
        }
        if settings.contact_email.is_none() && rec0.is_none() {
            admin_email = org.userinfo().ok().and_then(|i| i.email);
        }
    }
    let create_permission_set = permission_set.is_some() && permission_set_id.is_none();
    let pick = |given: &Option<String>, recorded: Option<&String>, default: String| {
        given
            .clone()
            .or_else(|| recorded.filter(|s| !s.is_empty()).cloned())
            .unwrap_or(default)
    };
    let spec = AppSpec {
        kind,
        name: name.clone(),
        label: pick(
            &settings.label,
            rec0.as_ref().map(|r| &r.label),
            name.clone(),
        ),
        contact_email: pick(
            &settings.contact_email,
            rec0.as_ref().map(|r| &r.contact_email),
            admin_email.unwrap_or_else(|| username.clone()),
        ),
        callback_url: pick(
            &settings.callback_url,
            rec0.as_ref().map(|r| &r.callback_url),
            plan::PLACEHOLDER_CALLBACK_URL.to_owned(),
        ),
        description: format!(
            "JWT bearer integration {} (certmint directory alias {}); made by certmint",
            name, m.alias
        ),
        consumer_key: consumer_key.clone(),
        send_consumer_key,
        certificate_pem: cert_pem,
        scopes: scopes.clone(),
        permission_set: permission_set.clone(),
        create_permission_set,
        profiles: profiles.clone(),
        enabled: true,
    };
    let plan = spec.plan()?;
    let mut saved = Vec::new();
    if let Some((to, force)) = &settings.save_metadata {
        saved = plan.save(to, *force)?;
        report.step(&format!(
            "wrote the {} files of the deploy to {}",
            saved.len(),
            crate::text::escape(&to.display().to_string())
        ));
    }
    let files: Vec<String> = plan.files()?.into_iter().map(|(p, _)| p).collect();

    let mut rec = rec0.clone().unwrap_or_else(|| AppRecord {
        name: name.clone(),
        kind,
        consumer_key: consumer_key.clone(),
        created: kind == AppKind::ExternalClientApp,
        org_id: String::new(),
        instance_url: String::new(),
        username: username.clone(),
        permission_set: None,
        profiles: Vec::new(),
        scopes: Vec::new(),
        label: String::new(),
        contact_email: String::new(),
        callback_url: String::new(),
        state: AppState::Planned,
        replaces: None,
        active: false,
        generation: None,
        certificate_sha256: None,
        plan_sha256: None,
        deploy_id: None,
        updated: String::new(),
    });
    rec.consumer_key = consumer_key.clone();
    rec.username = username.clone();
    rec.permission_set = permission_set.clone();
    rec.profiles = profiles.clone();
    rec.scopes = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    rec.label = spec.label.clone();
    rec.contact_email = spec.contact_email.clone();
    rec.callback_url = spec.callback_url.clone();
    if let Some(o) = &org_info {
        rec.org_id = o.id.clone();
    }
    if let Some(o) = org {
        rec.instance_url = o.session().instance_url().to_owned();
    }
    let outcome = |status, app: AppRecord, saved| Outcome {
        status,
        app,
        login_url: login.as_str().to_owned(),
        generation: g.dir.clone(),
        saved,
        files: files.clone(),
    };

    if settings.dry_run {
        // Record the consumer key the saved files carry, so that deploying them and a
        // later connect agree; a deployed app's record is left as it is.
        if !rec0
            .as_ref()
            .is_some_and(|r| !matches!(r.state, AppState::Planned))
        {
            rec.state = AppState::Planned;
            save_record(dir, &rec, None)?;
        }
        return Ok(outcome(Status::Planned, rec, saved));
    }
    let Some(org) = org else {
        return Err(Error::internal("connect without an admin session"));
    };
    let user_id = user_id.unwrap_or_default();
    let Some(prover) = prover else {
        return Err(Error::internal("connect without a prover"));
    };

    // Already connected and unchanged: prove it once, and leave the org alone.
    let matches = rec0.as_ref().is_some_and(|r| {
        r.state == AppState::Verified
            && r.plan_sha256.as_deref() == Some(plan.digest.as_str())
            && r.generation.as_deref() == Some(g.dir.as_str())
    });
    if matches && !create_permission_set && works_now {
        let assigned = match &permission_set_id {
            Some(ps) => ensure_assigned(
                org,
                ps,
                &user_id,
                permission_set.as_deref(),
                &username,
                report,
            )?,
            None => false,
        };
        save_record(dir, &rec, Some(login.as_str()))?;
        let status = if assigned {
            Status::Connected {
                attempts: 1,
                after: Duration::ZERO,
            }
        } else {
            Status::Unchanged
        };
        return Ok(outcome(status, rec, saved));
    }
    if !works_now && rec0.as_ref().is_some_and(|r| r.state == AppState::Verified) {
        report.step("the app is recorded as connected, but a token could not be minted through it: deploying it again, with its consumer key");
    }

    // Deploy, or resume the deploy an interrupted run started.
    let resume = rec0.as_ref().and_then(|r| {
        (r.state == AppState::Deploying && r.plan_sha256.as_deref() == Some(plan.digest.as_str()))
            .then(|| r.deploy_id.clone())
            .flatten()
    });
    let deployed_already = rec0.as_ref().is_some_and(|r| {
        r.state == AppState::Deployed
            && r.plan_sha256.as_deref() == Some(plan.digest.as_str())
            && r.generation.as_deref() == Some(g.dir.as_str())
    });
    rec.plan_sha256 = Some(plan.digest.clone());
    rec.generation = Some(g.dir.clone());
    rec.certificate_sha256 = Some(cert_sha256.clone());
    if !deployed_already {
        let done = match resume {
            Some(id) => {
                report.step(&format!("resuming deploy {id}"));
                poll(org, &id, settings.wait, report)?
            }
            None => {
                rec.state = AppState::Planned;
                rec.deploy_id = None;
                save_record(dir, &rec, None)?;
                deploy_and_wait(dir, org, &plan, &mut rec, settings.wait, report)?
            }
        };
        let result = match done {
            Deployed::Running(id) => return Ok(outcome(Status::DeployRunning { id }, rec, saved)),
            Deployed::Done(r) => r,
        };
        if result.status != DeployStatus::Succeeded {
            rec.state = AppState::Planned;
            save_record(dir, &rec, None)?;
            let failures = explain::failures(&result);
            return Ok(outcome(
                Status::DeployFailed {
                    id: result.id.clone(),
                    status: result.status,
                    failures,
                },
                rec,
                saved,
            ));
        }
        rec.state = AppState::Deployed;
        save_record(dir, &rec, None)?;
        report.step(&format!(
            "deployed the {} `{}`{}",
            kind.describe(),
            name,
            if create_permission_set {
                format!(
                    " and the permission set `{}`",
                    permission_set.as_deref().unwrap_or("")
                )
            } else {
                String::new()
            }
        ));
    } else {
        report.step("the deploy had succeeded: waiting for the app to work");
    }

    if let Some(ps) = &permission_set {
        let id = match permission_set_id {
            Some(id) => id,
            None => org.permission_set(ps)?.ok_or_else(|| {
                Error::invalid(
                    Input::PermissionSet,
                    format!("the permission set `{ps}` is not in the org after the deploy"),
                )
            })?,
        };
        ensure_assigned(org, &id, &user_id, Some(ps), &username, report)?;
    }

    report.step(&format!(
        "minting a token as {} through the app until it works (up to {}s)",
        crate::text::escape(&username),
        settings.wait.as_secs()
    ));
    match prover.until(settings.wait, settings.backoff, report)? {
        Proof::Works {
            attempts, after, ..
        } => {
            rec.state = AppState::Verified;
            save_record(dir, &rec, Some(login.as_str()))?;
            Ok(outcome(Status::Connected { attempts, after }, rec, saved))
        }
        Proof::TimedOut { attempts, last } => Ok(outcome(
            Status::NotYetWorking { attempts, last },
            rec,
            saved,
        )),
    }
}

/// Assign permission set `ps` to the user unless it is; true when this run assigned it.
fn ensure_assigned(
    org: &OrgClient<'_>,
    ps: &str,
    user: &str,
    ps_name: Option<&str>,
    username: &str,
    report: &mut dyn Report,
) -> Result<bool> {
    if org.is_assigned(ps, user)? {
        return Ok(false);
    }
    match org.assign(ps, user)? {
        org::Created::New(_) => {
            report.step(&format!(
                "assigned the permission set `{}` to {}",
                ps_name.unwrap_or(ps),
                crate::text::escape(username)
            ));
            Ok(true)
        }
        org::Created::Duplicate => Ok(false),
    }
}
