//! The org side against an org that behaves as a real one does (issue 19): one regression
//! test per difference of `../shared/reference/salesforce-org-fidelity.md` (D1 to D10),
//! each failing against the client as it was before, and the new commands (`--check-only`,
//! `disconnect`, a deploy id the org no longer knows). The org's state is read back
//! through the REST and SOAP APIs with the wire contract's own parsers, never through the
//! client's code under test.

use super::*;
use certmint::wire::metadata::soap::{
    ListQuery, SOAP_CONTENT_TYPE, SoapCall, parse_list_response, parse_read_response, soap_path,
};
use certmint::wire::metadata::{Element, MetadataType};

impl Org {
    fn post(&self, path: &str, ctype: &str, body: &[u8]) -> (u16, String) {
        let mut resp = ureq::post(&format!("{}{path}", self.url()))
            .config()
            .http_status_as_error(false)
            .build()
            .header("Authorization", &format!("Bearer {}", self.token_text()))
            .content_type(ctype)
            .send(body)
            .unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    fn soap(&self, call: &SoapCall) -> Vec<u8> {
        let env = call.to_envelope(&self.token_text());
        let (status, body) = self.post(&soap_path(62), SOAP_CONTENT_TYPE, env.as_bytes());
        assert_eq!(status, 200, "{body}");
        body.into_bytes()
    }

    /// The full names of the org's components of `kind` (SOAP listMetadata).
    fn list(&self, kind: MetadataType) -> Vec<String> {
        let bytes = self.soap(&SoapCall::ListMetadata {
            queries: vec![ListQuery {
                type_name: kind.name().into(),
                folder: None,
            }],
            as_of_version: None,
        });
        let mut names: Vec<String> = parse_list_response(&bytes)
            .unwrap()
            .into_iter()
            .map(|p| p.full_name)
            .collect();
        names.sort();
        names
    }

    /// Component `name` of `kind` as the org holds it (SOAP readMetadata).
    fn read(&self, kind: MetadataType, name: &str) -> Option<Element> {
        let bytes = self.soap(&SoapCall::ReadMetadata {
            type_name: kind.name().into(),
            full_names: vec![name.into()],
        });
        parse_read_response(&bytes).unwrap().remove(0)
    }

    /// The records of a SOQL query.
    fn query(&self, soql: &str) -> Vec<serde_json::Value> {
        let q: String = form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        let mut resp = ureq::get(&format!("{}/services/data/v62.0/query?q={q}", self.url()))
            .header("Authorization", &format!("Bearer {}", self.token_text()))
            .call()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        v["records"].as_array().unwrap().clone()
    }
}

fn parts_of(org: &Org, kind: MetadataType, app: &str) -> Vec<String> {
    org.list(kind)
        .into_iter()
        .filter(|n| n.starts_with(app))
        .collect()
}

fn connected_dir(org: &Org, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (root, dir) = initialized();
    ok(&connect(&dir, org, extra));
    (root, dir)
}

/// A directory made by init, not connected.
fn initialized() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir);
    (root, dir)
}

fn with_session(org: &Org, args: &[&str]) -> Output {
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.extend(org.session());
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&refs)
}

/// D1: a new External Client App's policies are the ones Salesforce generates (a custom
/// name beside them is a duplicate), under either reading of when they are generated;
/// the app is read back and confirmed.
#[test]
fn d1_a_new_app_is_deployed_to_the_policies_salesforce_generates() {
    for when in ["at-creation", "after-deploy"] {
        let org = Org::with(&format!("generated_policies = \"{when}\""));
        let (_root, dir) = connected_dir(&org, &[]);
        assert_eq!(
            parts_of(
                &org,
                MetadataType::ExtlClntAppOauthConfigurablePolicies,
                "acme_jwt"
            ),
            ["acme_jwt_oauth_defaultPolicy"],
            "{when}"
        );
        assert_eq!(
            parts_of(
                &org,
                MetadataType::ExtlClntAppConfigurablePolicies,
                "acme_jwt"
            ),
            ["acme_jwt_defaultPolicy"]
        );
        let policy = org
            .read(
                MetadataType::ExtlClntAppOauthConfigurablePolicies,
                "acme_jwt_oauth_defaultPolicy",
            )
            .unwrap();
        assert_eq!(
            policy.text_at(&["permittedUsersPolicyType"]),
            Some("AdminApprovedPreAuthorized")
        );
        assert_eq!(
            policy.text_at(&["commaSeparatedPermissionSet"]),
            Some("acme_jwt")
        );
        let rec = manifest(&dir).active_app().unwrap().clone();
        assert_eq!(
            rec.parts.unwrap().oauth_policy.as_deref(),
            Some("acme_jwt_oauth_defaultPolicy")
        );
        ok(&mint_dir(&dir));
    }
}

const SETUP_APP: &str = r#"
[[apps]]
name = "Setup_App"
consumer_key = "SETUPAPPKEY000001"
certificate = "../certs/base.crt"
external_client_app = true
permitted_users = "self-authorize"
scopes = "web refresh_token"
"#;

/// D1, D8: an External Client App made in Setup (`--app-name`) is adopted: its own part
/// names (no second policy), its own consumer key read from the org and never sent back,
/// its other settings kept.
#[test]
fn d1_d8_an_app_made_in_setup_is_adopted_with_its_parts_and_its_key() {
    let org = Org::start(&org_toml("", "", SETUP_APP));
    let (root, dir) = initialized();
    let out = connect(&dir, &org, &["--app-name", "Setup_App"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the org has the External Client App `Setup_App` (parts: Setup_App_glbloauth, Setup_App_oauth, Setup_App_oauthPlcy, Setup_App_plcy)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("consumer key:  SETUPAPPKEY000001"),
        "{stdout}"
    );
    assert_eq!(
        parts_of(
            &org,
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            "Setup_App"
        ),
        ["Setup_App_oauthPlcy"]
    );
    let scopes = org
        .read(MetadataType::ExtlClntAppOauthSettings, "Setup_App_oauth")
        .unwrap();
    let scopes = scopes
        .text_at(&["commaSeparatedOauthScopes"])
        .unwrap()
        .to_owned();
    assert!(scopes.contains("Web") && scopes.contains("Api"), "{scopes}");
    let rec = manifest(&dir).active_app().unwrap().clone();
    assert!(!rec.created);
    assert_eq!(rec.consumer_key, "SETUPAPPKEY000001");
    ok(&mint_dir(&dir));
    let again = connect(&dir, &org, &[]);
    assert!(
        texts(&again).0.contains("already connected"),
        "{}",
        texts(&again).0
    );

    // An admin the org does not show the key to gives it with --client-id.
    let org = Org::start(&org_toml("", "consumer_key_readable = false", SETUP_APP));
    let dir = root.path().join("acme2");
    init(&dir);
    let out = connect(&dir, &org, &["--app-name", "Setup_App"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("give it with --client-id"),
        "{}",
        texts(&out).1
    );
    ok(&connect(
        &dir,
        &org,
        &[
            "--app-name",
            "Setup_App",
            "--client-id",
            "SETUPAPPKEY000001",
        ],
    ));
    ok(&mint_dir(&dir));
}

/// D1, D9: when the org will not show the parts (the SOAP API refusing the session, as
/// for a JWT-format token), the duplicate policy the deploy runs into is explained with
/// what to do, never with "run it again".
#[test]
fn d1_d9_without_the_metadata_reads_the_duplicate_is_explained() {
    let org = Org::start(&org_toml("", "soap_sessions = false", SETUP_APP));
    let (root, dir) = initialized();
    let out = connect(
        &dir,
        &org,
        &[
            "--app-name",
            "Setup_App",
            "--client-id",
            "SETUPAPPKEY000001",
        ],
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "note: the External Client App `Setup_App` exists, but the org would not list its parts",
        "JWT-format access tokens",
        "duplicate value found: ExternalClientApplicationId duplicates value on record with id:",
        "Salesforce generates an app's OAuth and plugin policies itself",
    ] {
        assert!(stderr.contains(part), "{part} in\n{stderr}");
    }
    assert!(!stderr.contains("it resumes"), "{stderr}");
    // A new app needs no reads.
    let dir = root.path().join("acme2");
    init(&dir);
    ok(&connect(&dir, &org, &[]));
    ok(&mint_dir(&dir));
}

/// D2: the permission set exists and is assigned before the deploy that names it; an org
/// that wants the deploying admin to hold it gets that for one more deploy, taken back.
#[test]
fn d2_the_permission_set_comes_first_and_the_admin_holds_it_only_if_asked() {
    let org = Org::with("permission_sets_assigned_to_deployer = true");
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let created = stderr
        .find("created the permission set `acme_jwt`")
        .unwrap();
    let deploying = stderr.find("deploying 5 components").unwrap();
    assert!(created < deploying, "{stderr}");
    for part in [
        "must be assigned to the deploying user first",
        "assigning it to the deploying admin for the length of the deploy",
        "removed the deploying admin's assignment of the permission set",
    ] {
        assert!(stderr.contains(part), "{part} in\n{stderr}");
    }
    let admin = org.query(&format!("SELECT Id FROM User WHERE Username = '{ADMIN}'"));
    let admin_id = admin[0]["Id"].as_str().unwrap();
    let held = org.query(&format!(
        "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{admin_id}' AND PermissionSet.Name = 'acme_jwt'"
    ));
    assert!(held.is_empty(), "{held:?}");
    assert!(
        manifest(&dir)
            .active_app()
            .unwrap()
            .admin_assignment
            .is_none()
    );
    ok(&mint_dir(&dir));

    // An org that does not ask never sees the admin assigned.
    let org = Org::with("");
    let (_root, _dir) = connected_dir(&org, &[]);
    let held = org.query(&format!(
        "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{admin_id}' AND PermissionSet.Name = 'acme_jwt'"
    ));
    assert!(held.is_empty(), "{held:?}");
}

/// D3: an External Client App is proven at the org's My Domain, whatever login URL init
/// recorded (the login host refuses it: `External client app is not installed in this
/// org`), and mint --dir and the printed sf line go there too.
#[test]
fn d3_an_eca_is_proven_at_the_my_domain_not_the_recorded_login_url() {
    let org = Org::start_with(
        &org_toml("", "", ""),
        certmint::emulator::ServerOptions {
            login_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..certmint::emulator::ServerOptions::default()
        },
    );
    let login = org.emu.login_url().unwrap().to_owned();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    ok(&run(&[
        "init",
        p(&dir),
        "--cn",
        "acme-jwt",
        "--passout",
        "env:CERT_PASS",
        "-u",
        USER,
        "--login-url",
        &login,
    ]));
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("--instance-url {}", org.url())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("login URL:     {}", org.url())),
        "{stdout}"
    );
    let m = manifest(&dir);
    assert_eq!(m.salesforce.login_url.as_deref(), Some(org.url()));
    ok(&mint_dir(&dir));
    // The login host refuses this app.
    let key = m.active_app().unwrap().consumer_key.clone();
    let g = m.current.clone().unwrap();
    let out = run(&[
        "mint",
        "--key",
        p(&dir.join(&g).join("server.key")),
        "--client-id",
        &key,
        "-u",
        USER,
        "--login-url",
        &login,
        "--no-verify",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("External client app is not installed in this org"),
        "{}",
        texts(&out).1
    );
}

/// D4: the default wait is Salesforce's own 15 minutes.
#[test]
fn d4_the_default_wait_is_fifteen_minutes() {
    for cmd in ["connect", "renew", "rotate", "disconnect"] {
        let out = run(&[cmd, "--help"]);
        let help = ok(&out);
        assert!(help.contains("[default: 900]"), "{cmd}: {help}");
    }
}

/// D4: a long wait is never silent in a log: a line at least every 30 seconds.
#[cfg(feature = "slow-tests")]
#[test]
fn d4_a_long_wait_prints_a_line_every_thirty_seconds_in_a_log() {
    let org = Org::with("propagation_seconds = 40");
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &["--wait", "90"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("  … still waiting for the app to issue a token: "),
        "{stderr}"
    );
}

/// D5: an admin without the permissions the run needs is told which, before anything
/// changes in the org.
#[test]
fn d5_missing_permissions_are_named_before_anything_changes() {
    let org = Org::start(&org_toml(
        "",
        "",
        r#"
[[profiles]]
name = "Deployer"
permissions = ["ModifyMetadata", "CustomizeApplication"]

[[users]]
username = "deployer@acme.example"
profile = "Deployer"
"#,
    ));
    std::fs::write(
        &org.token,
        org.emu.session_for("deployer@acme.example").unwrap(),
    )
    .unwrap();
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("lacks the user permissions Manage Profiles and Permission Sets and Assign Permission Sets, needed to create the permission set and assign the permission set"),
        "{stderr}"
    );
    // Nothing was made.
    assert!(org.list(MetadataType::ExternalClientApplication).is_empty());
    assert!(
        org.query("SELECT Id FROM PermissionSet WHERE Name = 'acme_jwt'")
            .is_empty()
    );
}

/// A connected app other integrations use: deployed with settings certmint must keep.
const SHARED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>ops@acme.example</contactEmail>
    <ipRanges><end>10.0.0.255</end><start>10.0.0.1</start></ipRanges>
    <label>Shared Integration</label>
    <oauthConfig>
        <callbackUrl>https://acme.example/callback</callbackUrl>
        <consumerKey>SHAREDAPPKEY0001</consumerKey>
        <isAdminApproved>true</isAdminApproved>
        <scopes>Web</scopes>
        <scopes>Full</scopes>
    </oauthConfig>
    <oauthPolicy><ipRelaxation>BYPASS</ipRelaxation><refreshTokenPolicy>zero</refreshTokenPolicy></oauthPolicy>
    <profileName>System Administrator</profileName>
    <sessionPolicy><sessionTimeout>15</sessionTimeout></sessionPolicy>
</ConnectedApp>
"#;

fn deploy_shared(org: &Org) {
    let mut pkg = certmint::wire::metadata::DeployPackage::new(62);
    pkg.add_element(
        MetadataType::ConnectedApp,
        "Shared_App",
        &Element::parse(SHARED.as_bytes()).unwrap(),
    )
    .unwrap();
    let status = deploy_by_rest(org, &pkg.to_zip().unwrap());
    assert_eq!(status["deployResult"]["status"], "Succeeded", "{status:#}");
}

/// D6: a connected app is changed, not rewritten: only certmint's certificate, admin
/// approval and permission set go on; its label, callback URL, scopes, policies, IP
/// ranges and other pre-authorizations stay. `--dry-run` shows the changes field by
/// field first.
#[test]
fn d6_a_shared_connected_app_keeps_everything_but_certmints_changes() {
    let org = Org::start(&org_toml("allow_connected_app_creation = true", "", ""));
    deploy_shared(&org);
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &["--connected-app", "Shared_App", "--dry-run"]);
    let stdout = ok(&out);
    assert!(
        stdout.contains("  change ConnectedApp `Shared_App`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("      permissionSetName: acme_jwt"),
        "{stdout}"
    );
    assert!(
        stdout.contains("      oauthConfig/certificate: certificate SHA-256 "),
        "{stdout}"
    );
    assert!(!stdout.contains("label"), "{stdout}");
    ok(&connect(&dir, &org, &["--connected-app", "Shared_App"]));
    let app = org.read(MetadataType::ConnectedApp, "Shared_App").unwrap();
    assert_eq!(app.text_at(&["label"]), Some("Shared Integration"));
    assert_eq!(
        app.text_at(&["oauthConfig", "callbackUrl"]),
        Some("https://acme.example/callback")
    );
    assert_eq!(app.texts_at(&["oauthConfig", "scopes"]), ["Web", "Full"]);
    assert_eq!(
        app.text_at(&["oauthPolicy", "ipRelaxation"]),
        Some("BYPASS")
    );
    assert_eq!(
        app.text_at(&["sessionPolicy", "sessionTimeout"]),
        Some("15")
    );
    assert_eq!(app.text_at(&["ipRanges", "start"]), Some("10.0.0.1"));
    assert_eq!(app.texts_at(&["profileName"]), ["System Administrator"]);
    assert_eq!(app.texts_at(&["permissionSetName"]), ["acme_jwt"]);
    assert_eq!(
        app.text_at(&["oauthConfig", "consumerKey"]),
        Some("SHAREDAPPKEY0001")
    );
    ok(&mint_dir(&dir));
}

/// D7: retiring a connected app takes certmint's pre-authorization off it (an explicit
/// empty list: an omitted one is kept), under either reading of an omitted certificate,
/// and a refused token proves it.
#[test]
fn d7_retiring_a_connected_app_really_retires_it() {
    let org = Org::start(&org_toml(
        "allow_connected_app_creation = true",
        "omitted_certificate = \"keeps\"",
        "",
    ));
    deploy_shared(&org);
    let (_root, dir) = initialized();
    ok(&connect(&dir, &org, &["--connected-app", "Shared_App"]));
    let g1 = manifest(&dir).current.clone().unwrap();
    ok(&with_session(
        &org,
        &[
            "rotate",
            p(&dir),
            "--passin",
            "env:CERT_PASS",
            "--deploy",
            "--second-app",
            "--wait",
            "20",
        ],
    ));
    let out = with_session(
        &org,
        &[
            "rotate",
            p(&dir),
            "--retire-previous",
            "--passin",
            "env:CERT_PASS",
            "--wait",
            "20",
        ],
    );
    let stdout = ok(&out);
    assert!(
        stdout.contains("a token request through it is now refused"),
        "{stdout}"
    );
    let app = org.read(MetadataType::ConnectedApp, "Shared_App").unwrap();
    assert!(
        app.texts_at(&["permissionSetName"])
            .iter()
            .all(|p| p.is_empty()),
        "{app:?}"
    );
    assert_eq!(app.texts_at(&["profileName"]), ["System Administrator"]);
    assert_eq!(
        mint_with(&dir, &g1, "SHAREDAPPKEY0001", &org).status.code(),
        Some(1)
    );
}

/// D8: an app that exists never gets its consumer key again, even when it stopped
/// issuing tokens (here: someone removed the user's permission set assignment).
#[test]
fn d8_no_consumer_key_goes_to_an_app_that_exists() {
    let org = Org::with("");
    let (_root, dir) = connected_dir(&org, &[]);
    let user = org.query(&format!("SELECT Id FROM User WHERE Username = '{USER}'"));
    let user_id = user[0]["Id"].as_str().unwrap().to_owned();
    let asg = org.query(&format!(
        "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{user_id}' AND PermissionSet.Name = 'acme_jwt'"
    ));
    let asg = asg[0]["Id"].as_str().unwrap().to_owned();
    let status = ureq::delete(&format!(
        "{}/services/data/v62.0/sobjects/PermissionSetAssignment/{asg}",
        org.url()
    ))
    .header("Authorization", &format!("Bearer {}", org.token_text()))
    .call()
    .unwrap()
    .status();
    assert_eq!(status.as_u16(), 204);
    assert_eq!(mint_dir(&dir).status.code(), Some(1));
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("assigned the permission set `acme_jwt`"),
        "{stderr}"
    );
    assert!(!stderr.contains("deploying"), "{stderr}");
    ok(&mint_dir(&dir));
}

/// D10: a managed package's permission set of the same name is never taken for the
/// org's own.
#[test]
fn d10_a_packages_permission_set_of_the_same_name_is_not_taken() {
    let org = Org::start(&org_toml(
        "",
        "",
        r#"
[[permission_sets]]
name = "acme_jwt"
namespace = "pkg"
"#,
    ));
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("created the permission set `acme_jwt`"),
        "{stderr}"
    );
    let held = org.query(&format!(
        "SELECT PermissionSet.NamespacePrefix FROM PermissionSetAssignment WHERE Assignee.Username = '{USER}' AND PermissionSet.Name = 'acme_jwt'"
    ));
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(
        held[0]["PermissionSet"]["NamespacePrefix"].is_null(),
        "{held:?}"
    );
    ok(&mint_dir(&dir));
}

/// `--check-only`: the plan validated by the org, what would change shown, nothing
/// changed in the org or the directory; for a rotation too.
#[test]
fn check_only_validates_and_changes_nothing() {
    let org = Org::with("");
    let (_root, dir) = initialized();
    let out = connect(&dir, &org, &["--check-only"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("checked: the org accepts the plan for the External Client App `acme_jwt` (check-only deploy 0Af"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  create ExternalClientApplication `acme_jwt`"),
        "{stdout}"
    );
    assert!(
        stderr.contains("the permission set `acme_jwt` does not exist yet"),
        "{stderr}"
    );
    assert!(org.list(MetadataType::ExternalClientApplication).is_empty());
    assert!(
        org.query("SELECT Id FROM PermissionSet WHERE Name = 'acme_jwt'")
            .is_empty()
    );
    // A refused check: exit 1, explained, still nothing changed.
    let out = connect(&dir, &org, &["--check-only", "--profile", "Nobody"]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no Profile named Nobody"), "{stderr}");
    assert!(stderr.contains("this was a check-only deploy"), "{stderr}");

    ok(&connect(&dir, &org, &[]));
    let before = manifest(&dir);
    let out = with_session(
        &org,
        &[
            "rotate",
            p(&dir),
            "--passin",
            "env:CERT_PASS",
            "--deploy",
            "--check-only",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("checked: the org accepts the new certificate"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  change ExtlClntAppGlobalOauthSettings `acme_jwt_glbloauth`"),
        "{stdout}"
    );
    let after = manifest(&dir);
    assert_eq!(after.generations.len(), before.generations.len());
    assert_eq!(after.apps, before.apps);
    ok(&mint_dir(&dir));
}

/// `disconnect`: lists, asks (or --yes), removes the apps certmint created and its
/// permission set, records it; a second run finds nothing left.
#[test]
fn disconnect_removes_what_certmint_made_and_only_that() {
    let org = Org::start(&org_toml("", "", SETUP_APP));
    let (_root, dir) = connected_dir(&org, &[]);
    ok(&with_session(
        &org,
        &[
            "rotate",
            p(&dir),
            "--passin",
            "env:CERT_PASS",
            "--deploy",
            "--second-app",
            "--wait",
            "20",
        ],
    ));
    let out = with_session(&org, &["disconnect", p(&dir), "--dry-run"]);
    let stdout = ok(&out);
    for part in [
        "remove the External Client App `acme_jwt`",
        "remove the External Client App `acme_jwt_g2`",
        &format!("remove the assignment of the permission set `acme_jwt` to {USER}"),
        "delete the permission set `acme_jwt` (certmint created it)",
    ] {
        assert!(stdout.contains(part), "{part} in\n{stdout}");
    }
    // No terminal and no --yes: nothing happens.
    let out = with_session(&org, &["disconnect", p(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("pass --yes"), "{}", texts(&out).1);
    assert_eq!(org.list(MetadataType::ExternalClientApplication).len(), 3);

    let out = with_session(&org, &["disconnect", p(&dir), "--yes"]);
    let stdout = ok(&out);
    assert!(stdout.contains("disconnected: 2 apps removed"), "{stdout}");
    assert_eq!(
        org.list(MetadataType::ExternalClientApplication),
        ["Setup_App"]
    );
    assert!(
        parts_of(
            &org,
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            "acme"
        )
        .is_empty()
    );
    assert!(
        org.query("SELECT Id FROM PermissionSet WHERE Name = 'acme_jwt'")
            .is_empty()
    );
    let m = manifest(&dir);
    assert!(
        m.apps.iter().all(|a| a.state == AppState::Removed),
        "{:?}",
        m.apps
    );
    assert!(m.active_app().is_none());
    let out = with_session(&org, &["disconnect", p(&dir), "--yes"]);
    assert!(ok(&out).contains("nothing left to remove"));
    // The directory is intact: connect makes a new app.
    ok(&connect(&dir, &org, &[]));
    ok(&mint_dir(&dir));
}

/// A deploy the org refuses at once (HTTP 403 `INSUFFICIENT_ACCESS`: here `disconnect`
/// by a user who may not deploy) exits 1, as the help of every deploying command says,
/// not 2 (issue 20); nothing is removed.
#[test]
fn a_deploy_refused_with_http_403_exits_1() {
    let org = Org::start(&org_toml(
        "",
        "",
        r#"
[[profiles]]
name = "Reader"
permissions = []

[[users]]
username = "reader@acme.example"
profile = "Reader"
"#,
    ));
    let (_root, dir) = connected_dir(&org, &[]);
    let admin = std::fs::read(&org.token).unwrap();
    std::fs::write(
        &org.token,
        org.emu.session_for("reader@acme.example").unwrap(),
    )
    .unwrap();
    let out = with_session(&org, &["disconnect", p(&dir), "--yes"]);
    std::fs::write(&org.token, admin).unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("HTTP 403, INSUFFICIENT_ACCESS"), "{stderr}");
    assert_eq!(org.list(MetadataType::ExternalClientApplication).len(), 1);
    assert!(manifest(&dir).active_app().is_some());
}

/// An interrupted run whose deploy the org no longer knows (a restarted emulator here)
/// starts that phase again instead of failing on every rerun.
#[test]
fn a_deploy_the_org_no_longer_knows_is_started_again() {
    let toml = org_toml("", "", "").replace("deploy_millis = 200", "deploy_millis = 4000");
    let org = Org::start(&toml);
    let (_root, dir) = initialized();
    // A deploy of 4 s and a wait shorter than the deploy poll's 60 s floor is not
    // possible: interrupt it instead, by stopping the org while it runs.
    let child = std::thread::spawn({
        let dir = dir.clone();
        let session = org.session();
        move || {
            let mut a = vec![
                "connect".to_owned(),
                p(&dir).to_owned(),
                "--wait".into(),
                "20".into(),
            ];
            a.extend(session);
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            run(&refs)
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while manifest(&dir)
        .apps
        .first()
        .is_none_or(|a| a.state != AppState::Deploying)
    {
        assert!(std::time::Instant::now() < deadline, "no deploy started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(org);
    let out = child.join().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let recorded = manifest(&dir).apps[0].deploy_id.clone().unwrap();
    // The same org (same id), freshly started: it has never heard of that deploy.
    let org = Org::start(&toml.replace("deploy_millis = 4000", "deploy_millis = 200"));
    let out = connect(&dir, &org, &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "the org no longer knows deploy {recorded}: deploying again"
        )),
        "{stderr}"
    );
    ok(&mint_dir(&dir));
}
