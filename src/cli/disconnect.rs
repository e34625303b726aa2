//! `certmint disconnect DIR`: remove from the org what certmint made there, after showing
//! what goes and asking. The work is [`certmint::connect::disconnect`].

use std::path::PathBuf;

use certmint::connect::OrgClient;
use certmint::connect::disconnect::{self, Disconnected, Survey};
use certmint::text::escape;
use clap::Args;

use super::common::Ctx;
use super::connect::print_failures;
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::org_session::{self, AdminArgs, Talk, WaitArgs};
use super::password::{can_prompt, prompt_line};
use super::stdio::{errln, outln};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint disconnect acme-jwt --target-org acme          # shows, then asks
  $ certmint disconnect acme-jwt --target-org acme --yes    # in a script
  $ certmint disconnect acme-jwt --target-org acme --dry-run

NOTES:
Removes from the org what `certmint connect` (and `rotate --deploy --second-app`) made
there for this directory: each External Client App certmint created (its four parts and
the app, in one destructive deploy), then the assignments of the permission set certmint
made (to the integration user, and any left to the deploying admin), then the permission
set itself when certmint created it and no app certmint did not create still names it.
An app certmint did not create (a connected app it updated, an External Client App it
adopted with --app-name) stays in the org, and so does its certificate: it is listed
with the reason. Nothing on disk is deleted: the keys and certificates stay, and the
manifest records each app as removed, so `certmint connect` can make a new one later.

It first lists what would go and asks for confirmation on the terminal; --yes skips the
question (without a terminal, --yes is required), --dry-run only lists. Run it again
after an interruption: it finds what is left and removes that.

EXIT CODES:
  0  removed (or, with --dry-run, listed; or nothing left to remove)
  1  the org refused the destructive deploy (nothing was deleted), or the
     deploy was still running when --wait ran out
  2  error: no admin session, not confirmed, unreadable directory, network";

#[derive(Args, Debug)]
pub(crate) struct DisconnectArgs {
    /// A directory `certmint connect` connected.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Do not ask: remove what is listed.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// List what would be removed; remove nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub(super) fn run(ctx: &mut Ctx, args: DisconnectArgs) -> CliResult<ExitStatus> {
    let dir = &args.dir;
    org_session::refuse_token_on_argv(&args.admin)?;
    super::connect::load_dir(dir)?;
    let session = org_session::session(ctx, &args.admin, Some("disconnect"))?
        .ok_or_else(|| CliError::new("disconnect needs an admin session"))?;
    let http = org_session::client(ctx, &args.admin)?;
    let org = OrgClient::new(&http, session);
    let survey = disconnect::survey(dir, &org)
        .map_err(|e| org_session::org_error(&format!("cannot disconnect `{}`", shown(dir)), e))?;
    print_survey(&survey)?;
    if survey.is_empty() {
        outln!("nothing left to remove in org {}", survey.org_id)?;
        return Ok(ExitStatus::Success);
    }
    if args.dry_run {
        ctx.say("--dry-run: nothing was removed");
        return Ok(ExitStatus::Success);
    }
    if !args.yes {
        if !can_prompt() {
            return Err(CliError::new("not confirmed: no terminal to ask on")
                .hint("pass --yes to remove what is listed above"));
        }
        let answer = prompt_line("Remove these from the org? Type yes to go on")?;
        if !answer.trim().eq_ignore_ascii_case("yes") {
            return Err(CliError::new("not confirmed: nothing was removed"));
        }
    }
    let mut talk = Talk::new(ctx);
    let r = disconnect::disconnect(dir, &org, survey, args.wait.duration(), &mut talk)
        .map_err(|e| org_session::org_error(&format!("cannot disconnect `{}`", shown(dir)), e))?;
    drop(talk);
    match r {
        Disconnected::Done(s) => {
            outln!(
                "disconnected: {} app{} removed from org {}; the directory's files are untouched",
                s.apps.len(),
                if s.apps.len() == 1 { "" } else { "s" },
                s.org_id
            )?;
            Ok(ExitStatus::Success)
        }
        Disconnected::DeployFailed {
            id,
            status,
            failures,
        } => {
            print_failures(&id, &status, &failures);
            errln!("  nothing was deleted (the deploy is all or nothing)");
            Ok(ExitStatus::No)
        }
        Disconnected::DeployRunning { id } => {
            errln!(
                "error: the deploy {id} was still running when --wait ran out; run the same command again to see what is left"
            );
            Ok(ExitStatus::No)
        }
    }
}

fn print_survey(s: &Survey) -> CliResult<()> {
    outln!("in org {}:", s.org_id)?;
    for a in &s.apps {
        if a.in_org {
            outln!(
                "  remove the External Client App `{}` (consumer key {}) and its parts: {}",
                a.record.name,
                a.record.consumer_key,
                [
                    a.parts.global_oauth.as_deref(),
                    a.parts.oauth_settings.as_deref(),
                    a.parts.oauth_policy.as_deref(),
                    a.parts.plugin_policy.as_deref()
                ]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
            )?;
        } else {
            outln!(
                "  forget the External Client App `{}`: the org no longer has it",
                a.record.name
            )?;
        }
    }
    for (_, who, ps) in &s.assignments {
        outln!(
            "  remove the assignment of the permission set `{ps}` to {}",
            escape(who)
        )?;
    }
    if let Some((ps, _)) = &s.permission_set {
        outln!("  delete the permission set `{ps}` (certmint created it)")?;
    }
    for (_, why) in &s.kept {
        outln!("  keep: {why}")?;
    }
    if let Some(why) = &s.permission_set_kept {
        outln!("  keep: {why}")?;
    }
    Ok(())
}
