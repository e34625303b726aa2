//! The org side of a JWT bearer integration, through the Metadata API: `certmint
//! connect`, the yearly rotation's `--deploy`, and `certmint disconnect`.
//!
//! From a certmint directory (its current certificate, alias and integration user) and an
//! admin session, [`connect`] reads what the org holds ([`discover`]): the admin's
//! permissions (checked before anything changes), the integration user, the permission
//! set, and the app, an External Client App with its parts under the names the org gave
//! them, or a connected app, read whole. It then plans ([`plan`]) a new External Client
//! App (its parts named as Salesforce names a metadata-created app's, its consumer key
//! chosen by certmint), or the changes to the app that exists (certificate, admin
//! approval, pre-authorization; everything else as it was; its consumer key never sent).
//! The phases that follow ([`deploy`]) are recorded in the manifest one by one: the
//! permission set created and assigned first, then the deploy (all or nothing), then the
//! app read back to confirm it, then a token minted through it at the org's My Domain
//! until the change has propagated. What it made is recorded in the manifest
//! ([`crate::manifest::AppRecord`]): `mint --dir` then needs no `--client-id`, a second run
//! that finds the app matching changes nothing, an interrupted run resumes, and a run
//! against another org or app is refused unless asked for.
//!
//! The year after, [`rotation`] puts a renewed or rotated certificate on the app (with a
//! way back), or a second app for a switch without downtime, then retires the first.
//! [`disconnect`] removes what certmint made.
//!
//! Where the org's behaviour is not documented, the choices are those that work under
//! every reading of the evidence (`docs/emulator.md`, "Fidelity to a real org"). Nothing
//! here prints: progress and findings go to a [`Report`], which the CLI shows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppRecord, AppState, Generation, Manifest, Role};
use crate::token_endpoint::LoginUrl;
use crate::wire::metadata::{DeployStatus, EcaPartNames, MetadataType, OauthScope};
use crate::{Error, Result, workdir};

pub mod deploy;
pub mod disconnect;
pub mod discover;
pub mod explain;
pub mod org;
pub mod plan;
pub mod rotation;
pub mod sf;
pub mod verify;

mod run;

pub use deploy::{Confirmation, deploy_options};
pub use explain::ComponentFailure;
pub use org::{AdminSession, OrgClient};
pub use plan::{AppSpec, Change, Plan};
pub use verify::{Attempt, Backoff, Proof};

/// Where `connect` tells what it does. Nothing in the library prints.
pub trait Report {
    /// A change made or a fact found (the CLI shows it unless `--quiet`).
    fn step(&mut self, text: &str);
    /// Progress while waiting for a deploy or for propagation: one line per attempt.
    fn progress(&mut self, text: &str);
    /// Called every second of a long wait with what is awaited and the time left: a
    /// terminal shows a countdown, a log a line at least every 30 seconds.
    fn tick(&mut self, _what: &str, _left: Duration) {}
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
    /// Update this existing connected app instead of an External Client App.
    pub connected_app: Option<String>,
    /// The existing app's consumer key, when the org does not show it to the admin.
    pub client_id: Option<String>,
    /// OAuth scopes (default: a new app's `Api` and `RefreshToken`; an existing app's own).
    pub scopes: Option<Vec<OauthScope>>,
    /// Profiles to pre-authorize (default: the recorded ones).
    pub profiles: Vec<String>,
    /// The permission set.
    pub permission_set: PermissionSetChoice,
    /// The app's label (default: a new app's name; an existing app's own).
    pub label: Option<String>,
    /// Its contact email (default: the admin's email, else the username; an existing
    /// app's own).
    pub contact_email: Option<String>,
    /// Its callback URL (default: a placeholder; an existing app's own).
    pub callback_url: Option<String>,
    /// Where to mint (default: an External Client App's org My Domain; a connected app's
    /// recorded login URL, else the instance URL).
    pub login_url: Option<String>,
    /// Connect to another org or app than the one recorded.
    pub reconnect: bool,
    /// Plan (and save) only: send nothing to the org.
    pub dry_run: bool,
    /// Validate the whole plan with a check-only deploy: change nothing in the org.
    pub check_only: bool,
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
            check_only: false,
            wait: DEFAULT_WAIT,
            backoff: Backoff::default(),
            save_metadata: None,
        }
    }
}

/// The default `--wait`: 15 minutes, Salesforce's own figure ("Any change a developer
/// makes to the global settings file takes effect immediately and is distributed globally
/// within 15 minutes": Salesforce Help, "OAuth Plugin Enablement with Metadata API").
pub const DEFAULT_WAIT: Duration = Duration::from_secs(900);

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
    /// `--check-only`: the org validated the plan (or refused it); nothing changed.
    Checked {
        /// The check-only deploy (`None`: nothing to deploy, the org holds it all).
        id: Option<String>,
        /// Its final status.
        status: Option<DeployStatus>,
        /// Each failure, explained (none: the org accepts the plan).
        failures: Vec<ComponentFailure>,
    },
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
    /// The deploy succeeded, but the app read back from the org does not hold what was
    /// deployed.
    NotConfirmed {
        /// What differs.
        why: String,
    },
    /// Deployed, but no token within the wait; a second run resumes waiting.
    NotYetWorking {
        /// Attempts made.
        attempts: u32,
        /// The last one's outcome.
        last: Attempt,
    },
}

/// One component of a plan, for the user: what it is and what changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentChanges {
    /// Its type.
    pub kind: MetadataType,
    /// Its full name.
    pub name: String,
    /// True when the deploy creates it.
    pub created: bool,
    /// What changes, field by field (empty: it is not deployed).
    pub changes: Vec<Change>,
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
    /// The assertions' audience.
    pub audience: String,
    /// The generation whose certificate is on the app.
    pub generation: String,
    /// Files written by `--save-metadata`.
    pub saved: Vec<PathBuf>,
    /// The deploy's files (`package.xml` first), for `--dry-run` to show.
    pub files: Vec<String>,
    /// What the plan changes, component by component.
    pub changes: Vec<ComponentChanges>,
    /// What the run could not check, and other facts worth telling.
    pub notes: Vec<String>,
    /// The app read back from the org after the deploy.
    pub confirmation: Option<Confirmation>,
}

/// Where tokens are minted and the audience the assertions carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The login URL (token requests go to `<login>/services/oauth2/token`).
    pub login: LoginUrl,
    /// The `aud` claim.
    pub audience: String,
}

impl Endpoint {
    /// The login URL with its own default audience.
    pub fn of(login: LoginUrl) -> Self {
        Endpoint {
            audience: login.default_audience(),
            login,
        }
    }
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
/// client id, username, login URL and audience are set for `mint`.
pub(crate) fn save_record(
    dir: &Path,
    rec: &AppRecord,
    active: Option<&Endpoint>,
) -> Result<Manifest> {
    workdir::update(dir, |m| {
        put_record(m, rec, active);
        Ok(())
    })
}

pub(crate) fn put_record(m: &mut Manifest, rec: &AppRecord, active: Option<&Endpoint>) {
    let mut rec = rec.clone();
    rec.updated = now();
    let same = |a: &AppRecord| {
        a.name == rec.name
            && a.kind == rec.kind
            && (a.org_id.is_empty() || rec.org_id.is_empty() || same_org(&a.org_id, &rec.org_id))
    };
    if let Some(end) = active {
        for a in &mut m.apps {
            a.active = false;
        }
        rec.active = true;
        m.salesforce.client_id = Some(rec.consumer_key.clone());
        m.salesforce.username = Some(rec.username.clone());
        m.salesforce.login_url = Some(end.login.as_str().to_owned());
        m.salesforce.audience =
            (end.audience != end.login.default_audience()).then(|| end.audience.clone());
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

/// Where an app's tokens are minted (Salesforce's ECA JWT document posts to the org's My
/// Domain; users report `External client app is not installed in this org` from
/// login.salesforce.com and test.salesforce.com): for an External Client App the org's
/// instance URL, whatever login URL `init` recorded, with the audience `login` or `test`
/// (its own URL for a loopback emulator); for a connected app the login URL asked for,
/// else the one recorded, else the instance URL, a sandbox on a classic host through
/// test.salesforce.com. `asked` (`--login-url`) always wins.
pub fn endpoint(
    kind: AppKind,
    asked: Option<&str>,
    recorded: Option<&str>,
    instance: Option<&str>,
    sandbox: bool,
) -> Result<Endpoint> {
    if let Some(a) = asked {
        return Ok(Endpoint::of(LoginUrl::parse(a)?));
    }
    match (kind, instance) {
        (AppKind::ExternalClientApp, Some(i)) => {
            let login = LoginUrl::parse(i)?;
            let audience = if login.is_loopback() {
                login.default_audience()
            } else if sandbox {
                crate::token_endpoint::SANDBOX.to_owned()
            } else {
                crate::token_endpoint::PRODUCTION.to_owned()
            };
            Ok(Endpoint { login, audience })
        }
        _ => {
            let text = recorded.or(instance).unwrap_or("login");
            let login = LoginUrl::parse(text)?;
            if sandbox
                && recorded.is_none()
                && login.kind() == crate::token_endpoint::LoginKind::MyDomain
            {
                return Ok(Endpoint::of(LoginUrl::parse(
                    crate::token_endpoint::SANDBOX,
                )?));
            }
            Ok(Endpoint::of(login))
        }
    }
}

/// A record for a new app.
pub(crate) fn new_record(
    name: &str,
    kind: AppKind,
    consumer_key: &str,
    username: &str,
) -> AppRecord {
    AppRecord {
        name: name.to_owned(),
        kind,
        consumer_key: consumer_key.to_owned(),
        created: kind == AppKind::ExternalClientApp,
        org_id: String::new(),
        instance_url: String::new(),
        username: username.to_owned(),
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
        parts: None,
        permission_set_created: false,
        permission_set_assigned: false,
        admin_assignment: None,
        updated: String::new(),
    }
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
    run::connect(dir, settings, org, key, report)
}

/// The part names recorded or planned for an External Client App (none for a connected
/// app).
pub(crate) fn parts_of(rec: &AppRecord) -> Option<EcaPartNames> {
    (rec.kind == AppKind::ExternalClientApp).then(|| {
        rec.parts
            .clone()
            .unwrap_or_else(|| EcaPartNames::generated(&rec.name))
    })
}
