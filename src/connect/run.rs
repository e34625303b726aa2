//! `connect` itself: read the org, plan, then the phases of [`super::deploy`].

use std::path::Path;
use std::time::Duration;

use super::deploy::{self, Deployed, Expect, Job, Polled};
use super::discover::{self, ExistingEca, Read};
use super::plan::{self, AppSpec, Existing, Given, Plan};
use super::verify::{Attempt, Proof, Prover};
use super::{
    ComponentChanges, Confirmation, OrgClient, Outcome, PermissionSetChoice, Report, Settings,
    Status, certificate_of, current, endpoint, new_record, same_org, save_record,
};
use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppRecord, AppState};
use crate::wire::metadata::{EcaPartNames, Element};
use crate::{Error, Result, workdir};

/// What the org holds of the app this run is for.
enum Found {
    /// Nothing (a new External Client App).
    New,
    /// An External Client App.
    Eca(ExistingEca),
    /// A connected app.
    ConnectedApp(Element),
}

pub(super) fn connect(
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
    let continued = m.active_app().cloned().or_else(|| {
        m.apps
            .iter()
            .rev()
            .find(|a| {
                !matches!(
                    a.state,
                    AppState::Retired | AppState::Verified | AppState::Removed
                ) && a.replaces.is_none()
            })
            .cloned()
    });
    let kind = if settings.connected_app.is_some() {
        AppKind::ConnectedApp
    } else if settings.app_name.is_some() {
        AppKind::ExternalClientApp
    } else {
        continued
            .as_ref()
            .map_or(AppKind::ExternalClientApp, |a| a.kind)
    };
    let name = settings
        .connected_app
        .clone()
        .or_else(|| settings.app_name.clone())
        .or_else(|| continued.as_ref().map(|a| a.name.clone()))
        .unwrap_or_else(|| plan::app_name_from_alias(&m.alias));
    plan::check_app_name(&name)?;

    let side = org.map(|o| discover::org_side(o, &username)).transpose()?;
    if let (Some(o), Some(s)) = (org, &side) {
        report.step(&format!(
            "org {} ({}){}, as {}",
            crate::text::escape(&s.org.name),
            s.org.id,
            if s.org.is_sandbox { ", a sandbox" } else { "" },
            o.session().source()
        ));
    }
    let this_app = |a: &AppRecord| {
        a.name.eq_ignore_ascii_case(&name)
            && a.kind == kind
            && (a.org_id.is_empty() || side.as_ref().is_none_or(|s| same_org(&a.org_id, &s.org.id)))
    };
    // The connected app must be this one, unless --reconnect.
    if let Some(rec) = m.active_app()
        && !this_app(rec)
        && !settings.reconnect
    {
        let now_org = side
            .as_ref()
            .map_or_else(|| "(no org)".to_owned(), |s| s.org.id.clone());
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
    // state); otherwise the app is new to this directory.
    let rec0 = m
        .apps
        .iter()
        .rev()
        .find(|a| this_app(a) && !matches!(a.state, AppState::Retired | AppState::Removed))
        .cloned();

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
    let mut notes = Vec::new();

    // What the org holds of the app.
    let found = match org {
        None => match kind {
            AppKind::ExternalClientApp => Found::New,
            AppKind::ConnectedApp => Found::ConnectedApp(Element::new("ConnectedApp")),
        },
        Some(o) => match kind {
            AppKind::ExternalClientApp => {
                match discover::eca(o, &name, rec0.as_ref().and_then(|r| r.parts.as_ref()))? {
                    Read::Missing => Found::New,
                    Read::Found(ex) => {
                        report.step(&format!(
                            "the org has the External Client App `{}` (parts: {})",
                            ex.name,
                            shown_parts(&ex.parts)
                        ));
                        if !ex.complete {
                            notes.push(format!(
                                "some parts of the External Client App `{}` could not be read (the admin may lack View External Client Apps Consumer Secrets in Metadata): those are deployed with certmint's settings, replacing theirs; review them with --dry-run",
                                ex.name
                            ));
                        }
                        Found::Eca(ex)
                    }
                    Read::Unavailable(why) => match rec0.as_ref().and_then(|r| r.parts.clone()) {
                        Some(parts)
                            if matches!(
                                rec0.as_ref().map(|r| r.state),
                                Some(AppState::Deployed | AppState::Verified | AppState::Deploying)
                            ) =>
                        {
                            notes.push(format!(
                                "{why}; the app's recorded parts are deployed with certmint's settings"
                            ));
                            Found::Eca(ExistingEca {
                                name: name.clone(),
                                parts,
                                ..ExistingEca::default()
                            })
                        }
                        _ => {
                            notes.push(format!(
                                "{why}; planning it as a new app (a deploy over an existing one is refused by the org, and explained)"
                            ));
                            Found::New
                        }
                    },
                }
            }
            AppKind::ConnectedApp => match discover::connected_app(o, &name)? {
                Read::Found(el) => Found::ConnectedApp(el),
                Read::Missing => {
                    return Err(Error::invalid(
                        Input::App,
                        format!(
                            "the org has no connected app `{name}`, and orgs no longer let connected apps be created (Spring '26): drop --connected-app to create an External Client App, or name a connected app that exists (Setup > App Manager)"
                        ),
                    ));
                }
                Read::Unavailable(why) => {
                    return Err(Error::invalid(
                        Input::App,
                        format!(
                            "{why}; certmint changes only the certificate and the pre-authorization of a connected app it did not create, so it reads the app first, and does not rewrite one it cannot read (a deploy resets whatever it leaves out)"
                        ),
                    ));
                }
            },
        },
    };

    // The consumer key: an existing app's own (never sent); a new one's chosen here.
    let shown_key = |found: &Found| match found {
        Found::Eca(ex) => ex.consumer_key.clone(),
        Found::ConnectedApp(el) => el
            .text_at(&["oauthConfig", "consumerKey"])
            .filter(|k| !k.is_empty())
            .map(str::to_owned),
        Found::New => None,
    };
    let from_org = shown_key(&found);
    if let (Some(read), Some(given)) = (&from_org, &settings.client_id)
        && read != given
    {
        return Err(Error::invalid(
            Input::App,
            format!(
                "--client-id is not the consumer key of the {} `{name}` (the org shows another): leave --client-id out, or give that app's",
                kind.describe()
            ),
        ));
    }
    let recorded_key = rec0.as_ref().map(|r| r.consumer_key.clone());
    let exists = !matches!(found, Found::New);
    let consumer_key = match (&found, kind) {
        (Found::New, _) => match &rec0 {
            Some(r) => r.consumer_key.clone(),
            None => plan::new_consumer_key()?,
        },
        _ => from_org
            .or_else(|| settings.client_id.clone())
            .or(recorded_key)
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
                    format!(
                        "the {} `{name}` exists and keeps its consumer key, which the org does not show to this admin: give it with --client-id (Setup > {} > the app > Consumer Key)",
                        kind.describe(),
                        if kind == AppKind::ConnectedApp { "App Manager" } else { "External Client App Manager" }
                    ),
                )
            })?,
    };
    let scopes = match (&settings.scopes, &rec0) {
        (Some(s), _) => s.clone(),
        (None, Some(r)) if !r.scopes.is_empty() => r
            .scopes
            .iter()
            .map(|s| plan::parse_scope(s))
            .collect::<Result<Vec<_>>>()?,
        _ => plan::DEFAULT_SCOPES.to_vec(),
    };
    // The permission set, as the org has it.
    let ps_id = match (org, &permission_set) {
        (Some(o), Some(ps)) => o.permission_set(ps)?,
        _ => None,
    };
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
            side.as_ref()
                .and_then(|s| s.admin.email.clone())
                .unwrap_or_else(|| username.clone()),
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
        send_consumer_key: kind == AppKind::ExternalClientApp && !exists,
        certificate_pem: cert_pem.clone(),
        scopes: scopes.clone(),
        permission_set: permission_set.clone(),
        permission_set_id: ps_id.clone(),
        profiles: profiles.clone(),
        enabled: true,
        parts: EcaPartNames::generated(&name),
    };
    let given = Given {
        label: settings.label.is_some(),
        contact_email: settings.contact_email.is_some(),
        callback_url: settings.callback_url.is_some(),
        scopes: settings.scopes.is_some(),
    };
    let existing = match &found {
        Found::New => None,
        Found::Eca(ex) => Some(Existing::Eca(ex)),
        Found::ConnectedApp(el) if org.is_some() => Some(Existing::ConnectedApp(el)),
        Found::ConnectedApp(_) => None,
    };
    let plan = match existing {
        Some(e) => spec.plan_edit(e, given)?,
        None => spec.plan_new()?,
    };
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
    let changes = changes_of(&plan);

    let end = endpoint(
        kind,
        settings.login_url.as_deref(),
        // The login URL recorded belongs to the active app's org: not to another one.
        match m.active_app() {
            Some(a) if !this_app(a) => None,
            _ => m.salesforce.login_url.as_deref(),
        },
        org.map(|o| o.session().instance_url()),
        side.as_ref().is_some_and(|s| s.org.is_sandbox),
    )?;

    let mut rec = rec0
        .clone()
        .unwrap_or_else(|| new_record(&name, kind, &consumer_key, &username));
    rec.consumer_key = consumer_key.clone();
    rec.username = username.clone();
    rec.permission_set = permission_set.clone();
    rec.profiles = profiles.clone();
    rec.scopes = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    rec.label = spec.label.clone();
    rec.contact_email = spec.contact_email.clone();
    rec.callback_url = spec.callback_url.clone();
    if kind == AppKind::ExternalClientApp {
        rec.parts = Some(planned_parts(&plan, &found, &name));
    }
    if let (Some(s), Some(o)) = (&side, org) {
        rec.org_id = s.org.id.clone();
        rec.instance_url = o.session().instance_url().to_owned();
    }
    if exists && rec0.is_none() {
        rec.created = false;
    }
    let outcome = |status, app: AppRecord, saved, notes, confirmation| Outcome {
        status,
        app,
        login_url: end.login.as_str().to_owned(),
        audience: end.audience.clone(),
        generation: g.dir.clone(),
        saved,
        files: files.clone(),
        changes: changes.clone(),
        notes,
        confirmation,
    };

    let keep_planned = |rec: &AppRecord| -> Result<()> {
        // Record the consumer key the plan carries, so that deploying saved files and a
        // later connect agree; a deployed app's record is left as it is.
        if !rec0.as_ref().is_some_and(|r| r.state != AppState::Planned) {
            let mut r = rec.clone();
            r.state = AppState::Planned;
            save_record(dir, &r, None)?;
        }
        Ok(())
    };
    if settings.dry_run {
        keep_planned(&rec)?;
        return Ok(outcome(Status::Planned, rec, saved, notes, None));
    }
    let (Some(org), Some(side)) = (org, side) else {
        return Err(Error::internal("connect without an admin session"));
    };
    let job = Job {
        dir,
        org,
        wait: settings.wait,
        backoff: settings.backoff,
    };
    let user_id = side.user.id.clone();
    let assigned = match &ps_id {
        Some(id) => org.assignment(id, &user_id)?.is_some(),
        None => false,
    };
    // What the admin needs, checked before anything changes.
    discover::check_permissions(
        &side.admin,
        !plan.is_empty(),
        permission_set.is_some() && ps_id.is_none(),
        permission_set.is_some() && !assigned,
    )?;

    if settings.check_only {
        return check_only(
            &job,
            &spec,
            existing,
            given,
            &plan,
            ps_id.is_none(),
            &mut notes,
            report,
        )
        .map(|status| outcome(status, rec, saved, notes, None));
    }

    let prover = Prover::with_audience(
        org.http(),
        end.login.clone(),
        end.audience.clone(),
        key,
        &consumer_key,
        &username,
    )?;

    // Phase 1: the permission set, made and assigned before any deploy names it.
    let ps_id = match &permission_set {
        Some(ps) => Some(deploy::ensure_permission_set(
            &job, &mut rec, ps, &user_id, report,
        )?),
        None => None,
    };
    let ps_changed = ps_id.as_ref().is_some_and(|p| p.changed);
    let ps_id = ps_id.map(|p| p.id);
    // Already as planned in the org: prove it, and leave the org alone.
    let same_as_recorded = rec0.as_ref().is_some_and(|r| {
        r.plan_sha256.as_deref() == Some(plan.digest.as_str())
            && r.generation.as_deref() == Some(g.dir.as_str())
            && matches!(r.state, AppState::Verified | AppState::Deployed)
    });
    if plan.is_empty() || (same_as_recorded && !found_read(&found)) {
        if let Attempt::Granted(_) = prover.attempt()? {
            rec.state = AppState::Verified;
            rec.generation = Some(g.dir.clone());
            rec.certificate_sha256 = Some(cert_sha256.clone());
            save_record(dir, &rec, Some(&end))?;
            let status =
                if rec0.as_ref().is_some_and(|r| r.state == AppState::Verified) && !ps_changed {
                    Status::Unchanged
                } else {
                    Status::Connected {
                        attempts: 1,
                        after: Duration::ZERO,
                    }
                };
            return Ok(outcome(status, rec, saved, notes, None));
        }
        if !plan.is_empty() {
            report.step("the app is recorded as connected, but a token could not be minted through it: deploying it again");
        }
    }

    // Phase 2: the deploy.
    rec.generation = Some(g.dir.clone());
    rec.certificate_sha256 = Some(cert_sha256.clone());
    let deployed = deploy::deploy_holding_if_asked(
        &job,
        &mut rec,
        &plan,
        ps_id.as_deref().zip(permission_set.as_deref()),
        &side.admin.id,
        report,
    )?;
    match deployed {
        Deployed::Running(id) => {
            return Ok(outcome(
                Status::DeployRunning { id },
                rec,
                saved,
                notes,
                None,
            ));
        }
        Deployed::Failed {
            id,
            status,
            failures,
        } => {
            return Ok(outcome(
                Status::DeployFailed {
                    id,
                    status,
                    failures,
                },
                rec,
                saved,
                notes,
                None,
            ));
        }
        Deployed::Succeeded => report.step(&format!("deployed the {} `{}`", kind.describe(), name)),
        Deployed::Nothing => {
            report.step("the org already holds the app as planned: nothing to deploy")
        }
    }

    // Phase 3: the app read back.
    let confirmation = deploy::confirm(
        org,
        &rec,
        Expect {
            certificate: Some(&cert_pem),
            permission_set: permission_set.as_deref(),
            permission_set_id: ps_id.as_deref(),
            enabled: (kind == AppKind::ExternalClientApp).then_some(true),
        },
    )?;
    match &confirmation {
        Confirmation::Confirmed(what) => report.step(&format!("the org confirms the app: {what}")),
        Confirmation::Differs(why) => {
            return Ok(outcome(
                Status::NotConfirmed { why: why.clone() },
                rec,
                saved,
                notes,
                Some(confirmation.clone()),
            ));
        }
        Confirmation::Unavailable(why) => notes.push(format!(
            "could not read the app back to confirm it ({why}); the token below is the proof"
        )),
    }

    // Phase 4: the proof.
    let status = match job.prove(&prover, report)? {
        Proof::Works {
            attempts, after, ..
        } => {
            rec.state = AppState::Verified;
            save_record(dir, &rec, Some(&end))?;
            Status::Connected { attempts, after }
        }
        Proof::TimedOut { attempts, last } => Status::NotYetWorking { attempts, last },
    };
    Ok(outcome(status, rec, saved, notes, Some(confirmation)))
}

/// `--check-only`: the plan validated by the org with a check-only deploy. A permission
/// set that does not exist yet is made by the real run before its deploy, so its
/// reference is left out of what is validated (and said so).
#[allow(clippy::too_many_arguments)]
fn check_only(
    job: &Job<'_, '_>,
    spec: &AppSpec,
    existing: Option<Existing<'_>>,
    given: Given,
    plan: &Plan,
    ps_missing: bool,
    notes: &mut Vec<String>,
    report: &mut dyn Report,
) -> Result<Status> {
    let checked;
    let plan = match (&spec.permission_set, ps_missing) {
        (Some(ps), true) => {
            notes.push(format!(
                "the permission set `{ps}` does not exist yet: the run creates and assigns it before its deploy, so the check-only deploy leaves out the app's reference to it"
            ));
            let mut s = spec.clone();
            s.permission_set = None;
            checked = match existing {
                Some(e) => s.plan_edit(e, given)?,
                None => s.plan_new()?,
            };
            &checked
        }
        _ => plan,
    };
    Ok(match job.check_only(plan, report)? {
        None => Status::Checked {
            id: None,
            status: None,
            failures: Vec::new(),
        },
        Some(Polled::Running(id)) => Status::DeployRunning { id },
        Some(Polled::Done(r)) => Status::Checked {
            id: Some(r.id.clone()),
            status: Some(r.status),
            failures: super::explain::failures(&r),
        },
    })
}

fn found_read(found: &Found) -> bool {
    match found {
        Found::Eca(ex) => ex.complete,
        Found::ConnectedApp(_) => true,
        Found::New => false,
    }
}

fn shown_parts(p: &EcaPartNames) -> String {
    [
        p.global_oauth.as_deref(),
        p.oauth_settings.as_deref(),
        p.oauth_policy.as_deref(),
        p.plugin_policy.as_deref(),
    ]
    .iter()
    .map(|n| n.unwrap_or("(none)"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The part names the app has once the plan is deployed.
fn planned_parts(plan: &Plan, found: &Found, name: &str) -> EcaPartNames {
    let mut parts = match found {
        Found::Eca(ex) => ex.parts.clone(),
        _ => EcaPartNames::default(),
    };
    for c in &plan.components {
        if parts.get(c.kind).is_none() {
            parts.set(c.kind, Some(c.name.clone()));
        }
    }
    parts.or(&EcaPartNames::generated(name))
}

/// Each component of `plan` with what changes.
pub(crate) fn changes_of(plan: &Plan) -> Vec<ComponentChanges> {
    plan.components
        .iter()
        .map(|c| ComponentChanges {
            kind: c.kind,
            name: c.name.clone(),
            created: c.before.is_none(),
            changes: c.changes(),
        })
        .collect()
}
