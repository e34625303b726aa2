//! `certmint connect DIR`: the org side of the setup, through the Metadata API. The work
//! is the library's [`certmint::connect`]; this file reads the options and the key,
//! gets the admin session, and prints the outcome.

use std::path::{Path, PathBuf};

use certmint::connect::{self, Attempt, OrgClient, PermissionSetChoice, Settings, Status};
use certmint::manifest::{AppKind, AppRecord, Manifest, Role};
use certmint::text::escape;
use certmint::workdir;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::org_session::{self, AdminArgs, Talk, WaitArgs};
use super::password::PassSource;
use super::stdio::{errln, outln};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint connect acme-jwt --target-org acme --check-only   # validate first
  $ certmint connect acme-jwt --target-org acme   # an org sf is logged in to
  $ certmint connect acme-jwt --instance-url https://acme.my.salesforce.com \\
      --access-token env:SF_ADMIN_TOKEN --username integration@acme.com
  $ certmint connect acme-jwt --dry-run --save-metadata acme-metadata   # review
  $ certmint connect acme-jwt --target-org acme --app-name Acme_Setup_App
  $ certmint connect acme-jwt --target-org acme --connected-app Acme_JWT
  $ certmint connect acme-jwt --target-org acme --for-org-to-org

NOTES:
For a directory made by `certmint init`, creates an External Client App named after the
directory's alias (--app-name to choose): its certificate is the current generation's, its
consumer key one certmint generates (40 letters and digits from the OS random number
generator), its scopes Api and RefreshToken (--scope), its callback URL a placeholder, and
its permitted users \"admin approved users are pre-authorized\": a permission set named
after the alias too (--permission-set, or --no-permission-set with --profile) is
pre-authorized and assigned to the integration user (--username, or the one init
recorded); --profile pre-authorizes profiles as well. The app's parts are named as
Salesforce names a metadata-created app's (<app>_glbloauth, <app>_oauth,
<app>_oauth_defaultPolicy, <app>_defaultPolicy).

An app that exists is read from the org first (SOAP readMetadata) and changed, never
rewritten: an External Client App made in Setup or by anyone else (--app-name) is adopted
under the part names the org gave it, and keeps its consumer key (read from the org, else
given with --client-id); an existing connected app (--connected-app NAME; orgs no longer
let connected apps be created) gets only the certificate, admin approval and the
pre-authorizations added, and keeps its label, callback URLs, scopes, policies and every
other profile and permission set. No consumer key is ever sent to an app that exists.

The steps, each recorded in certmint.toml so an interrupted run resumes: the admin's
permissions are checked before anything changes; the permission set is created (when
missing) and assigned before any deploy names it; one Metadata API deploy (REST
deployRequest, all or nothing) is polled until done, each component failure explained
(component, file, line, Salesforce's text, what to do); the app is read back to confirm it
is admin approved for the permission set and holds the certificate; then certmint mints a
token through it with the directory's key (an External Client App at the org's My Domain,
as Salesforce documents), with backoff (1 s to 30 s) until it works or --wait runs out
(default 900 s: Salesforce distributes a change within 15 minutes). Long waits show a
countdown on a terminal, and a line every 30 s in a log. It prints the consumer key and
the lines for `certmint mint --dir` and `sf org login jwt`, and records the app, so
`mint --dir` needs no --client-id.

--check-only runs the same plan as a check-only deploy (what would change, field by field,
and whether the org accepts it) and changes nothing: what to run against production first.
--dry-run deploys nothing (with no admin session it plans offline) and records the planned
consumer key; --save-metadata writes exactly what is deployed (Metadata API format, which
`sf project deploy start --metadata-dir` takes as it is).

The admin session: --target-org ALIAS (the Salesforce CLI; the token from
`sf org auth show-access-token`), or --instance-url with --access-token env:VAR, file:PATH,
fd:N or stdin. The token is never printed, logged or written. The admin needs Modify
Metadata Through Metadata API Functions (or Modify All Data), Customize Application,
Manage Profiles and Permission Sets and Assign Permission Sets (docs/security.md).

Run it again at any time: when the app in the org matches and works it changes nothing and
says so. A run against another org or app than the one recorded is refused unless
--reconnect. `certmint disconnect DIR` removes what connect made.

EXIT CODES:
  0  connected (or already connected; with --dry-run, planned; with
     --check-only, the org accepts the plan)
  1  the org refused the deploy (explained, or at once, such as HTTP 403) or
     the check, the deploy was still running, the app read back differs, or
     the app did not issue a token within --wait: fix what is named, or run
     it again to resume waiting
  2  error: bad option, missing admin permissions, no admin session, unreadable
     directory, network";

#[derive(Args, Debug)]
pub(crate) struct ConnectArgs {
    /// A directory made by `certmint init`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The integration user (default: the one recorded by `init --username`).
    #[arg(long, short = 'u', value_name = "USER")]
    pub username: Option<String>,
    /// The External Client App's API name (default: the directory's alias).
    #[arg(long, value_name = "NAME", conflicts_with = "connected_app")]
    pub app_name: Option<String>,
    /// Update this existing connected app instead of creating an External Client App.
    #[arg(long, value_name = "NAME")]
    pub connected_app: Option<String>,
    /// The existing app's consumer key, when the org does not show it to the admin (a
    /// connected app given with --connected-app, or an External Client App given with
    /// --app-name that was made elsewhere).
    #[arg(long, value_name = "KEY")]
    pub client_id: Option<String>,
    /// A profile to pre-authorize, by name (repeat for more), besides the permission set.
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// The permission set to pre-authorize and assign (API name; created when missing).
    /// Default: the recorded one, else one named after the directory's alias.
    #[arg(long, value_name = "NAME", conflicts_with = "no_permission_set")]
    pub permission_set: Option<String>,
    /// Pre-authorize the --profile profiles only.
    #[arg(long, requires = "profile")]
    pub no_permission_set: bool,
    /// An OAuth scope, Metadata API name or token name (repeat, or separate with commas).
    /// Default: Api, RefreshToken.
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    pub scope: Vec<String>,
    /// The app's label (default: its name).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// The app's contact email (default: the admin's).
    #[arg(long, value_name = "EMAIL")]
    pub contact_email: Option<String>,
    /// The app's callback URL (default: a placeholder; the JWT flow never uses it).
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// Where tokens are minted: login, test, a My Domain URL (default: an External Client
    /// App's org My Domain; a connected app's recorded login URL, else the org's instance
    /// URL).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Write exactly what is deployed into DIR (Metadata API format).
    #[arg(long, value_name = "DIR")]
    pub save_metadata: Option<PathBuf>,
    /// Replace files in the --save-metadata directory.
    #[arg(long, requires = "save_metadata")]
    pub force: bool,
    /// Plan (and save) only: deploy nothing, change nothing in the org.
    #[arg(long, conflicts_with = "check_only")]
    pub dry_run: bool,
    /// Validate the whole plan against the org with a check-only deploy, and show what
    /// would change: nothing changes in the org.
    #[arg(long)]
    pub check_only: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Connect the directory to another org or app than the one recorded (the old record
    /// is kept, inactive).
    #[arg(long)]
    pub reconnect: bool,
    /// Also print the steps for a calling org that signs with the JKS (Certificate and Key
    /// Management, Apex, Named Credential): see docs/org-to-org.md.
    #[arg(long)]
    pub for_org_to_org: bool,
    /// Password source for the key when the unencrypted server.key is gone: pass:TEXT,
    /// env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
}

/// The manifest of a certmint directory, or what to do when `dir` is none.
pub(super) fn load_dir(dir: &Path) -> CliResult<Manifest> {
    if !workdir::is_workdir(dir) {
        return Err(CliError::new(format!(
            "`{}` is not a certmint directory (it has no {})",
            shown(dir),
            certmint::manifest::FILE_NAME
        ))
        .hint("make one with `certmint init DIR --cn NAME -u USER`, then connect it"));
    }
    workdir::load(dir).map_err(|e| CliError::lib("cannot read the directory", Some(dir), e))
}

/// The key of `g`: its unencrypted file, else the encrypted one (with --passin).
pub(super) fn generation_key(
    ctx: &mut Ctx,
    dir: &Path,
    m: &Manifest,
    g: &certmint::manifest::Generation,
    passin: Option<&PassSource>,
) -> CliResult<certmint::key::RsaKey> {
    let plain = workdir::file_path(dir, m, g, Role::PlainKey);
    let path = if plain.is_file() {
        plain
    } else {
        workdir::file_path(dir, m, g, Role::EncryptedKey)
    };
    Ok(ctx.load_key(&path, passin)?.0)
}

pub(super) fn run(ctx: &mut Ctx, args: ConnectArgs) -> CliResult<ExitStatus> {
    let dir = &args.dir;
    org_session::refuse_token_on_argv(&args.admin)?;
    let cannot = |e| CliError::lib("cannot connect", Some(dir), e);
    let m = load_dir(dir)?;
    let g = m.current_generation().cloned().ok_or_else(|| {
        CliError::new(format!("`{}` has no complete generation yet", shown(dir)))
            .hint("finish it with `certmint init`")
    })?;
    let scopes = if args.scope.is_empty() {
        None
    } else {
        Some(
            args.scope
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| connect::plan::parse_scope(s))
                .collect::<certmint::Result<Vec<_>>>()
                .map_err(|e| CliError::lib("invalid --scope", None, e))?,
        )
    };
    let settings = Settings {
        username: args.username.clone(),
        app_name: args.app_name.clone(),
        connected_app: args.connected_app.clone(),
        client_id: args.client_id.clone(),
        scopes,
        profiles: args.profile.clone(),
        permission_set: match (&args.permission_set, args.no_permission_set) {
            (_, true) => PermissionSetChoice::None,
            (Some(n), _) => PermissionSetChoice::Named(n.clone()),
            (None, false) => PermissionSetChoice::Default,
        },
        label: args.label.clone(),
        contact_email: args.contact_email.clone(),
        callback_url: args.callback_url.clone(),
        login_url: args.login_url.clone(),
        reconnect: args.reconnect,
        dry_run: args.dry_run,
        check_only: args.check_only,
        wait: args.wait.duration(),
        backoff: args.wait.backoff(),
        save_metadata: args.save_metadata.clone().map(|d| (d, args.force)),
    };
    let needs = (!args.dry_run).then_some("connect");
    let session = org_session::session(ctx, &args.admin, needs)?;
    let key = generation_key(ctx, dir, &m, &g, args.passin.as_ref())?;
    let http = org_session::client(ctx, &args.admin)?;
    let org = session.map(|s| OrgClient::new(&http, s));
    let mut talk = Talk::new(ctx);
    let outcome = connect::connect(dir, &settings, org.as_ref(), &key, &mut talk)
        .map_err(|e| org_session::org_error(&format!("cannot connect `{}`", shown(dir)), e))?;
    let m = workdir::load(dir).map_err(cannot)?;
    let code = print_outcome(ctx, dir, &m, &outcome)?;
    if args.for_org_to_org {
        print_org_to_org(dir, &m, &outcome.app, &outcome.login_url, &outcome.audience)?;
    }
    Ok(code)
}

/// Print how a connect (or a `--deploy`) ended; the exit status it means.
pub(super) fn print_outcome(
    ctx: &Ctx,
    dir: &Path,
    m: &Manifest,
    o: &connect::Outcome,
) -> CliResult<ExitStatus> {
    let app = &o.app;
    match &o.status {
        Status::Planned => {
            outln!(
                "planned: the {} `{}` (nothing was sent to the org)",
                app.kind.describe(),
                app.name
            )?;
            print_changes(&o.changes)?;
            print_notes(&o.notes);
            outln!("files:")?;
            for f in &o.files {
                outln!("  {f}")?;
            }
            outln!("consumer key:  {}", app.consumer_key)?;
            if o.saved.is_empty() {
                ctx.say("pass --save-metadata DIR to write these files");
            }
            if app.state == certmint::manifest::AppState::Planned {
                ctx.say(format!(
                    "the planned consumer key is recorded in `{}`, so a later `certmint connect` (or a deploy of the saved files) uses it",
                    shown(&workdir::manifest_path(dir))
                ));
            } else {
                ctx.say(format!(
                    "the app is recorded as {} in `{}`; the record is unchanged",
                    app.state.as_str(),
                    shown(&workdir::manifest_path(dir))
                ));
            }
            Ok(ExitStatus::Success)
        }
        Status::Checked { .. } => print_checked(
            &o.status,
            &o.changes,
            &o.notes,
            &format!("the {} `{}` as planned", app.kind.describe(), app.name),
            &format!("the plan for the {} `{}`", app.kind.describe(), app.name),
        ),
        Status::Unchanged | Status::Connected { .. } => {
            print_notes(&o.notes);
            match &o.status {
                Status::Unchanged => outln!(
                    "already connected: the {} `{}` matches this directory and issued a token; nothing changed",
                    app.kind.describe(),
                    app.name
                )?,
                Status::Connected { attempts, after } => outln!(
                    "connected: the {} `{}` issued a token ({} attempt{}, {}s after the deploy)",
                    app.kind.describe(),
                    app.name,
                    attempts,
                    if *attempts == 1 { "" } else { "s" },
                    after.as_secs()
                )?,
                _ => {}
            }
            print_app(dir, m, app, &o.login_url, Some(&o.audience))?;
            Ok(ExitStatus::Success)
        }
        Status::DeployFailed { .. }
        | Status::DeployRunning { .. }
        | Status::NotConfirmed { .. }
        | Status::NotYetWorking { .. } => {
            print_notes(&o.notes);
            print_unfinished(&o.status, app, &o.login_url);
            Ok(ExitStatus::No)
        }
    }
}

/// How a `--check-only` run ended (connect, `renew --deploy`, `rotate --deploy`): the
/// changes, the notes, then whether the org already holds `held`, accepts `what`, or
/// refused it (exit 1).
pub(super) fn print_checked(
    status: &Status,
    changes: &[connect::ComponentChanges],
    notes: &[String],
    held: &str,
    what: &str,
) -> CliResult<ExitStatus> {
    print_changes(changes)?;
    print_notes(notes);
    let Status::Checked {
        id,
        status,
        failures,
    } = status
    else {
        return Ok(ExitStatus::No);
    };
    match (id, status) {
        (None, _) => {
            outln!("checked: the org already holds {held}; nothing to deploy (nothing changed)")?;
            Ok(ExitStatus::Success)
        }
        (Some(id), Some(st))
            if failures.is_empty() && *st == certmint::wire::metadata::DeployStatus::Succeeded =>
        {
            outln!(
                "checked: the org accepts {what} (check-only deploy {id}; nothing changed in the org or the directory)"
            )?;
            Ok(ExitStatus::Success)
        }
        (Some(id), st) => {
            print_failures(
                id,
                &st.unwrap_or(certmint::wire::metadata::DeployStatus::Failed),
                failures,
            );
            errln!(
                "  this was a check-only deploy: nothing changed in the org; fix the above before the real run"
            );
            Ok(ExitStatus::No)
        }
    }
}

/// What a plan changes, component by component (`--dry-run`, `--check-only`).
pub(super) fn print_changes(changes: &[connect::ComponentChanges]) -> CliResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    outln!("changes:")?;
    for c in changes {
        let what = format!("{} `{}`", c.kind, c.name);
        if c.created {
            outln!("  create {what}")?;
        } else if c.changes.is_empty() {
            outln!("  keep   {what} (as it is in the org)")?;
            continue;
        } else {
            outln!("  change {what}")?;
        }
        for ch in &c.changes {
            match (&ch.before, &ch.after) {
                (None, Some(a)) => outln!("      {}: {}", ch.field, value(a))?,
                (Some(b), Some(a)) => outln!("      {}: {} -> {}", ch.field, value(b), value(a))?,
                (Some(b), None) => outln!("      {}: {} -> (removed)", ch.field, value(b))?,
                (None, None) => {}
            }
        }
    }
    Ok(())
}

/// A field's value for a change line: escaped, one line, at most 100 characters.
fn value(v: &str) -> String {
    let one = escape(v).replace("\\n", " | ");
    if one.is_empty() {
        return "(empty)".into();
    }
    match one.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// What a run could not check, on stderr.
pub(super) fn print_notes(notes: &[String]) {
    for n in notes {
        errln!("note: {n}");
    }
}

/// What `connect`, `renew --deploy` and `rotate --deploy` print when the org refused the
/// deploy, the deploy outlived --wait, or no token came within it (exit 1, each resumable
/// by running the same command again). Nothing for the other statuses.
pub(super) fn print_unfinished(status: &Status, app: &AppRecord, login: &str) {
    match status {
        Status::DeployFailed {
            id,
            status,
            failures,
        } => {
            print_failures(id, status, failures);
            errln!(
                "  nothing changed in the org (the deploy is all or nothing); fix the above and run the same command again"
            );
        }
        Status::DeployRunning { id } => errln!(
            "error: the deploy {id} was still running when --wait ran out; run the same command again to follow it (it resumes)"
        ),
        Status::NotYetWorking { attempts, last } => print_not_yet(app, *attempts, last, login),
        Status::NotConfirmed { why } => {
            errln!(
                "error: the deploy succeeded, but the {} `{}` read back from the org does not hold what was deployed: {}",
                app.kind.describe(),
                app.name,
                escape(why)
            );
            errln!(
                "  hint: look at the app in Setup (another admin or tool may have changed it meanwhile), then run the same command again"
            );
        }
        Status::Unchanged | Status::Connected { .. } | Status::Planned | Status::Checked { .. } => {
        }
    }
}

pub(super) fn print_failures(
    id: &str,
    status: &certmint::wire::metadata::DeployStatus,
    failures: &[connect::ComponentFailure],
) {
    errln!("error: the org refused the deploy {id} ({status:?})");
    for f in failures {
        let what = match (&f.component_type, &f.full_name) {
            (Some(t), Some(n)) => format!("{t} `{n}`"),
            (None, Some(n)) => format!("`{n}`"),
            (Some(t), None) => t.clone(),
            (None, None) => "the deploy".to_owned(),
        };
        let place = match (&f.file, f.line, f.column) {
            (Some(file), Some(l), Some(c)) => format!(" ({file}, line {l}, column {c})"),
            (Some(file), Some(l), None) => format!(" ({file}, line {l})"),
            (Some(file), _, _) => format!(" ({file})"),
            _ => String::new(),
        };
        errln!("  {what}{place}:");
        errln!("    problem: {}", f.problem);
        errln!("    fix: {}", f.fix);
    }
}

pub(super) fn print_not_yet(app: &AppRecord, attempts: u32, last: &Attempt, login: &str) {
    errln!(
        "error: the {} `{}` did not issue a token within --wait ({attempts} attempts at {})",
        app.kind.describe(),
        app.name,
        escape(login)
    );
    match last {
        Attempt::Refused(r) => {
            errln!(
                "  last answer: {}: {}",
                escape(&r.error),
                escape(&r.description)
            );
            if let Some(e) = r.known() {
                errln!("  meaning: {}", certmint::token_endpoint::advice(e).meaning);
            }
        }
        Attempt::Failed(e) => errln!("  last attempt: {e}"),
        Attempt::Granted(_) => {}
    }
    errln!(
        "  hint: Salesforce distributes a change within 15 minutes (a new app can take up to 30): run the same command again to keep waiting (it resumes), or raise --wait"
    );
}

/// The app's consumer key, the user, and the lines that use them.
pub(super) fn print_app(
    dir: &Path,
    m: &Manifest,
    app: &AppRecord,
    login: &str,
    audience: Option<&str>,
) -> CliResult<()> {
    outln!("consumer key:  {}", app.consumer_key)?;
    let via = match (&app.permission_set, app.profiles.is_empty()) {
        (Some(ps), true) => format!("permission set `{ps}`"),
        (Some(ps), false) => format!(
            "permission set `{ps}` and profile{} {}",
            if app.profiles.len() == 1 { "" } else { "s" },
            app.profiles.join(", ")
        ),
        (None, _) => format!("profile {}", app.profiles.join(", ")),
    };
    outln!(
        "user:          {} (pre-authorized by {via})",
        escape(&app.username)
    )?;
    if !app.org_id.is_empty() {
        outln!(
            "org:           {} ({})",
            app.org_id,
            escape(&app.instance_url)
        )?;
    }
    outln!("login URL:     {}", escape(login))?;
    let d = shown(dir);
    let key_file = dir
        .join(certmint::manifest::CURRENT_LINK)
        .join(Role::PlainKey.file_name(&m.stem));
    outln!("next:")?;
    outln!("  certmint mint --dir {d}")?;
    outln!(
        "  certmint mint --dir {d} --sf-alias {}      # the Salesforce CLI, without a plaintext key",
        sf_alias(m)
    )?;
    // sf takes the audience from SF_AUDIENCE_URL when it is not the login URL's.
    let default_aud = certmint::token_endpoint::LoginUrl::parse(login)
        .map(|l| l.default_audience())
        .unwrap_or_default();
    let aud_env = match audience {
        Some(a) if a != default_aud => format!("SF_AUDIENCE_URL={} ", escape(a)),
        _ => String::new(),
    };
    outln!(
        "  {aud_env}sf org login jwt --client-id {} --username {} --jwt-key-file {} --instance-url {}",
        app.consumer_key,
        escape(&app.username),
        shown(&key_file),
        escape(login)
    )?;
    if app.kind == AppKind::ConnectedApp {
        outln!(
            "  (the connected app kept its consumer key; certmint never sends one to an existing app)"
        )?;
    }
    Ok(())
}

fn sf_alias(m: &Manifest) -> String {
    m.alias.replace('_', "-")
}

/// The steps for an org that signs assertions itself with the JKS (the recipe's use of
/// the keystore), filled in for this directory; docs/org-to-org.md has the whole walk.
fn print_org_to_org(
    dir: &Path,
    m: &Manifest,
    app: &AppRecord,
    login: &str,
    aud: &str,
) -> CliResult<()> {
    let g = m.current_generation();
    let jks = dir
        .join(certmint::manifest::CURRENT_LINK)
        .join(Role::Jks.file_name(&m.stem));
    let unique = g.map_or(m.alias.as_str(), |g| m.alias_of(g));
    let d = shown(dir);
    outln!("")?;
    outln!("Org to org: a calling org signs the assertion with the JKS (docs/org-to-org.md)")?;
    outln!(
        "  1. Check the keystore against Salesforce's import rules:\n       certmint check --salesforce {} --passin env:CERT_PASS",
        shown(&jks)
    )?;
    outln!(
        "  2. In the calling org: Setup > Certificate and Key Management > Import from Keystore,\n     file {}, the keystore password; the certificate's Unique Name becomes {unique}.",
        shown(&jks)
    )?;
    outln!("     (This import has no API: it is done in Setup, by hand.)")?;
    outln!("  3. Apex in the calling org signs and exchanges the assertion for this app:")?;
    outln!("       Auth.JWT jwt = new Auth.JWT();")?;
    outln!("       jwt.setSub('{}');", escape(&app.username))?;
    outln!("       jwt.setAud('{aud}');")?;
    outln!("       jwt.setIss('{}');", app.consumer_key)?;
    outln!("       Auth.JWS jws = new Auth.JWS(jwt, '{unique}');")?;
    outln!(
        "       Auth.JWTBearerTokenExchange bearer = new Auth.JWTBearerTokenExchange('{}/services/oauth2/token', jws);",
        escape(login)
    )?;
    outln!("       String accessToken = bearer.getAccessToken();")?;
    outln!(
        "     (Add {} as a Remote Site Setting, or use a Named Credential: docs/org-to-org.md.)",
        escape(login)
    )?;
    outln!(
        "  4. Each year: `certmint renew {d} --deploy ...`, then import the new JKS (alias {}_g<N>) and\n     point Auth.JWS at the new Unique Name.",
        m.alias
    )?;
    Ok(())
}
