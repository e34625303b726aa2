//! `certmint connect` and the year after, end to end against the emulated org (issue 15):
//! connect then mint; a second connect changes nothing; a run against another org is
//! refused unless --reconnect; an interrupted run resumes; deploy failures explained;
//! `--dry-run --save-metadata` accepted by the emulator's deploy (and, in
//! `real_sf_cli`, by `sf project deploy start --metadata-dir`); `renew --deploy` and
//! `rotate --deploy --second-app` with a mint loop that never fails during the switch;
//! `rotate --deploy` through the propagation delay, and its way back when the new
//! certificate never takes; `--retire-previous`; the admin session from the real sf CLI
//! and, for its error cases, from a fake `sf` on PATH; `mint --sf-alias`; the demo.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use certmint::emulator::Running;
use certmint::manifest::{AppKind, AppState, Manifest};

use crate::support::emulator as emu;

mod fidelity;
use crate::support::sf::Sf;
use crate::support::{certmint_offline, fx, p};

const PASS: &str = "connect-test-pass";
const ADMIN: &str = "admin@acme.example";
const USER: &str = "integration@acme.example";

/// An org with an admin (System Administrator, pre-authorized on `admin_console`, whose
/// certificate is fixtures/certs/base.crt) and the integration user (Standard User: only
/// the permission set connect assigns pre-authorizes it); `emulator` lines go in
/// `[emulator]`, `org` lines in `[org]`, `extra` at the end.
fn org_toml(org: &str, emulator: &str, extra: &str) -> String {
    // No propagation delay unless a test asks for one (the emulator's default is 120 s).
    let propagation = if emulator.contains("propagation_seconds") {
        ""
    } else {
        "propagation_seconds = 0"
    };
    format!(
        r#"[org]
name = "Acme"
{org}

[emulator]
deploy_millis = 200
{propagation}
{emulator}

[[apps]]
name = "admin_console"
consumer_key = "ADMINCONSOLEKEY"
certificate = "../certs/base.crt"
permitted_users = "admin-approved"
profiles = ["System Administrator"]

[[users]]
username = "{ADMIN}"
email = "{ADMIN}"

[[users]]
username = "{USER}"
profile = "Standard User"
{extra}
"#
    )
}

/// A running org and a file holding its admin's access token.
struct Org {
    emu: Running,
    token: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Org {
    fn start(toml: &str) -> Org {
        Org::start_with(toml, certmint::emulator::ServerOptions::default())
    }

    fn start_with(toml: &str, options: certmint::emulator::ServerOptions) -> Org {
        let emu = emu::start_with(emu::config(toml), options);
        let tmp = tempfile::tempdir().unwrap();
        let token = tmp.path().join("admin.token");
        std::fs::write(&token, emu.session_for(ADMIN).unwrap()).unwrap();
        Org {
            emu,
            token,
            _tmp: tmp,
        }
    }

    fn with(emulator: &str) -> Org {
        Org::start(&org_toml("", emulator, ""))
    }

    fn url(&self) -> &str {
        self.emu.base_url()
    }

    fn token_text(&self) -> String {
        std::fs::read_to_string(&self.token).unwrap()
    }

    /// `--instance-url URL --access-token file:TOKEN`.
    fn session(&self) -> Vec<String> {
        vec![
            "--instance-url".into(),
            self.url().into(),
            "--access-token".into(),
            format!("file:{}", self.token.display()),
        ]
    }
}

fn run(args: &[&str]) -> Output {
    certmint_offline()
        .args(args)
        .env("CERT_PASS", PASS)
        .output()
        .unwrap()
}

fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(out: &Output) -> String {
    let (o, e) = texts(out);
    assert!(
        out.status.success(),
        "exit {:?}\n{o}\n{e}",
        out.status.code()
    );
    o
}

fn init(dir: &Path) {
    ok(&run(&[
        "init",
        p(dir),
        "--cn",
        "acme-jwt",
        "--passout",
        "env:CERT_PASS",
        "-u",
        USER,
    ]));
}

fn connect(dir: &Path, org: &Org, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["connect".into(), p(dir).into()];
    args.extend(org.session());
    if !extra.contains(&"--wait") {
        args.extend(["--wait".into(), "20".into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&a)
}

fn manifest(dir: &Path) -> Manifest {
    certmint::workdir::load(dir).unwrap()
}

fn mint_dir(dir: &Path) -> Output {
    run(&["mint", "--dir", p(dir), "--no-verify"])
}

/// `certmint mint` with a generation's key and a consumer key, at the org.
fn mint_with(dir: &Path, generation: &str, client_id: &str, org: &Org) -> Output {
    let key = dir.join(generation).join("server.key");
    run(&[
        "mint",
        "--key",
        p(&key),
        "--client-id",
        client_id,
        "-u",
        USER,
        "--login-url",
        org.url(),
        "--no-verify",
    ])
}

/// A connected directory in `org`: init, connect, checked.
fn connected(org: &Org) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    ok(&connect(&dir, org, &[]));
    (root, dir)
}

/// `certmint mint --dir DIR` over and over on a thread until stopped: the outcome of each
/// (success, stderr).
struct MintLoop {
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
    handle: std::thread::JoinHandle<Vec<(bool, String)>>,
}

impl MintLoop {
    fn start(dir: &Path) -> MintLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let (s, c, d) = (stop.clone(), count.clone(), dir.to_path_buf());
        let handle = std::thread::spawn(move || {
            let mut all = Vec::new();
            while !s.load(Ordering::SeqCst) {
                let out = mint_dir(&d);
                all.push((
                    out.status.success(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                ));
                c.fetch_add(1, Ordering::SeqCst);
            }
            all
        });
        let l = MintLoop {
            stop,
            count,
            handle,
        };
        l.wait_for(2);
        l
    }

    fn wait_for(&self, more: usize) {
        let target = self.count.load(Ordering::SeqCst) + more;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.count.load(Ordering::SeqCst) < target {
            assert!(
                std::time::Instant::now() < deadline,
                "the mint loop stalled"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Let a few more mints happen, stop, and return them all.
    fn finish(self) -> Vec<(bool, String)> {
        self.wait_for(2);
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap()
    }
}

fn assert_all_minted(mints: &[(bool, String)]) {
    let failed: Vec<&String> = mints.iter().filter(|(ok, _)| !ok).map(|(_, e)| e).collect();
    assert!(
        failed.is_empty(),
        "{} of {} mints failed during the switch; the first: {}",
        failed.len(),
        mints.len(),
        failed[0]
    );
    assert!(mints.len() >= 4, "only {} mints", mints.len());
}

#[test]
fn connect_then_mint_and_a_second_connect_changes_nothing() {
    let org = Org::with("propagation_seconds = 1");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    // Before: no client id for mint --dir.
    assert_eq!(mint_dir(&dir).status.code(), Some(2));
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let m = manifest(&dir);
    let app = m.active_app().unwrap().clone();
    assert_eq!(app.kind, AppKind::ExternalClientApp);
    assert_eq!(app.name, "acme_jwt");
    assert_eq!(app.state, AppState::Verified);
    assert_eq!(app.consumer_key.len(), 40);
    assert!(app.consumer_key.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(app.permission_set.as_deref(), Some("acme_jwt"));
    assert_eq!(app.org_id, "00DEMULATOR000125B");
    assert_eq!(
        m.salesforce.client_id.as_deref(),
        Some(app.consumer_key.as_str())
    );
    assert_eq!(m.salesforce.login_url.as_deref(), Some(org.url()));
    for line in [
        "connected: the External Client App `acme_jwt` issued a token".to_owned(),
        format!("consumer key:  {}", app.consumer_key),
        format!("user:          {USER} (pre-authorized by permission set `acme_jwt`)"),
        format!("certmint mint --dir {}", p(&dir)),
        format!(
            "sf org login jwt --client-id {} --username {USER} --jwt-key-file {}",
            app.consumer_key,
            p(&dir.join("current/server.key"))
        ),
    ] {
        assert!(stdout.contains(&line), "{line} in\n{stdout}");
    }
    for step in [
        "created the permission set `acme_jwt`",
        "assigned the permission set `acme_jwt` to integration@acme.example",
        "deploying 5 components",
        "deployed the External Client App `acme_jwt`",
        "the org confirms the app: admin approved, pre-authorizing `acme_jwt`, the certificate, enabled",
    ] {
        assert!(stderr.contains(step), "{step} in\n{stderr}");
    }
    // Not a terminal: no progress lines.
    assert!(!stderr.contains("attempt 1 refused"), "{stderr}");
    // The admin token is nowhere.
    let token = org.token_text();
    let text = std::fs::read_to_string(dir.join("certmint.toml")).unwrap();
    for (what, t) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("manifest", &text),
    ] {
        assert!(!t.contains(&token), "the admin token is in {what}");
        assert!(
            !t.contains(&token[16..40]),
            "part of the admin token is in {what}"
        );
    }
    // mint --dir works with no --client-id.
    ok(&mint_dir(&dir));

    // Again: nothing changes.
    let again = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&again);
    assert!(again.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("already connected: the External Client App `acme_jwt` matches this directory and issued a token; nothing changed"),
        "{stdout}"
    );
    assert!(!stderr.contains("deploying"), "{stderr}");
    let after = manifest(&dir);
    assert_eq!(after.active_app().unwrap().deploy_id, app.deploy_id);
    assert_eq!(after.active_app().unwrap().consumer_key, app.consumer_key);
}

#[test]
fn another_org_is_refused_unless_reconnect() {
    let a = Org::with("");
    let (_root, dir) = connected(&a);
    let first = manifest(&dir).active_app().unwrap().clone();
    let b = Org::start(&org_toml(r#"id = "00Dxx0000002AbC""#, "", ""));
    let out = connect(&dir, &b, &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("this directory is connected to the External Client App `acme_jwt` in org 00DEMULATOR000125B")
            && stderr.contains("pass --reconnect"),
        "{stderr}"
    );
    // Another app name in the same org is another app too.
    let out = connect(&dir, &a, &["--app-name", "acme_other"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("--reconnect"));

    let out = connect(&dir, &b, &["--reconnect"]);
    ok(&out);
    let m = manifest(&dir);
    assert_eq!(m.apps.len(), 2);
    let active = m.active_app().unwrap();
    assert!(active.org_id.starts_with("00Dxx0000002AbC"), "{active:?}");
    assert_ne!(active.consumer_key, first.consumer_key);
    assert!(
        m.apps
            .iter()
            .any(|x| x.consumer_key == first.consumer_key && !x.active)
    );
    ok(&mint_dir(&dir));
}

#[test]
fn an_interrupted_run_resumes_waiting_without_deploying_again() {
    let org = Org::with("propagation_seconds = 5");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let out = connect(&dir, &org, &["--wait", "1"]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not issue a token within --wait")
            && stderr.contains("last answer: invalid_client_id: client identifier invalid")
            && stderr.contains("run the same command again to keep waiting"),
        "{stderr}"
    );
    let m = manifest(&dir);
    let rec = &m.apps[0];
    assert_eq!(rec.state, AppState::Deployed);
    assert!(!rec.active);
    let deploy = rec.deploy_id.clone();
    // The consumer key was recorded before the deploy.
    assert_eq!(rec.consumer_key.len(), 40);

    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the org already holds the app as planned: nothing to deploy"),
        "{stderr}"
    );
    assert!(!stderr.contains("deploying"), "{stderr}");
    let m = manifest(&dir);
    assert_eq!(m.apps[0].deploy_id, deploy);
    assert_eq!(m.apps[0].state, AppState::Verified);
    ok(&mint_dir(&dir));
}

#[test]
fn deploy_failures_are_explained_and_change_nothing() {
    // An app of another kind holds the name; and a profile that does not exist.
    let org = Org::start(&org_toml(
        "allow_connected_app_creation = false",
        "",
        r#"
[[apps]]
name = "acme_jwt"
consumer_key = "OLDCONNECTEDAPP"
certificate = "../certs/base.crt"
"#,
    ));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let out = connect(&dir, &org, &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "error: the org refused the deploy 0Af",
        "ExternalClientApplication `acme_jwt` (externalClientApps/acme_jwt.eca):",
        "problem: An app named acme_jwt already exists.",
        "fix: an app of another kind already has this name: choose another with --app-name",
        "nothing changed in the org",
    ] {
        assert!(stderr.contains(part), "{part} in\n{stderr}");
    }
    let m = manifest(&dir);
    assert_eq!(m.apps[0].state, AppState::Planned);
    assert!(m.salesforce.client_id.is_none());

    let out = connect(
        &dir,
        &org,
        &[
            "--app-name",
            "acme_jwt2",
            "--profile",
            "No Such Profile",
            "--reconnect",
        ],
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "ExtlClntAppOauthConfigurablePolicies `acme_jwt2_oauth_defaultPolicy` (extlClntAppOauthPolicies/acme_jwt2_oauth_defaultPolicy.ecaOauthPlcy):",
        "problem: In field: commaSeparatedProfile - no Profile named No Such Profile found",
        "fix: check the profile given with --profile",
    ] {
        assert!(stderr.contains(part), "{part} in\n{stderr}");
    }
    // Nothing of the app exists (all or nothing); the permission set, made before the
    // deploy on purpose (D2), does, so the next run does not make it again.
    assert_eq!(mint_dir(&dir).status.code(), Some(2));

    // A connected app cannot be created: --connected-app names one that does not exist,
    // which the org says before anything is deployed.
    let out = connect(
        &dir,
        &org,
        &[
            "--connected-app",
            "Missing_App",
            "--client-id",
            "SOMEKEY12345",
            "--reconnect",
        ],
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the org has no connected app `Missing_App`")
            && stderr.contains("drop --connected-app to create an External Client App"),
        "{stderr}"
    );
}

#[test]
fn an_existing_connected_app_is_updated_without_sending_its_consumer_key() {
    let org = Org::start(&org_toml(
        "",
        "",
        r#"
[[apps]]
name = "Legacy_JWT"
consumer_key = "LEGACYCONNECTEDAPPKEY"
certificate = "../certs/base.crt"
permitted_users = "self-authorize"
"#,
    ));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    // Its consumer key is read from the org (readMetadata shows it to an admin); a
    // --client-id that is another is refused before anything changes.
    let out = connect(
        &dir,
        &org,
        &[
            "--connected-app",
            "Legacy_JWT",
            "--client-id",
            "SOMEOTHERKEY123",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out)
            .1
            .contains("--client-id is not the consumer key of the connected app `Legacy_JWT`"),
        "{}",
        texts(&out).1
    );
    let out = connect(
        &dir,
        &org,
        &[
            "--connected-app",
            "Legacy_JWT",
            "--save-metadata",
            p(&root.path().join("md")),
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let xml = std::fs::read_to_string(root.path().join("md/connectedApps/Legacy_JWT.connectedApp"))
        .unwrap();
    assert!(!xml.contains("consumerKey"), "{xml}");
    assert!(
        xml.contains("<isAdminApproved>true</isAdminApproved>"),
        "{xml}"
    );
    assert!(
        xml.contains("<permissionSetName>acme_jwt</permissionSetName>"),
        "{xml}"
    );
    let m = manifest(&dir);
    let app = m.active_app().unwrap();
    assert_eq!(app.kind, AppKind::ConnectedApp);
    assert!(!app.created);
    assert_eq!(
        m.salesforce.client_id.as_deref(),
        Some("LEGACYCONNECTEDAPPKEY")
    );
    ok(&mint_dir(&dir));
}

/// Deploy `zip` to `org` through the REST Metadata API as any client would, and wait for
/// it: the final polling answer.
fn deploy_by_rest(org: &Org, zip: &[u8]) -> serde_json::Value {
    let (ctype, body) = certmint::wire::metadata::multipart_body(
        &certmint::connect::deploy_options(false),
        zip,
        "certmint-test-boundary-0123456789abcdef",
    );
    let url = format!(
        "{}{}",
        org.url(),
        certmint::wire::metadata::deploy_request_path(62)
    );
    let json = |r: &mut ureq::http::Response<ureq::Body>| -> serde_json::Value {
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let resp = json(
        &mut ureq::post(&url)
            .header("Authorization", &format!("Bearer {}", org.token_text()))
            .content_type(&ctype)
            .send(&body)
            .unwrap(),
    );
    let id = resp["id"].as_str().unwrap().to_owned();
    loop {
        let r = json(
            &mut ureq::get(&format!("{url}/{id}?includeDetails=true"))
                .header("Authorization", &format!("Bearer {}", org.token_text()))
                .call()
                .unwrap(),
        );
        if r["deployResult"]["done"] == true {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The files of a saved metadata directory as a deploy zip.
fn zip_dir(root: &Path) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        w.start_file(rel, opts).unwrap();
        w.write_all(&std::fs::read(&f).unwrap()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn dry_run_saves_what_is_deployed_and_the_emulator_deploys_it() {
    let org = Org::with("");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    let md = root.path().join("md");
    init(&dir);
    // Offline: no admin session at all.
    let out = run(&["connect", p(&dir), "--dry-run", "--save-metadata", p(&md)]);
    let stdout = ok(&out);
    let m = manifest(&dir);
    let key = m.apps[0].consumer_key.clone();
    assert_eq!(m.apps[0].state, AppState::Planned);
    assert!(
        stdout.contains("planned: the External Client App `acme_jwt`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("consumer key:  {key}")),
        "{stdout}"
    );
    let glbl = std::fs::read_to_string(
        md.join("extlClntAppGlobalOauthSets/acme_jwt_glbloauth.ecaGlblOauth"),
    )
    .unwrap();
    assert!(
        glbl.contains(&format!("<consumerKey>{key}</consumerKey>")),
        "{glbl}"
    );
    assert!(glbl.contains("-----BEGIN CERTIFICATE-----"), "{glbl}");
    for f in [
        "package.xml",
        "externalClientApps/acme_jwt.eca",
        "extlClntAppOauthSettings/acme_jwt_oauth.ecaOauth",
        "extlClntAppOauthPolicies/acme_jwt_oauth_defaultPolicy.ecaOauthPlcy",
        "extlClntAppPolicies/acme_jwt_defaultPolicy.ecaPlcy",
    ] {
        assert!(md.join(f).is_file(), "{f}");
        assert!(stdout.contains(f), "{f} listed in\n{stdout}");
    }
    // The permission set is not in the deploy: it is made before it (D2).
    assert!(!md.join("permissionsets").exists());
    // Saving again needs --force.
    let out = run(&["connect", p(&dir), "--dry-run", "--save-metadata", p(&md)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("--force"));
    ok(&run(&[
        "connect",
        p(&dir),
        "--dry-run",
        "--save-metadata",
        p(&md),
        "--force",
    ]));

    // The emulator's deploy takes the saved files as they are, once the permission set
    // they name exists (made first, as connect makes it, here through REST).
    let ps: serde_json::Value = ureq::post(&format!(
        "{}/services/data/v62.0/sobjects/PermissionSet",
        org.url()
    ))
    .header("Authorization", &format!("Bearer {}", org.token_text()))
    .content_type("application/json")
    .send(r#"{"Name":"acme_jwt","Label":"acme_jwt"}"#.as_bytes())
    .unwrap()
    .body_mut()
    .read_to_string()
    .map(|t| serde_json::from_str(&t).unwrap())
    .unwrap();
    assert_eq!(ps["success"], true, "{ps}");
    let status = deploy_by_rest(&org, &zip_dir(&md));
    assert_eq!(status["deployResult"]["status"], "Succeeded", "{status:#}");
    // Then connect finds its planned app in the org and finishes (assignment, proof).
    let out = connect(&dir, &org, &[]);
    ok(&out);
    assert_eq!(manifest(&dir).active_app().unwrap().consumer_key, key);
    ok(&mint_dir(&dir));
}

#[test]
fn renew_deploy_never_fails_a_mint_during_the_switch() {
    let org = Org::with("propagation_seconds = 2");
    let (_root, dir) = connected(&org);
    let before = manifest(&dir);
    let g1 = before.current.clone().unwrap();
    let mints = MintLoop::start(&dir);
    let mut args = vec![
        "renew",
        p(&dir),
        "--passin",
        "env:CERT_PASS",
        "--deploy",
        "--wait",
        "20",
    ];
    let session = org.session();
    args.extend(session.iter().map(String::as_str));
    let out = run(&args);
    let all = mints.finish();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("renewed and deployed: the certificate of g2-"),
        "{stdout}"
    );
    assert_all_minted(&all);
    let m = manifest(&dir);
    let g2 = m.current.clone().unwrap();
    assert_ne!(g1, g2);
    let app = m.active_app().unwrap();
    assert_eq!(app.generation.as_deref(), Some(g2.as_str()));
    assert_eq!(app.state, AppState::Verified);
    assert_eq!(app.consumer_key, before.active_app().unwrap().consumer_key);
    // A renewal made without --deploy is deployed by the next `renew --deploy`, which
    // does not renew once more.
    ok(&run(&["renew", p(&dir), "--passin", "env:CERT_PASS"]));
    let g3 = manifest(&dir).current.clone().unwrap();
    let out = run(&args);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("generation {g3} (a renewal) is not on the app yet: deploying it, without renewing again")),
        "{stderr}"
    );
    let m = manifest(&dir);
    assert_eq!(m.generations.len(), 3);
    assert_eq!(
        m.active_app().unwrap().generation.as_deref(),
        Some(g3.as_str())
    );
}

#[test]
fn rotate_deploy_goes_through_the_propagation_delay() {
    let org = Org::with("propagation_seconds = 3");
    let (_root, dir) = connected(&org);
    let g1 = manifest(&dir).current.clone().unwrap();
    let mut args = vec![
        "rotate",
        p(&dir),
        "--passin",
        "env:CERT_PASS",
        "--deploy",
        "--wait",
        "20",
    ];
    let session = org.session();
    args.extend(session.iter().map(String::as_str));
    let out = run(&args);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("rotated: the certificate of g2-"),
        "{stdout}"
    );
    // The first attempts were refused while the new certificate propagated.
    assert!(!stdout.contains("(1 attempt,"), "{stdout}");
    let m = manifest(&dir);
    let g2 = m.current.clone().unwrap();
    assert_ne!(g1, g2);
    assert_eq!(
        m.active_app().unwrap().generation.as_deref(),
        Some(g2.as_str())
    );
    ok(&mint_dir(&dir));
    // The old key no longer works: one certificate per app.
    let key = m.active_app().unwrap().consumer_key.clone();
    assert_eq!(mint_with(&dir, &g1, &key, &org).status.code(), Some(1));
}

#[test]
fn rotate_deploy_rolls_back_when_the_new_certificate_never_takes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    // Prepare the rotation first, to tell the emulator to refuse its certificate.
    ok(&run(&["rotate", p(&dir), "--passin", "env:CERT_PASS"]));
    let m = manifest(&dir);
    let g1 = m.current.clone().unwrap();
    let g2 = m.generations[1].clone();
    let sha1 = g2.certificate.as_ref().unwrap().sha1.clone();
    let org = Org::with(&format!("refused_certificates = [\"{sha1}\"]"));
    ok(&connect(&dir, &org, &[]));
    let mut args = vec![
        "rotate",
        p(&dir),
        "--passin",
        "env:CERT_PASS",
        "--deploy",
        "--wait",
        "3",
    ];
    let session = org.session();
    args.extend(session.iter().map(String::as_str));
    let out = run(&args);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for part in [
        format!(
            "the certificate of {} did not work within 3s: deploying the certificate of {g1} again",
            g2.dir
        ),
        "last answer: invalid_grant: invalid assertion".to_owned(),
        format!(
            "rolled back: the certificate of {g1} was deployed again and issues tokens; {g1} stays current"
        ),
    ] {
        assert!(stderr.contains(&part), "{part} in\n{stderr}");
    }
    let m = manifest(&dir);
    assert_eq!(m.current.as_deref(), Some(g1.as_str()));
    assert_eq!(
        m.active_app().unwrap().generation.as_deref(),
        Some(g1.as_str())
    );
    ok(&mint_dir(&dir));
}

#[test]
fn second_app_never_fails_a_mint_and_retire_previous_disables_the_first() {
    let org = Org::with("propagation_seconds = 2");
    let (_root, dir) = connected(&org);
    let first = manifest(&dir).active_app().unwrap().clone();
    let g1 = manifest(&dir).current.clone().unwrap();
    let session = org.session();
    let mints = MintLoop::start(&dir);
    let mut args = vec![
        "rotate",
        p(&dir),
        "--passin",
        "env:CERT_PASS",
        "--deploy",
        "--second-app",
        "--wait",
        "20",
    ];
    args.extend(session.iter().map(String::as_str));
    let out = run(&args);
    let all = mints.finish();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_all_minted(&all);
    let m = manifest(&dir);
    let g2 = m.current.clone().unwrap();
    assert_ne!(g1, g2);
    let second = m.active_app().unwrap().clone();
    assert_eq!(second.name, "acme_jwt_g2");
    assert_eq!(second.replaces.as_deref(), Some("acme_jwt"));
    assert_ne!(second.consumer_key, first.consumer_key);
    assert_eq!(
        m.salesforce.client_id.as_deref(),
        Some(second.consumer_key.as_str())
    );
    assert!(stdout.contains("rotated onto a second app"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "consumer key (client id, iss): {}",
            second.consumer_key
        )) && stderr.contains("--retire-previous"),
        "{stderr}"
    );
    // Programs on the first app keep working with the old key.
    ok(&mint_with(&dir, &g1, &first.consumer_key, &org));

    let mut args = vec!["rotate", p(&dir), "--retire-previous", "--wait", "20"];
    args.extend(session.iter().map(String::as_str));
    let out = run(&args);
    let stdout = ok(&out);
    assert!(
        stdout.contains("retired: the External Client App `acme_jwt`")
            && stdout.contains("a token request through it is now refused"),
        "{stdout}"
    );
    assert_eq!(
        mint_with(&dir, &g1, &first.consumer_key, &org)
            .status
            .code(),
        Some(1)
    );
    ok(&mint_dir(&dir));
    let m = manifest(&dir);
    assert!(
        m.apps
            .iter()
            .any(|a| a.name == "acme_jwt" && a.state == AppState::Retired)
    );
    // Nothing left to retire.
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("no previous app to retire"),
        "{}",
        texts(&out).1
    );
}

#[test]
fn deploy_needs_a_connected_directory_and_a_session() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let out = run(&["renew", p(&dir), "--passin", "env:CERT_PASS", "--deploy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("is not connected to an app"),
        "{}",
        texts(&out).1
    );
    // The renewal was not made.
    assert_eq!(manifest(&dir).generations.len(), 1);
    let out = run(&["connect", p(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("connect needs an admin session")
            && texts(&out).1.contains("--target-org"),
        "{}",
        texts(&out).1
    );
    let out = run(&[
        "connect",
        p(&dir),
        "--instance-url",
        "https://acme.my.salesforce.com",
        "--access-token",
        "pass:00Dsecret!token",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let (o, e) = texts(&out);
    assert!(
        e.contains("would put the admin token on the command line"),
        "{e}"
    );
    assert!(
        !o.contains("00Dsecret") && !e.contains("00Dsecret!token"),
        "{o}{e}"
    );
    // A user that does not deploy: refused before anything changes, with what the admin
    // needs (D5).
    let org = Org::with("");
    std::fs::write(&org.token, org.emu.session_for(USER).unwrap()).unwrap();
    let out = connect(&dir, &org, &[]);
    let (_, e) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!("the admin `{USER}` lacks the user permissions Modify Metadata Through Metadata API Functions (or Modify All Data), Customize Application, Manage Profiles and Permission Sets and Assign Permission Sets, needed to deploy the app, create the permission set and assign the permission set"))
            && e.contains("nothing was changed in the org"),
        "{e}"
    );
}

/// A fake `sf` on PATH: `script` is its shell body; returns the directory to put first
/// on PATH.
fn fake_sf(root: &Path, script: &str) -> PathBuf {
    let bin = root.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let sf = bin.join("sf");
    std::fs::write(&sf, format!("#!/bin/sh\n{script}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sf, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

fn path_with(bin: &Path) -> String {
    format!("{}:/usr/bin:/bin", bin.display())
}

fn connect_target(dir: &Path, path: &str) -> Output {
    certmint_offline()
        .args(["connect", p(dir), "--target-org", "emu", "--wait", "20"])
        .env("PATH", path)
        .env("CERT_PASS", PASS)
        .output()
        .unwrap()
}

const REDACTED: &str = "[REDACTED] Use 'sf org auth show-access-token' to view";

#[test]
fn a_new_sf_cli_that_redacts_org_display_gives_the_token_through_show_access_token() {
    let org = Org::with("");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    std::fs::write(
        root.path().join("display.json"),
        format!(
            r#"{{"status":0,"result":{{"id":"00DEMULATOR000125B","instanceUrl":"{}","accessToken":"{REDACTED}","username":"{ADMIN}"}},"warnings":[]}}"#,
            org.url()
        ),
    )
    .unwrap();
    std::fs::write(
        root.path().join("token.json"),
        format!(r#"{{"status":0,"result":{{"accessToken":"{}"}},"warnings":["This command exposes a sensitive Access Token"]}}"#, org.token_text()),
    )
    .unwrap();
    let r = root.path().display();
    let bin = fake_sf(
        root.path(),
        &format!(
            r#"case "$*" in
  "org display --target-org emu --json") cat {r}/display.json ;;
  "org auth show-access-token --target-org emu --json") cat {r}/token.json ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac"#
        ),
    );
    let out = connect_target(&dir, &path_with(&bin));
    let (o, e) = texts(&out);
    assert!(out.status.success(), "{o}\n{e}");
    assert!(
        e.contains("as the Salesforce CLI's org `emu` as admin@acme.example"),
        "{e}"
    );
    assert!(!o.contains(&org.token_text()) && !e.contains(&org.token_text()));
    ok(&mint_dir(&dir));
}

#[test]
fn sf_cli_session_errors_are_explained() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let display = format!(
        r#"{{"status":0,"result":{{"instanceUrl":"https://acme.my.salesforce.com","accessToken":"{REDACTED}","username":"{ADMIN}"}}}}"#
    );
    std::fs::write(root.path().join("display.json"), display).unwrap();
    let r = root.path().display();
    for (name, script, problem, hint) in [
        (
            "not logged in",
            r#"echo '{"name":"NamedOrgNotFoundError","message":"No authorization information found for emu.","exitCode":2,"status":2}'; exit 2"#.to_owned(),
            "the Salesforce CLI is not logged in to that org",
            "hint: log in first: `sf org login web --alias ALIAS",
        ),
        (
            "old sf, redacted",
            format!(
                r#"case "$*" in
  "org display"*) cat {r}/display.json ;;
  *) echo " ›   Warning: org auth show-access-token is not a sf command." >&2; exit 127 ;;
esac"#
            ),
            "the Salesforce CLI is too old to show the access token",
            "hint: update the Salesforce CLI",
        ),
        (
            "redacted everywhere",
            format!(
                r#"case "$*" in
  "org display"*) cat {r}/display.json ;;
  *) echo '{{"status":0,"result":{{"accessToken":"{REDACTED}"}}}}' ;;
esac"#
            ),
            "the Salesforce CLI hides the access token",
            "hint: update the Salesforce CLI (`sf update`), or pass --instance-url",
        ),
        (
            "garbage",
            "echo 'Segmentation fault'; exit 139".to_owned(),
            "the Salesforce CLI failed",
            "hint: run the sf command named above",
        ),
    ] {
        let sub = root.path().join(name.replace(' ', "_"));
        std::fs::create_dir_all(&sub).unwrap();
        let bin = fake_sf(&sub, &script);
        let out = connect_target(&dir, &path_with(&bin));
        let (_, e) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {e}");
        assert!(e.contains("cannot get an admin session from the Salesforce CLI"), "{name}: {e}");
        assert!(e.contains(problem), "{name}: {problem} in {e}");
        assert!(e.contains(hint), "{name}: {hint} in {e}");
    }
    // No sf at all.
    let empty = root.path().join("nobin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = connect_target(&dir, &path_with(&empty));
    let (_, e) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("the Salesforce CLI (sf) is not installed")
            && e.contains("npm install --global @salesforce/cli"),
        "{e}"
    );
}

#[test]
fn mint_sf_alias_passes_the_token_in_the_environment_never_on_the_command_line() {
    let org = Org::with("");
    let (root, dir) = connected(&org);
    let r = root.path().display();
    let bin = fake_sf(
        root.path(),
        &format!(
            r#"printf '%s\n' "$@" > {r}/args.txt
printf '%s' "$SF_ACCESS_TOKEN" > {r}/env.txt
echo '{{"status":0,"result":{{"username":"{USER}","orgId":"00DEMULATOR000125B","instanceUrl":"{}"}}}}'"#,
            org.url()
        ),
    );
    let out = certmint_offline()
        .args([
            "mint",
            "--dir",
            p(&dir),
            "--sf-alias",
            "emu-int",
            "--show-token",
            "--json",
        ])
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert!(out.status.success(), "{o}\n{e}");
    let v: serde_json::Value = serde_json::from_str(o.trim()).unwrap();
    let token = v["access_token"].as_str().unwrap();
    let args = std::fs::read_to_string(root.path().join("args.txt")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "org",
            "login",
            "access-token",
            "--instance-url",
            org.url(),
            "--alias",
            "emu-int",
            "--no-prompt",
            "--json"
        ]
    );
    assert!(!args.contains(token));
    assert_eq!(
        std::fs::read_to_string(root.path().join("env.txt")).unwrap(),
        token
    );
    assert!(
        e.contains("logged in to") && e.contains("under the alias `emu-int`"),
        "{e}"
    );
}

/// Without the Salesforce CLI, `mint --sf-alias` says how to do without it: `mint` has
/// no `--instance-url`/`--access-token` (those are connect's), so the hint names mint's
/// own way out, `--show-token -q` (issue 20).
#[test]
fn mint_sf_alias_without_sf_points_at_show_token_not_at_connect_flags() {
    let org = Org::with("");
    let (root, dir) = connected(&org);
    let empty = root.path().join("nobin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = certmint_offline()
        .args(["mint", "--dir", p(&dir), "--sf-alias", "emu-int"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert!(e.contains("certmint mint --show-token -q"), "{e}");
    assert!(
        !e.contains("--access-token") && !e.contains("--instance-url"),
        "{e}"
    );
}

/// The real Salesforce CLI: its JWT login as the admin gives connect its session
/// (`--target-org`; the pinned sf 2.108.6 predates `org auth show-access-token`, so the
/// token comes from `org display`); `sf project deploy start --metadata-dir` deploys what
/// `--dry-run --save-metadata` wrote; `mint --sf-alias` logs sf in with a minted token,
/// with the plain key deleted, and `sf org display` then works.
#[test]
fn real_sf_cli() {
    let sf = Sf::new();
    let org = Org::with("propagation_seconds = 1");
    sf.ok(&[
        "org",
        "login",
        "jwt",
        "--client-id",
        "ADMINCONSOLEKEY",
        "--username",
        ADMIN,
        "--jwt-key-file",
        &fx("keys/base.pkcs8.pem"),
        "--instance-url",
        org.url(),
        "--alias",
        "emu-admin",
    ]);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let mut c = certmint_offline();
    c.args([
        "connect",
        p(&dir),
        "--target-org",
        "emu-admin",
        "--wait",
        "20",
    ])
    .env("CERT_PASS", PASS);
    sf.env_into(&mut c);
    let out = c.output().unwrap();
    let (o, e) = texts(&out);
    assert!(out.status.success(), "{o}\n{e}");
    assert!(
        e.contains("as the Salesforce CLI's org `emu-admin` as admin@acme.example"),
        "{e}"
    );

    // --dry-run --save-metadata, deployed by sf itself, then connect finishes the job.
    let dir2 = root.path().join("other");
    let md = root.path().join("md");
    ok(&run(&[
        "init",
        p(&dir2),
        "--cn",
        "other-jwt",
        "--passout",
        "env:CERT_PASS",
        "-u",
        USER,
    ]));
    ok(&run(&[
        "connect",
        p(&dir2),
        "--dry-run",
        "--save-metadata",
        p(&md),
    ]));
    // The permission set the files name must exist first (connect makes it before its
    // deploy; whoever deploys the saved files makes it so too, here with sf).
    let ps = sf.ok_with(
        &[
            "data",
            "create",
            "record",
            "--sobject",
            "PermissionSet",
            "--values",
            "Name=other_jwt Label=other_jwt",
            "--target-org",
            "emu-admin",
        ],
        &[],
    );
    assert!(
        ps["id"].as_str().is_some_and(|id| id.starts_with("0PS")),
        "{ps:#}"
    );
    let dep = sf.ok_with(
        &[
            "project",
            "deploy",
            "start",
            "--metadata-dir",
            p(&md),
            "--target-org",
            "emu-admin",
            "--wait",
            "2",
        ],
        &[("SF_ORG_METADATA_REST_DEPLOY", "true")],
    );
    assert_eq!(dep["status"], "Succeeded", "{dep:#}");
    let mut c = certmint_offline();
    c.args([
        "connect",
        p(&dir2),
        "--target-org",
        "emu-admin",
        "--wait",
        "20",
    ])
    .env("CERT_PASS", PASS);
    sf.env_into(&mut c);
    let out = c.output().unwrap();
    let (o, e) = texts(&out);
    assert!(out.status.success(), "{o}\n{e}");

    // mint --sf-alias with the encrypted key only.
    let m = manifest(&dir);
    let g = m.current.clone().unwrap();
    std::fs::remove_file(dir.join(&g).join("server.key")).unwrap();
    let mut c = certmint_offline();
    c.args([
        "mint",
        "--dir",
        p(&dir),
        "--passin",
        "env:CERT_PASS",
        "--sf-alias",
        "emu-int",
    ])
    .env("CERT_PASS", PASS);
    sf.env_into(&mut c);
    let out = c.output().unwrap();
    let (o, e) = texts(&out);
    assert!(out.status.success(), "{o}\n{e}");
    let d = sf.ok(&["org", "display", "--target-org", "emu-int"]);
    assert_eq!(d["connectedStatus"], "Connected", "{d:#}");
    assert_eq!(d["username"], USER);
    assert_eq!(
        d["instanceUrl"].as_str().unwrap().trim_end_matches('/'),
        org.url()
    );
}

#[test]
fn demo_runs_init_connect_and_mint() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let out = run(&["demo", p(&dir)]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for part in [
        "1. the recipe",
        "2. certmint's emulated org listens on",
        "created the permission set `certmint_demo`",
        "deployed the External Client App `certmint_demo`",
        "assigned the permission set `certmint_demo` to integration@certmint-demo.example",
        "3. signed an RS256 assertion",
    ] {
        assert!(stderr.contains(part), "{part} in\n{stderr}");
    }
    assert!(
        stdout.contains("verified user: integration@certmint-demo.example"),
        "{stdout}"
    );
    let m = manifest(&dir);
    let app = m.active_app().unwrap();
    assert_eq!(app.state, AppState::Verified);
    assert_eq!(
        m.salesforce.client_id.as_deref(),
        Some(app.consumer_key.as_str())
    );
    // Again, in the same directory, against a fresh emulated org: the app is made again
    // with the recorded consumer key.
    let out = run(&["demo", p(&dir)]);
    ok(&out);
    assert_eq!(
        manifest(&dir).active_app().unwrap().consumer_key,
        app.consumer_key
    );
    // init on the connected directory: nothing to do, and its next steps say it is
    // connected instead of proposing `connect` again.
    let out = run(&["init", p(&dir)]);
    let (_, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "The directory is connected to the External Client App `certmint_demo` (certmint connect): mint with\n       certmint mint --dir {}\n",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("--target-org ALIAS"), "{stderr}");
}

#[test]
fn for_org_to_org_prints_the_calling_orgs_steps_with_this_directorys_values() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    let out = run(&["connect", p(&dir), "--dry-run", "--for-org-to-org"]);
    let stdout = ok(&out);
    let key = manifest(&dir).apps[0].consumer_key.clone();
    for part in [
        "Org to org: a calling org signs the assertion with the JKS (docs/org-to-org.md)".to_owned(),
        format!("certmint check --salesforce {} --passin env:CERT_PASS", p(&dir.join("current/server.jks"))),
        "Import from Keystore".to_owned(),
        "the certificate's Unique Name becomes acme_jwt".to_owned(),
        format!("jwt.setSub('{USER}');"),
        "jwt.setAud('https://login.salesforce.com');".to_owned(),
        format!("jwt.setIss('{key}');"),
        "Auth.JWS jws = new Auth.JWS(jwt, 'acme_jwt');".to_owned(),
        "new Auth.JWTBearerTokenExchange('https://login.salesforce.com/services/oauth2/token', jws);".to_owned(),
    ] {
        assert!(stdout.contains(&part), "{part} in\n{stdout}");
    }
}
