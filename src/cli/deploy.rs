//! `renew --deploy` and `rotate --deploy` (`--second-app`, `--retire-previous`): the
//! yearly certificate put on the app in the org and proven, through
//! [`certmint::connect::rotation`]. `renew.rs` and `rotate.rs` call these after (or
//! instead of) making the new generation.

use std::path::Path;

use certmint::connect::rotation::{self, Redeployed, Retired, Waiting};
use certmint::connect::{OrgClient, Status};
use certmint::manifest::{Manifest, Origin, Role};
use certmint::workdir;

use super::common::Ctx;
use super::connect::{
    generation_key, print_app, print_failures, print_not_yet, print_notes, print_unfinished,
};
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::org_session::{self, AdminArgs, Talk, WaitArgs};
use super::password::PassSource;
use super::stdio::{errln, outln};

fn waiting(w: &WaitArgs) -> Waiting {
    Waiting {
        wait: w.duration(),
        backoff: w.backoff(),
    }
}

fn load(dir: &Path) -> CliResult<Manifest> {
    super::connect::load_dir(dir)
}

/// With `--deploy`, a renewal whose generation is not on the app yet is deployed again
/// instead of renewing once more: the current generation, when a renewal made it and the
/// active app is not recorded as verified with it (an older generation, or a deploy that
/// was interrupted or did not finish).
pub(super) fn undeployed_renewal(dir: &Path) -> CliResult<Option<String>> {
    let m = load(dir)?;
    let (Some(app), Some(g)) = (m.active_app(), m.current_generation()) else {
        return Ok(None);
    };
    let on_app = app.generation.as_deref() == Some(g.dir.as_str())
        && app.state == certmint::manifest::AppState::Verified;
    Ok((g.origin == Origin::Renew && !on_app).then(|| g.dir.clone()))
}

/// Check that the directory is connected before a generation is made for `--deploy`.
pub(super) fn require_connected(dir: &Path) -> CliResult<()> {
    let m = load(dir)?;
    if m.active_app().is_none() {
        return Err(CliError::new(format!(
            "`{}` is not connected to an app in an org yet",
            shown(dir)
        ))
        .hint(format!(
            "run `certmint connect {} --target-org ALIAS` first (or leave out --deploy and upload the certificate by hand)",
            shown(dir)
        )));
    }
    Ok(())
}

fn print_redeployed(dir: &Path, r: &Redeployed, what: &str) -> CliResult<ExitStatus> {
    let m = load(dir)?;
    let login = m.salesforce.login_url.clone().unwrap_or_default();
    let audience = m.salesforce.audience.clone();
    print_notes(&r.notes);
    if let Some(certmint::connect::Confirmation::Confirmed(c)) = &r.confirmation {
        errln!("the org shows the app holding {c}");
    }
    match &r.status {
        Status::Unchanged => {
            outln!(
                "{what}: the {} `{}` already has the certificate of {} and issues tokens with it; nothing changed",
                r.app.kind.describe(),
                r.app.name,
                r.generation
            )?;
            print_app(dir, &m, &r.app, &login, audience.as_deref())?;
            Ok(ExitStatus::Success)
        }
        Status::Connected { attempts, after } => {
            outln!(
                "{what}: the certificate of {} is on the {} `{}` and issued a token ({attempts} attempt{}, {}s)",
                r.generation,
                r.app.kind.describe(),
                r.app.name,
                if *attempts == 1 { "" } else { "s" },
                after.as_secs()
            )?;
            print_app(dir, &m, &r.app, &login, audience.as_deref())?;
            Ok(ExitStatus::Success)
        }
        Status::DeployFailed { .. }
        | Status::DeployRunning { .. }
        | Status::NotConfirmed { .. }
        | Status::NotYetWorking { .. } => {
            print_unfinished(&r.status, &r.app, &login);
            Ok(ExitStatus::No)
        }
        Status::Planned | Status::Checked { .. } => Ok(ExitStatus::Success),
    }
}

/// `--check-only` of `renew --deploy` and `rotate --deploy`: what the deploy would change
/// and whether the org accepts it.
pub(super) fn print_checked(c: &rotation::CheckedDeploy, what: &str) -> CliResult<ExitStatus> {
    if !matches!(c.status, Status::Checked { .. }) {
        print_unfinished(&c.status, &c.app, "");
        return Ok(ExitStatus::No);
    }
    super::connect::print_checked(
        &c.status,
        &c.changes,
        &c.notes,
        &format!(
            "this certificate on the {} `{}`",
            c.app.kind.describe(),
            c.app.name
        ),
        &format!("{what} on the {} `{}`", c.app.kind.describe(), c.app.name),
    )
}

/// `renew DIR --deploy --check-only` and `rotate DIR --deploy --check-only`: the deploy of
/// `cert_pem` (made in memory) validated by the org; `second_app` is the new generation's
/// number for `--second-app`.
pub(super) fn check(
    ctx: &mut Ctx,
    dir: &Path,
    cert_pem: &str,
    second_app: Option<u32>,
    admin: &AdminArgs,
    wait: &WaitArgs,
    what: &str,
) -> CliResult<ExitStatus> {
    let session = org_session::session(ctx, admin, Some("--check-only"))?
        .ok_or_else(|| CliError::new("--check-only needs an admin session"))?;
    let http = org_session::client(ctx, admin)?;
    let org = OrgClient::new(&http, session);
    let mut talk = Talk::new(ctx);
    let c = rotation::check_deploy(dir, &org, cert_pem, second_app, waiting(wait), &mut talk)
        .map_err(|e| org_session::org_error("cannot check the deploy", e))?;
    print_checked(&c, what)
}

/// `renew DIR --deploy`: the current (renewed) generation's certificate onto the app.
pub(super) fn renew(
    ctx: &mut Ctx,
    dir: &Path,
    admin: &AdminArgs,
    wait: &WaitArgs,
    passin: Option<&PassSource>,
) -> CliResult<ExitStatus> {
    let session = org_session::session(ctx, admin, Some("--deploy"))?
        .ok_or_else(|| CliError::new("--deploy needs an admin session"))?;
    let m = load(dir)?;
    let g = m
        .current_generation()
        .cloned()
        .ok_or_else(|| CliError::new("no current generation"))?;
    let key = generation_key(ctx, dir, &m, &g, passin)?;
    let http = org_session::client(ctx, admin)?;
    let org = OrgClient::new(&http, session);
    let mut talk = Talk::new(ctx);
    let r = rotation::redeploy(dir, &org, &g.dir, &key, waiting(wait), &mut talk)
        .map_err(|e| org_session::org_error("cannot deploy the renewed certificate", e))?;
    let code = print_redeployed(dir, &r, "renewed and deployed")?;
    if code == ExitStatus::Success && !ctx.quiet {
        errln!(
            "The key is unchanged, so every client kept working throughout. If the JKS is imported in Certificate and Key Management, import the new {} too.",
            shown(
                &dir.join(certmint::manifest::CURRENT_LINK)
                    .join(Role::Jks.file_name(&m.stem))
            )
        );
    }
    Ok(code)
}

/// `rotate DIR --deploy [--second-app]`, after `workdir::rotate` prepared `new_gen`.
pub(super) fn rotate(
    ctx: &mut Ctx,
    dir: &Path,
    new_gen: &str,
    second_app: bool,
    admin: &AdminArgs,
    wait: &WaitArgs,
    passin: Option<&PassSource>,
) -> CliResult<ExitStatus> {
    let session = org_session::session(ctx, admin, Some("--deploy"))?
        .ok_or_else(|| CliError::new("--deploy needs an admin session"))?;
    let m = load(dir)?;
    let current = m
        .current_generation()
        .cloned()
        .ok_or_else(|| CliError::new("no current generation"))?;
    let new = m
        .generations
        .iter()
        .find(|g| g.dir == new_gen)
        .cloned()
        .ok_or_else(|| CliError::new(format!("no generation {new_gen}")))?;
    let new_key = generation_key(ctx, dir, &m, &new, passin)?;
    let http = org_session::client(ctx, admin)?;
    let org = OrgClient::new(&http, session);
    let mut talk = Talk::new(ctx);
    let old_app = m.active_app().cloned();
    if second_app {
        let r = rotation::second_app(dir, &org, new_gen, &new_key, waiting(wait), &mut talk)
            .map_err(|e| org_session::org_error("cannot deploy the second app", e))?;
        let code = print_redeployed(dir, &r, "rotated onto a second app")?;
        if code == ExitStatus::Success && !ctx.quiet {
            // The stem is the directory's for good: the manifest read above still holds it.
            let stem = &m.stem;
            let gdir = dir.join(new_gen);
            errln!();
            errln!(
                "The switch is made: {}/current is {new_gen}, and `certmint mint --dir {}` uses the app `{}` now.",
                shown(dir),
                shown(dir),
                r.app.name
            );
            if let Some(old) = &old_app {
                errln!(
                    "The previous app `{}` (consumer key {}) keeps working with the key of {} for the programs that still use it.",
                    old.name,
                    old.consumer_key,
                    current.dir
                );
            }
            errln!("Other programs switch by changing two things together:");
            errln!("  consumer key (client id, iss): {}", r.app.consumer_key);
            errln!(
                "  private key: {} (or the keystores {}, {})",
                shown(&gdir.join(Role::PlainKey.file_name(stem))),
                shown(&gdir.join(Role::Pkcs12.file_name(stem))),
                shown(&gdir.join(Role::Jks.file_name(stem)))
            );
            errln!(
                "When none uses the previous app any more: certmint rotate {} --retire-previous --target-org ...",
                shown(dir)
            );
        }
        return Ok(code);
    }
    let current_key = generation_key(ctx, dir, &m, &current, passin)?;
    let r = rotation::rotate(
        dir,
        &org,
        new_gen,
        &new_key,
        &current_key,
        waiting(wait),
        &mut talk,
    )
    .map_err(|e| org_session::org_error("cannot deploy the new certificate", e))?;
    match &r.rolled_back {
        None => {
            let code = print_redeployed(dir, &r.new, "rotated")?;
            if code == ExitStatus::Success && !ctx.quiet {
                errln!(
                    "{}/current is {} now. Programs that copied the old key must switch to {} (the app holds one certificate).",
                    shown(dir),
                    r.current,
                    shown(&dir.join(new_gen).join(Role::PlainKey.file_name(&m.stem)))
                );
                errln!(
                    "Way back: certmint rotate {} --activate {} and deploy its certificate again with `certmint connect {}`.",
                    shown(dir),
                    current.dir,
                    shown(dir)
                );
            }
            Ok(code)
        }
        Some(back) => {
            if let Status::NotYetWorking { attempts, last } = &r.new.status {
                let login = m.salesforce.login_url.clone().unwrap_or_default();
                print_not_yet(&r.new.app, *attempts, last, &login);
            }
            let back_ok = matches!(back.status, Status::Connected { .. } | Status::Unchanged);
            errln!(
                "rolled back: the certificate of {} was deployed again{}; {} stays current and {} is kept, not activated.",
                back.generation,
                if back_ok {
                    " and issues tokens"
                } else {
                    ", but did not issue a token within --wait either"
                },
                r.current,
                new_gen
            );
            if !back_ok {
                let _ = print_redeployed(dir, back, "rollback")?;
            }
            errln!(
                "  hint: find out why the new certificate was refused (docs/troubleshooting.md), then run `certmint rotate {} --deploy` again",
                shown(dir)
            );
            Ok(ExitStatus::No)
        }
    }
}

/// `rotate DIR --retire-previous`.
pub(super) fn retire(
    ctx: &mut Ctx,
    dir: &Path,
    admin: &AdminArgs,
    wait: &WaitArgs,
    passin: Option<&PassSource>,
) -> CliResult<ExitStatus> {
    let session = org_session::session(ctx, admin, Some("--retire-previous"))?
        .ok_or_else(|| CliError::new("--retire-previous needs an admin session"))?;
    let m = load(dir)?;
    // The previous app's key, to see it refused (only when readable without asking).
    let prev_gen = rotation::previous_app(&m)
        .map_err(|e| CliError::lib("cannot read the directory", Some(dir), e))?
        .and_then(|a| a.generation)
        .and_then(|g| m.generations.iter().find(|x| x.dir == g).cloned());
    let prev_key = match &prev_gen {
        Some(g) if workdir::file_path(dir, &m, g, Role::PlainKey).is_file() || passin.is_some() => {
            Some(generation_key(ctx, dir, &m, g, passin)?)
        }
        _ => None,
    };
    let http = org_session::client(ctx, admin)?;
    let org = OrgClient::new(&http, session);
    let mut talk = Talk::new(ctx);
    let r = rotation::retire_previous(dir, &org, prev_key.as_ref(), waiting(wait), &mut talk)
        .map_err(|e| org_session::org_error("cannot retire the previous app", e))?;
    match r {
        Retired::Done {
            app,
            refused,
            confirmation,
        } => {
            outln!(
                "retired: the {} `{}` (consumer key {}) is {}",
                app.kind.describe(),
                app.name,
                app.consumer_key,
                match app.kind {
                    certmint::manifest::AppKind::ExternalClientApp => "disabled in the org",
                    certmint::manifest::AppKind::ConnectedApp =>
                        "left without certmint's certificate and pre-authorizations",
                }
            )?;
            match confirmation {
                certmint::connect::Confirmation::Confirmed(c) => outln!("  the org confirms: {c}")?,
                certmint::connect::Confirmation::Differs(d) => {
                    outln!("  the org still shows: {}", certmint::text::escape(&d))?
                }
                certmint::connect::Confirmation::Unavailable(w) => outln!(
                    "  could not read the app back: {}",
                    certmint::text::escape(&w)
                )?,
            }
            match refused {
                Some(true) => outln!("  a token request through it is now refused")?,
                Some(false) => {
                    errln!(
                        "error: it still issued tokens when --wait ran out: the change may still be propagating, or the app still pre-authorizes the user another way (look at it in Setup); run the same command again to keep checking"
                    );
                    return Ok(ExitStatus::No);
                }
                None => outln!(
                    "  not proven by a refused token: the previous generation's key is not readable (give --passin to prove it)"
                )?,
            }
            Ok(ExitStatus::Success)
        }
        Retired::DeployFailed {
            id,
            status,
            failures,
            ..
        } => {
            print_failures(&id, &status, &failures);
            Ok(ExitStatus::No)
        }
        Retired::DeployRunning { id, .. } => {
            errln!(
                "error: the deploy {id} was still running when --wait ran out; run the same command again"
            );
            Ok(ExitStatus::No)
        }
    }
}
