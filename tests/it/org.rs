//! The emulator as an org (issue 14): REST writes, SOQL, identity bound to the token's
//! user, the emulator's own URL as audience under every loopback name, the Date header on
//! the emulator's clock, and the Metadata API deploy with its rules (consumer keys,
//! connected app creation, checkOnly, rollback, unknown types, propagation with the old
//! certificate still verifying), over raw HTTP against an in-process emulator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certmint::emulator::{Running, ServerOptions};
use certmint::jwt::{HeaderStyle, Signer};
use certmint::wire::metadata::soap::{
    ListQuery, SoapAnswerError, SoapCall, parse_list_response, parse_read_response, soap_path,
};
use certmint::wire::metadata::{
    Component, ConnectedApp, ConnectedAppOauthConfig, DeployOptions, DeployPackage,
    DeployRequestResponse, DeployStatus, ExternalClientApplication, ExtlClntAppGlobalOauthSettings,
    ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings, OauthScope,
    PermittedUsersPolicyType, deploy_request_path, multipart_body,
};
use serde_json::Value;

use crate::support::emulator as emu;
use crate::support::{fixture_key, fixture_text};

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn send(base: &str, method: &str, path: &str, token: Option<&str>, ct: &str, body: &[u8]) -> Reply {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before taking the whole body (413): then the
    // answer is still there to read.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        head,
        body: buf[split + 4..].to_vec(),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn assertion(key: &str, iss: &str, sub: &str, aud: &str) -> String {
    // Three days ahead: also valid on an emulator clock running a day ahead.
    let claims = format!(
        r#"{{"iss":"{iss}","sub":"{sub}","aud":"{aud}","exp":{}}}"#,
        now() + 3 * 86400
    );
    Signer::new(&fixture_key(key), HeaderStyle::Bare)
        .unwrap()
        .sign_json(claims.as_bytes())
        .unwrap()
}

fn grant(base: &str, key: &str, iss: &str, sub: &str, aud: &str) -> Reply {
    let body = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}",
        assertion(key, iss, sub, aud)
    );
    send(
        base,
        "POST",
        "/services/oauth2/token",
        None,
        "application/x-www-form-urlencoded",
        body.as_bytes(),
    )
}

fn token(base: &str, iss: &str, sub: &str) -> String {
    let r = grant(
        base,
        "keys/base.pkcs8.pem",
        iss,
        sub,
        "https://login.salesforce.com",
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn query(base: &str, tok: &str, q: &str) -> Reply {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    send(
        base,
        "GET",
        &format!("/services/data/v66.0/query?q={q}"),
        Some(tok),
        "text/plain",
        b"",
    )
}

#[test]
fn permission_sets_assignments_and_queries() {
    let e = emu::start(emu::acme());
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    // bob is refused until a permission set the app pre-authorizes is assigned to him
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "KEY_MAIN",
            "bob@example.com",
            "https://login.salesforce.com"
        )
        .status,
        400
    );
    let r = send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSet",
        Some(&tok),
        "application/json",
        br#"{"Name":"Ops_Set","Label":"Ops"}"#,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let dup = send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSet",
        Some(&tok),
        "application/json",
        br#"{"Name":"Ops_Set"}"#,
    );
    assert_eq!(dup.status, 400);
    assert_eq!(dup.json()[0]["errorCode"], "DUPLICATE_VALUE");
    let ps = query(
        base,
        &tok,
        "SELECT Id FROM PermissionSet WHERE Name = 'CertMint_Integration'",
    )
    .json();
    let ps_id = ps["records"][0]["Id"].as_str().unwrap().to_owned();
    let bob = query(
        base,
        &tok,
        "select id from user where username = 'BOB@example.com'",
    )
    .json();
    assert_eq!(bob["totalSize"], 1, "{bob}");
    let bob_id = bob["records"][0]["Id"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"PermissionSetId":"{ps_id}","AssigneeId":"{bob_id}"}}"#);
    let r = send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSetAssignment",
        Some(&tok),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSetAssignment",
        Some(&tok),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(r.json()[0]["errorCode"], "DUPLICATE_VALUE");
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "KEY_MAIN",
            "bob@example.com",
            "https://login.salesforce.com"
        )
        .status,
        200
    );
    let a = query(base, &tok, &format!("SELECT Id, PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = '{bob_id}' AND PermissionSet.IsOwnedByProfile = false")).json();
    assert_eq!(
        a["records"][0]["PermissionSet"]["Name"], "CertMint_Integration",
        "{a}"
    );
    // the Profile subquery sf org display user sends
    let p = query(base, &tok, "SELECT name FROM Profile WHERE Id IN (SELECT ProfileId FROM User WHERE username='erin@example.com')").json();
    assert_eq!(p["records"][0]["Name"], "Integration", "{p}");
    // unsupported objects: INVALID_TYPE with the name as written; SandboxProcess (tooling) is empty
    let r = query(base, &tok, "SELECT Id FROM ScratchOrgInfo");
    assert_eq!(r.status, 400);
    assert!(
        r.json()[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("sObject type 'ScratchOrgInfo' is not supported.")
    );
    let r = send(
        base,
        "GET",
        "/services/data/v66.0/tooling/query?q=SELECT+Id,SandboxName+FROM+SandboxProcess",
        Some(&tok),
        "text/plain",
        b"",
    );
    assert_eq!(r.json()["totalSize"], 0);
    // columns, limits header, WWW-Authenticate
    let c = send(
        base,
        "GET",
        "/services/data/v66.0/query?q=SELECT+Id,Profile.Name+FROM+User&columns=true",
        Some(&tok),
        "text/plain",
        b"",
    );
    let c = c.json();
    assert_eq!(c["columnMetadata"][1]["columnName"], "Profile");
    assert_eq!(
        c["columnMetadata"][1]["joinColumns"][0]["columnName"],
        "Name"
    );
    let r = query(base, &tok, "SELECT Id FROM Organization");
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("sforce-limit-info: api-usage="),
        "{}",
        r.head
    );
    let r = query(base, "00Dxx0000001gPL!bad", "SELECT Id FROM Organization");
    assert_eq!(r.status, 401);
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("www-authenticate: token"),
        "{}",
        r.head
    );
}

#[test]
fn identity_is_bound_to_the_token_and_audiences_and_date_follow_the_emulator() {
    let e = emu::start(emu::acme_with("clock_offset_seconds = 86400", ""));
    let base = e.base_url();
    let port = base.rsplit(':').next().unwrap();
    for aud in [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}"),
    ] {
        let r = grant(
            base,
            "keys/base.pkcs8.pem",
            "KEY_MAIN",
            "alice@example.com",
            &aud,
        );
        assert_eq!(r.status, 200, "{aud}: {}", String::from_utf8_lossy(&r.body));
    }
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "KEY_MAIN",
            "alice@example.com",
            "http://localhost:1"
        )
        .status,
        400
    );
    // tokens with an exp a day ahead work on a clock a day ahead; a normal one is expired
    let tok = {
        let claims = format!(
            r#"{{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"https://login.salesforce.com","exp":{}}}"#,
            now() + 86400 + 60
        );
        let a = Signer::new(&fixture_key("keys/base.pkcs8.pem"), HeaderStyle::Bare)
            .unwrap()
            .sign_json(claims.as_bytes())
            .unwrap();
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={a}"
        );
        let r = send(
            base,
            "POST",
            "/services/oauth2/token",
            None,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        );
        assert_eq!(r.status, 200);
        // Date: the emulator's clock, a day ahead
        let date = r
            .head
            .lines()
            .find_map(|l| l.strip_prefix("date: "))
            .unwrap()
            .to_owned();
        let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        assert!(
            date.contains(&format!("{} {}", tomorrow.day(), tomorrow.year()))
                || date.contains(&format!("{:02} ", tomorrow.day())),
            "{date}"
        );
        r.json()["access_token"].as_str().unwrap().to_owned()
    };
    let me = send(
        base,
        "GET",
        "/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        Some(&tok),
        "text/plain",
        b"",
    );
    assert_eq!(me.status, 200);
    let erin = send(
        base,
        "GET",
        "/id/00Dxx0000001gPLEAY/005EMULATOR0005",
        Some(&tok),
        "text/plain",
        b"",
    );
    assert_eq!(erin.status, 403, "another user's identity URL");
    // revoke: the token stops working
    let r = send(
        base,
        "POST",
        "/services/oauth2/revoke",
        None,
        "application/x-www-form-urlencoded",
        format!("token={tok}").as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        send(
            base,
            "GET",
            "/services/oauth2/userinfo",
            Some(&tok),
            "text/plain",
            b""
        )
        .status,
        403
    );
}

fn deploy(
    base: &str,
    tok: &str,
    pkg: &DeployPackage,
    options: DeployOptions,
) -> DeployRequestResponse {
    let zip = pkg.to_zip_under("zip").unwrap();
    let (ct, body) = multipart_body(&options, &zip, "certmintBoundary0123456789abcdef");
    let r = send(
        base,
        "POST",
        &deploy_request_path(66),
        Some(tok),
        &ct,
        &body,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let first: DeployRequestResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(first.deploy_result.status == DeployStatus::Pending || first.deploy_result.done);
    loop {
        let r = send(
            base,
            "GET",
            &format!(
                "{}/{}?includeDetails=true",
                deploy_request_path(66),
                first.id
            ),
            Some(tok),
            "text/plain",
            b"",
        );
        let d: DeployRequestResponse = serde_json::from_slice(&r.body).unwrap();
        if d.deploy_result.done {
            return d;
        }
        assert!(matches!(
            d.deploy_result.status,
            DeployStatus::Pending | DeployStatus::InProgress
        ));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn eca(pkg: &mut DeployPackage, name: &str, key: Option<&str>, cert: &str) {
    pkg.add(
        name,
        &Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: "a@example.com".into(),
            label: name.into(),
            ..Default::default()
        }),
    )
    .unwrap();
    pkg.add(
        &format!("{name}Glbl"),
        &Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
            certificate: Some(cert.into()),
            consumer_key: key.map(Into::into),
            external_client_application: name.into(),
            ..Default::default()
        }),
    )
    .unwrap();
}

#[test]
fn deploys_follow_the_org_rules() {
    let cfg = emu::acme_with("propagation_seconds = 2\ndeploy_millis = 200", "");
    let e = emu::start(cfg);
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let base_cert = fixture_text("certs/base.crt");
    // connected app creation is refused (Spring '26); a consumer key taken; checkOnly changes nothing
    let mut p = DeployPackage::new(62);
    p.add(
        "New_App",
        &Component::ConnectedApp(ConnectedApp {
            contact_email: "a@example.com".into(),
            label: "New".into(),
            oauth_config: Some(ConnectedAppOauthConfig {
                callback_url: "http://localhost/cb".into(),
                scopes: vec![OauthScope::Api],
                ..Default::default()
            }),
            ..Default::default()
        }),
    )
    .unwrap();
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(d.deploy_result.status, DeployStatus::Failed);
    let f = &d.deploy_result.details.as_ref().unwrap().component_failures;
    assert!(
        f[0].problem
            .as_deref()
            .unwrap()
            .starts_with("You can't create a connected app."),
        "{f:?}"
    );
    let mut p = DeployPackage::new(62);
    eca(&mut p, "Eca_One", Some("EcaOneKey0123"), &base_cert);
    let d = deploy(
        base,
        &tok,
        &p,
        DeployOptions {
            check_only: Some(true),
            ..Default::default()
        },
    );
    assert_eq!(d.deploy_result.status, DeployStatus::Succeeded);
    assert!(d.deploy_result.check_only);
    let r = grant(
        base,
        "keys/base.pkcs8.pem",
        "EcaOneKey0123",
        "alice@example.com",
        "https://login.salesforce.com",
    );
    assert_eq!(
        r.json()["error"],
        "invalid_client_id",
        "checkOnly created nothing"
    );
    // deployed for real: in force after the propagation delay
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(
        d.deploy_result.status,
        DeployStatus::Succeeded,
        "{:?}",
        d.deploy_result.details
    );
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "EcaOneKey0123",
            "alice@example.com",
            "https://login.salesforce.com"
        )
        .json()["error"],
        "invalid_client_id"
    );
    std::thread::sleep(Duration::from_millis(2100));
    // in force now; no policies deployed: self-authorize, alice never approved it
    let r = grant(
        base,
        "keys/base.pkcs8.pem",
        "EcaOneKey0123",
        "alice@example.com",
        "https://login.salesforce.com",
    );
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // the consumer key is now taken; a bad one is refused
    for (key, problem) in [
        ("EcaOneKey0123", "The consumer key is already taken."),
        (
            "short",
            "The consumer key must be between 8 and 256 printable ASCII characters, without spaces.",
        ),
    ] {
        let mut p = DeployPackage::new(62);
        eca(&mut p, "Taken_App", Some(key), &base_cert);
        let d = deploy(base, &tok, &p, DeployOptions::default());
        let f = &d.deploy_result.details.as_ref().unwrap().component_failures;
        assert_eq!(f[0].problem.as_deref(), Some(problem), "{f:?}");
    }
    // an unknown type fails and, with rollbackOnError, nothing else applies
    let mut zip_pkg = DeployPackage::new(62);
    eca(&mut zip_pkg, "Eca_Two", Some("EcaTwoKey0123"), &base_cert);
    let mut bad = zip_pkg.package().clone();
    bad.types
        .push(certmint::wire::metadata::PackageTypeMembers {
            members: vec!["X".into()],
            name: "Bogus".into(),
        });
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("package.xml".into(), bad.to_xml().unwrap().into_bytes())];
    files.extend(
        zip_pkg
            .files()
            .map(|(p, x)| (p.to_owned(), x.as_bytes().to_vec())),
    );
    let zip = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (n, b) in &files {
            w.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let (ct, body) = multipart_body(
        &DeployOptions::default(),
        &zip,
        "b0123456789abcdefb0123456789abcdef",
    );
    let r = send(
        base,
        "POST",
        &deploy_request_path(66),
        Some(&tok),
        &ct,
        &body,
    );
    let id = serde_json::from_slice::<DeployRequestResponse>(&r.body)
        .unwrap()
        .id;
    std::thread::sleep(Duration::from_millis(300));
    let r = send(
        base,
        "GET",
        &format!("{}/{id}?includeDetails=true", deploy_request_path(66)),
        Some(&tok),
        "text/plain",
        b"",
    );
    let d: DeployRequestResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(d.deploy_result.status, DeployStatus::Failed);
    let f = &d.deploy_result.details.unwrap().component_failures;
    assert_eq!(
        f[0].problem.as_deref(),
        Some("Unknown type name 'Bogus' specified in package.xml")
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "EcaTwoKey0123",
            "alice@example.com",
            "https://login.salesforce.com"
        )
        .json()["error"],
        "invalid_client_id"
    );
    // a user who may not deploy
    let erin = token(base, "KEY_MAIN", "erin@example.com");
    let (ct, body) = multipart_body(
        &DeployOptions::default(),
        &zip,
        "b0123456789abcdefb0123456789abcdef",
    );
    assert_eq!(
        send(
            base,
            "POST",
            &deploy_request_path(66),
            Some(&erin),
            &ct,
            &body
        )
        .status,
        403
    );
}

/// Rotation: redeploying an app's certificate takes effect after the propagation delay,
/// during which the previous certificate still verifies.
#[test]
fn a_rotated_certificate_propagates_while_the_old_one_still_verifies() {
    let cfg = emu::acme_with("propagation_seconds = 2\ndeploy_millis = 0", "");
    let e = emu::start(cfg);
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut p = DeployPackage::new(62);
    eca(
        &mut p,
        "Rot_App",
        Some("RotAppKey0123"),
        &fixture_text("certs/base.crt"),
    );
    // The OAuth policies Salesforce generates for the OAuth settings `Rot_AppOAuth`.
    p.add(
        "Rot_AppOAuth_defaultPolicy",
        &Component::ExtlClntAppOauthConfigurablePolicies(
            certmint::wire::metadata::ExtlClntAppOauthConfigurablePolicies {
                comma_separated_profile: vec!["System Administrator".into()],
                external_client_application: "Rot_App".into(),
                permitted_users_policy_type: Some(
                    certmint::wire::metadata::PermittedUsersPolicyType::AdminApprovedPreAuthorized,
                ),
                ..Default::default()
            },
        ),
    )
    .unwrap();
    p.add(
        "Rot_AppOAuth",
        &Component::ExtlClntAppOauthSettings(certmint::wire::metadata::ExtlClntAppOauthSettings {
            comma_separated_oauth_scopes: vec![OauthScope::Api],
            external_client_application: "Rot_App".into(),
            label: None,
        }),
    )
    .unwrap();
    assert_eq!(
        deploy(base, &tok, &p, DeployOptions::default())
            .deploy_result
            .status,
        DeployStatus::Succeeded
    );
    std::thread::sleep(Duration::from_millis(2100));
    let ok = |key: &str| {
        grant(
            base,
            key,
            "RotAppKey0123",
            "alice@example.com",
            "https://login.salesforce.com",
        )
        .status
    };
    assert_eq!(ok("keys/base.pkcs8.pem"), 200);
    // rotate to the other key's certificate
    let other_cert =
        crate::support::self_signed_pem(&fixture_key("keys/other.pkcs8.pem"), "other", 30);
    let mut p = DeployPackage::new(62);
    p.add(
        "Rot_AppGlbl",
        &Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
            certificate: Some(other_cert),
            external_client_application: "Rot_App".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(
        deploy(base, &tok, &p, DeployOptions::default())
            .deploy_result
            .status,
        DeployStatus::Succeeded
    );
    assert_eq!(
        ok("keys/base.pkcs8.pem"),
        200,
        "the old certificate still verifies"
    );
    assert_eq!(ok("keys/other.pkcs8.pem"), 400);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        ok("keys/other.pkcs8.pem"),
        200,
        "the new one after the delay"
    );
    assert_eq!(ok("keys/base.pkcs8.pem"), 400);
}

// ---- The org's caps (issue 14: "memory bounded with the org state") ----

/// TOML to append to acme.toml: `sets` permission sets `Load_Set_0…`, and `users` users
/// `user0@load.example.com…`, each assigned `CertMint_Integration` (which pre-authorizes
/// them for the app `main`) and the first `per_user - 1` load sets.
pub(crate) fn at_scale(users: usize, sets: usize, per_user: usize) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    for i in 0..sets {
        writeln!(t, "[[permission_sets]]\nname = \"Load_Set_{i}\"").unwrap();
    }
    let assigned: Vec<String> = std::iter::once("\"CertMint_Integration\"".to_owned())
        .chain((0..per_user.saturating_sub(1)).map(|i| format!("\"Load_Set_{i}\"")))
        .collect();
    let assigned = assigned.join(", ");
    for i in 0..users {
        writeln!(
            t,
            "[[users]]\nusername = \"user{i}@load.example.com\"\npermission_sets = [{assigned}]"
        )
        .unwrap();
    }
    t
}

/// acme.toml's counts: 3 apps, 5 users, 1 permission set, 1 assignment (erin's).
pub(crate) const ACME_APPS: usize = 3;
pub(crate) const ACME_USERS: usize = 5;
pub(crate) const ACME_SETS: usize = 1;
pub(crate) const ACME_ASSIGNMENTS: usize = 1;

fn load_error(toml: &str) -> String {
    let dir = crate::support::fixture("emulator");
    certmint::emulator::Config::from_toml(toml, &mut |p: &std::path::Path| {
        std::fs::read(dir.join(p))
    })
    .err()
    .map(|e| e.to_string())
    .unwrap_or_else(|| "loaded".into())
}

/// A configuration (and so a state file, read by the same code) beyond a cap is refused
/// when loaded, naming the cap; one at every cap loads.
#[test]
fn configurations_beyond_the_caps_are_refused_when_loaded() {
    use certmint::emulator::{MAX_APPS, MAX_ASSIGNMENTS, MAX_PERMISSION_SETS, MAX_USERS};
    let users = MAX_USERS - ACME_USERS;
    let sets = MAX_PERMISSION_SETS - ACME_SETS;
    // 10 assignments per load user: 99,950 + erin's 1, within the cap.
    let at_caps = emu::acme_text_with("", &at_scale(users, sets, 10));
    assert_eq!(load_error(&at_caps), "loaded");
    let apps: String = (0..=MAX_APPS - ACME_APPS)
        .map(|i| {
            format!(
                "[[apps]]\nname = \"load{i}\"\nconsumer_key = \"LOADKEY{i}\"\ncertificate = \"../certs/base.crt\"\n"
            )
        })
        .collect();
    for (toml, words) in [
        (
            emu::acme_text_with("", &at_scale(users + 1, 0, 1)),
            format!(
                "{} users; the emulator holds at most {MAX_USERS}",
                MAX_USERS + 1
            ),
        ),
        (
            emu::acme_text_with("", &at_scale(0, sets + 1, 1)),
            format!(
                "{} permission sets; the emulator holds at most {MAX_PERMISSION_SETS}",
                MAX_PERMISSION_SETS + 1
            ),
        ),
        (
            emu::acme_text_with("", &at_scale(users, sets, 11)),
            format!(
                "{} permission set assignments; the emulator holds at most {MAX_ASSIGNMENTS}",
                users * 11 + ACME_ASSIGNMENTS
            ),
        ),
        (
            emu::acme_text_with("", &apps),
            format!(
                "{} apps; the emulator holds at most {MAX_APPS}",
                MAX_APPS + 1
            ),
        ),
    ] {
        let e = load_error(&toml);
        assert!(e.contains(&words), "{e}");
    }
}

fn create_permission_set(base: &str, tok: &str, name: &str) -> Reply {
    send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSet",
        Some(tok),
        "application/json",
        format!(r#"{{"Name":"{name}"}}"#).as_bytes(),
    )
}

fn assign(base: &str, tok: &str, ps: &str, user: &str) -> Reply {
    send(
        base,
        "POST",
        "/services/data/v66.0/sobjects/PermissionSetAssignment",
        Some(tok),
        "application/json",
        format!(r#"{{"PermissionSetId":"{ps}","AssigneeId":"{user}"}}"#).as_bytes(),
    )
}

/// Salesforce's REST error shape, one element: `[{"message","errorCode","fields"}]`.
fn assert_limit_exceeded(r: &Reply, what: &str) {
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let list = v.as_array().expect("a list of errors");
    assert_eq!(list.len(), 1, "{v}");
    let e = list[0].as_object().unwrap();
    let mut keys: Vec<&str> = e.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["errorCode", "fields", "message"], "{v}");
    assert_eq!(e["errorCode"], "LIMIT_EXCEEDED");
    assert_eq!(e["fields"], serde_json::json!([]));
    let message = e["message"].as_str().unwrap();
    assert!(message.ends_with(what), "{message}");
}

/// An org at its user cap, filled to its permission set and assignment caps through the
/// REST API: the next create of each is refused with `LIMIT_EXCEEDED` in Salesforce's
/// error shape, a deploy that would add a permission set fails naming the cap, and the org
/// still works (the last user gets a token through an assigned permission set; queries and
/// relationship paths over 100,000 assignments answer).
#[test]
fn an_org_at_its_caps_refuses_the_next_write() {
    use certmint::emulator::{MAX_ASSIGNMENTS, MAX_PERMISSION_SETS, MAX_USERS};
    let users = MAX_USERS - ACME_USERS;
    // Half the permission sets from the configuration, half created over REST below.
    let configured_sets = MAX_PERMISSION_SETS / 2 - ACME_SETS;
    let cfg = emu::acme_with("deploy_millis = 0", &at_scale(users, configured_sets, 10));
    let e = emu::start(cfg);
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut created = Vec::new();
    for i in 0..MAX_PERMISSION_SETS - MAX_PERMISSION_SETS / 2 {
        let r = create_permission_set(base, &tok, &format!("Rest_Set_{i}"));
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        created.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let count = query(
        base,
        &tok,
        "SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = false",
    )
    .json();
    assert_eq!(count["totalSize"], MAX_PERMISSION_SETS);
    assert_limit_exceeded(
        &create_permission_set(base, &tok, "One_Too_Many"),
        &format!("at most {MAX_PERMISSION_SETS} permission sets"),
    );
    // A deploy that would add one fails; one that changes an existing one succeeds.
    let mut p = DeployPackage::new(62);
    p.add(
        "Deployed_Set",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "Deployed".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(d.deploy_result.status, DeployStatus::Failed);
    let f = &d.deploy_result.details.as_ref().unwrap().component_failures;
    assert_eq!(
        f[0].problem.as_deref(),
        Some(format!("the emulator holds at most {MAX_PERMISSION_SETS} permission sets").as_str()),
        "{f:?}"
    );
    // Assignments: 99,951 configured; fill to the cap with the REST-created sets.
    let bob = query(
        base,
        &tok,
        "SELECT Id FROM User WHERE Username = 'bob@example.com'",
    )
    .json()["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let configured = users * 10 + ACME_ASSIGNMENTS;
    for ps in &created[..MAX_ASSIGNMENTS - configured] {
        let r = assign(base, &tok, ps, &bob);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    }
    let next = &created[MAX_ASSIGNMENTS - configured];
    assert_limit_exceeded(
        &assign(base, &tok, next, &bob),
        &format!("at most {MAX_ASSIGNMENTS} permission set assignments"),
    );
    // The org at its caps still answers: the last user gets a token through an assigned
    // permission set, and a relationship path is followed over every assignment in a
    // filter (this took hours when each record rebuilt the 10,000 users; the slow tier
    // queries all 100,000 with two paths, stress.rs).
    let last = format!("user{}@load.example.com", users - 1);
    let last_tok = token(base, "KEY_MAIN", &last);
    assert!(last_tok.starts_with("00Dxx0000001gPL!"));
    let started = std::time::Instant::now();
    let mine = query(
        base,
        &tok,
        &format!("SELECT PermissionSet.Name FROM PermissionSetAssignment WHERE Assignee.Username = '{last}'"),
    )
    .json();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a filter over 100,000 assignments took {:?}",
        started.elapsed()
    );
    // The ten assigned, and the profile's own permission set.
    assert_eq!(mine["totalSize"], 11, "{mine}");
}

/// The app cap through deploys: 997 External Client Apps in one deploy bring acme's three
/// to 1,000; the next new app is a component failure naming the cap, and with
/// rollbackOnError the deploy changes nothing.
#[test]
fn deploys_stop_at_the_app_cap() {
    use certmint::emulator::MAX_APPS;
    let e = emu::start(emu::acme_with("deploy_millis = 0", ""));
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let header = |name: &str| {
        Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: "a@example.com".into(),
            label: name.into(),
            ..Default::default()
        })
    };
    let mut p = DeployPackage::new(62);
    for i in 0..MAX_APPS - ACME_APPS {
        p.add(&format!("Load_App_{i}"), &header("Load")).unwrap();
    }
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(
        d.deploy_result.status,
        DeployStatus::Succeeded,
        "{:?}",
        d.deploy_result.error_message
    );
    let apps = query(base, &tok, "SELECT Id FROM ConnectedApplication").json();
    assert_eq!(apps["totalSize"], MAX_APPS);
    let mut p = DeployPackage::new(62);
    p.add("One_Too_Many", &header("Over")).unwrap();
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(d.deploy_result.status, DeployStatus::Failed);
    let f = &d.deploy_result.details.as_ref().unwrap().component_failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].problem.as_deref(),
        Some(format!("the emulator holds at most {MAX_APPS} apps").as_str())
    );
    assert_eq!(f[0].full_name.as_deref(), Some("One_Too_Many"));
    let apps = query(base, &tok, "SELECT Id FROM ConnectedApplication").json();
    assert_eq!(apps["totalSize"], MAX_APPS);
}

fn post_deploy(base: &str, tok: &str, zip: &[u8]) -> Reply {
    let (ct, body) = multipart_body(
        &DeployOptions::default(),
        zip,
        "certmintBoundary0123456789abcdef",
    );
    send(
        base,
        "POST",
        &deploy_request_path(66),
        Some(tok),
        &ct,
        &body,
    )
}

fn deploy_state(base: &str, tok: &str, id: &str) -> Reply {
    send(
        base,
        "GET",
        &format!("{}/{id}?includeDetails=true", deploy_request_path(66)),
        Some(tok),
        "text/plain",
        b"",
    )
}

/// Only the last 100 deploys are kept for polling: after 150, the 50 oldest answer 404 in
/// Salesforce's shape and the others their result.
#[test]
fn only_the_last_100_deploys_are_kept() {
    use certmint::emulator::MAX_DEPLOYS;
    let e = emu::start(emu::acme_with("deploy_millis = 0", ""));
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut p = DeployPackage::new(62);
    p.add(
        "CertMint_Integration",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "CertMint Integration".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    let zip = p.to_zip_under("zip").unwrap();
    let ids: Vec<String> = (0..MAX_DEPLOYS + 50)
        .map(|_| {
            let r = post_deploy(base, &tok, &zip);
            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
            serde_json::from_slice::<DeployRequestResponse>(&r.body)
                .unwrap()
                .id
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let r = deploy_state(base, &tok, id);
        if i < 50 {
            assert_eq!(r.status, 404, "deploy {i} is still kept");
            assert_eq!(r.json()[0]["errorCode"], "NOT_FOUND");
        } else {
            assert_eq!(r.status, 200, "deploy {i} was dropped");
            let d: DeployRequestResponse = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(d.deploy_result.status, DeployStatus::Succeeded);
        }
    }
}

fn zip_with(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in files {
        w.start_file(n.as_str(), opts).unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The deploy's size limits through HTTP: a body over 4 MiB gets 413; a zip of more than
/// 1,000 entries, one whose files expand past 16 MiB and one with a file over 1 MiB fail
/// with the reason; a deploy body without a valid session is read and dropped (never kept)
/// and answered 401 `INVALID_SESSION_ID`.
#[test]
fn deploy_zips_beyond_the_limits_are_refused() {
    let e = emu::start(emu::acme_with("deploy_millis = 0", ""));
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let manifest = DeployPackage::new(62)
        .package()
        .to_xml()
        .unwrap()
        .into_bytes();
    let failed_with = |zip: &[u8]| {
        let r = post_deploy(base, &tok, zip);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = serde_json::from_slice::<DeployRequestResponse>(&r.body)
            .unwrap()
            .id;
        let d: DeployRequestResponse =
            serde_json::from_slice(&deploy_state(base, &tok, &id).body).unwrap();
        assert_eq!(d.deploy_result.status, DeployStatus::Failed);
        d.deploy_result.error_message.unwrap_or_default()
    };
    let mut many = vec![("package.xml".to_owned(), manifest.clone())];
    many.extend((0..1000).map(|i| (format!("x/{i}.txt"), b"x".to_vec())));
    assert_eq!(
        failed_with(&zip_with(&many)),
        "The deploy zip has 1001 files; the limit is 1000"
    );
    let mut bomb = vec![("package.xml".to_owned(), manifest.clone())];
    bomb.extend((0..17).map(|i| (format!("x/{i}.txt"), vec![0u8; 1 << 20])));
    let zip = zip_with(&bomb);
    assert!(zip.len() < 256 * 1024, "{} bytes", zip.len());
    assert_eq!(
        failed_with(&zip),
        format!("The deploy zip expands to more than {} bytes", 16 << 20)
    );
    let big = zip_with(&[
        ("package.xml".to_owned(), manifest.clone()),
        ("x/big.txt".to_owned(), vec![0u8; (1 << 20) + 1]),
    ]);
    assert_eq!(
        failed_with(&big),
        format!(
            "The file x/big.txt in the deploy zip expands to more than {} bytes",
            1 << 20
        )
    );
    // Over 4 MiB (incompressible bytes): 413 before anything is read.
    let noise: Vec<u8> = (0..(4u32 << 20) + 1)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
        .collect();
    let r = post_deploy(base, &tok, &noise);
    assert_eq!(r.status, 413);
    // 3 MiB without a valid session: drained, 401 with WWW-Authenticate.
    let r = post_deploy(base, "00Dxx0000001gPL!bad", &noise[..3 << 20]);
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()[0]["errorCode"], "INVALID_SESSION_ID");
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("www-authenticate: token")
    );
}

/// Queries answer 2,000 records at a time, as Salesforce's REST query resource does, with
/// `done: false` and a `nextRecordsUrl` (`/services/data/vNN.0/query/<locator>-<offset>`)
/// for the next batch; `LIMIT` bounds the pages; an unknown locator is 400
/// `INVALID_QUERY_LOCATOR`. (So one answer holds at most 2,000 records however large the
/// org.)
#[test]
fn queries_answer_2000_records_at_a_time() {
    let e = emu::start(emu::acme_with("", &at_scale(4500, 0, 1)));
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let users = 4500 + ACME_USERS;
    let get = |path: &str| {
        let r = send(base, "GET", path, Some(&tok), "text/plain", b"");
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    };
    let mut page = query(base, &tok, "SELECT Id, Username FROM User").json();
    let mut seen = Vec::new();
    loop {
        assert_eq!(page["totalSize"], users);
        let records = page["records"].as_array().unwrap();
        seen.extend(
            records
                .iter()
                .map(|r| r["Username"].as_str().unwrap().to_owned()),
        );
        if page["done"] == true {
            assert!(
                page.get("nextRecordsUrl").is_none(),
                "{}",
                page["nextRecordsUrl"]
            );
            break;
        }
        assert_eq!(records.len(), 2000);
        let next = page["nextRecordsUrl"].as_str().unwrap().to_owned();
        assert!(next.starts_with("/services/data/v66.0/query/01g"), "{next}");
        assert!(next.ends_with(&format!("-{}", seen.len())), "{next}");
        page = get(&next);
    }
    assert_eq!(seen.len(), users);
    assert_eq!(seen[0], "alice@example.com");
    assert_eq!(seen[users - 1], "user4499@load.example.com");
    // LIMIT bounds the pages: 2,000 then 500.
    let first = query(base, &tok, "SELECT Id FROM User LIMIT 2500").json();
    assert_eq!(first["records"].as_array().unwrap().len(), 2000);
    let second = get(first["nextRecordsUrl"].as_str().unwrap());
    assert_eq!(second["records"].as_array().unwrap().len(), 500);
    assert_eq!(second["done"], true);
    // Small answers are one page, as before.
    let one = query(base, &tok, "SELECT Id FROM Organization").json();
    assert_eq!(
        (one["done"].clone(), one.get("nextRecordsUrl")),
        (serde_json::json!(true), None)
    );
    for bad in ["01gEMU000000999AAA-2000", "nonsense", "01gEMU000000001AAA"] {
        let r = send(
            base,
            "GET",
            &format!("/services/data/v66.0/query/{bad}"),
            Some(&tok),
            "text/plain",
            b"",
        );
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()[0]["errorCode"], "INVALID_QUERY_LOCATOR", "{bad}");
    }
}

// ---- Fidelity to a real org (issue 19, item 13): salesforce-org-fidelity.md ----

/// acme.toml with no propagation delay and no deploy time, plus `append`.
fn fast(settings: &str, append: &str) -> Running {
    let mut s = String::from("deploy_millis = 0\npropagation_seconds = 0\n");
    s.push_str(settings);
    emu::start(emu::acme_with(&s, append))
}

fn ok_deploy(base: &str, tok: &str, pkg: &DeployPackage) -> DeployRequestResponse {
    let d = deploy(base, tok, pkg, DeployOptions::default());
    assert_eq!(
        d.deploy_result.status,
        DeployStatus::Succeeded,
        "{:?}",
        d.deploy_result.details
    );
    d
}

fn failures(d: &DeployRequestResponse) -> Vec<String> {
    d.deploy_result
        .details
        .as_ref()
        .unwrap()
        .component_failures
        .iter()
        .map(|f| f.problem.clone().unwrap_or_default())
        .collect()
}

fn part(pkg: &mut DeployPackage, name: &str, c: Component) {
    pkg.add(name, &c).unwrap();
}

fn oauth_settings(app: &str) -> Component {
    Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
        comma_separated_oauth_scopes: vec![OauthScope::Api],
        external_client_application: app.into(),
        label: None,
    })
}

fn oauth_policy(app: &str, sets: &[&str], profiles: &[&str]) -> Component {
    Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
        comma_separated_permission_set: sets.iter().map(|s| (*s).to_owned()).collect(),
        comma_separated_profile: profiles.iter().map(|s| (*s).to_owned()).collect(),
        external_client_application: app.into(),
        permitted_users_policy_type: Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized),
        ..Default::default()
    })
}

/// D1: a new app gets the policies Salesforce generates (SOQL shows the OAuth policy with
/// Setup's default, linked to the app); a policy under another name then fails with the
/// generated one's id, on every rerun.
#[test]
fn external_client_apps_get_generated_policies_and_one_part_of_each_kind() {
    let e = fast("", "");
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut p = DeployPackage::new(62);
    eca(
        &mut p,
        "Gen_App",
        Some("GenAppKey0123"),
        &fixture_text("certs/base.crt"),
    );
    part(&mut p, "Gen_App_oauth", oauth_settings("Gen_App"));
    ok_deploy(base, &tok, &p);
    let app = query(
        base,
        &tok,
        "SELECT Id, DeveloperName, MasterLabel, NamespacePrefix FROM ExternalClientApplication WHERE DeveloperName = 'Gen_App'",
    )
    .json();
    assert_eq!(app["totalSize"], 1, "{app}");
    assert_eq!(app["records"][0]["MasterLabel"], "Gen_App");
    assert!(app["records"][0]["NamespacePrefix"].is_null());
    let app_id = app["records"][0]["Id"].as_str().unwrap().to_owned();
    let policy = query(
        base,
        &tok,
        &format!("SELECT Id, PermittedUsersPolicyType FROM ExtlClntAppOauthPlcyCnfg WHERE ExternalClientApplicationId = '{app_id}'"),
    )
    .json();
    assert_eq!(policy["totalSize"], 1, "{policy}");
    assert_eq!(
        policy["records"][0]["PermittedUsersPolicyType"],
        "AllSelfAuthorized"
    );
    let policy_id = policy["records"][0]["Id"].as_str().unwrap().to_owned();
    let mut p = DeployPackage::new(62);
    part(
        &mut p,
        "Gen_App_OAuthPlcy",
        oauth_policy("Gen_App", &[], &["System Administrator"]),
    );
    for _ in 0..2 {
        let d = deploy(base, &tok, &p, DeployOptions::default());
        assert_eq!(d.deploy_result.status, DeployStatus::Failed);
        assert_eq!(
            failures(&d),
            [format!(
                "duplicate value found: ExternalClientApplicationId duplicates value on record with id: {policy_id}"
            )]
        );
    }
    // The generated name updates the policy: alice (System Administrator) may mint.
    let mut p = DeployPackage::new(62);
    part(
        &mut p,
        "Gen_App_oauth_defaultPolicy",
        oauth_policy("Gen_App", &[], &["System Administrator"]),
    );
    ok_deploy(base, &tok, &p);
    assert_eq!(
        grant(
            base,
            "keys/base.pkcs8.pem",
            "GenAppKey0123",
            "alice@example.com",
            "https://login.salesforce.com"
        )
        .status,
        200
    );
}

/// D2: a permission set made in the same deploy as the policy naming it does not count;
/// made first (over REST), it does.
#[test]
fn a_permission_set_must_exist_before_the_deploy_that_names_it() {
    let e = fast("", "");
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut p = DeployPackage::new(62);
    p.add(
        "Late_Set",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "Late".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    eca(&mut p, "Late_App", None, &fixture_text("certs/base.crt"));
    part(&mut p, "Late_App_oauth", oauth_settings("Late_App"));
    part(
        &mut p,
        "Late_App_oauth_defaultPolicy",
        oauth_policy("Late_App", &["Late_Set"], &[]),
    );
    let d = deploy(base, &tok, &p, DeployOptions::default());
    assert_eq!(
        failures(&d),
        ["In field: commaSeparatedPermissionSet - no PermissionSet named Late_Set found"]
    );
    let none = query(
        base,
        &tok,
        "SELECT Id FROM PermissionSet WHERE Name = 'Late_Set'",
    )
    .json();
    assert_eq!(none["totalSize"], 0, "rolled back: {none}");
    assert_eq!(create_permission_set(base, &tok, "Late_Set").status, 201);
    ok_deploy(base, &tok, &p);
}

/// D6, D7: a connected app redeployed without its lists keeps them (the integration user
/// still mints); an explicit empty element removes them.
#[test]
fn a_connected_app_keeps_lists_it_is_deployed_without() {
    let e = fast("", "");
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let erin = || {
        grant(
            base,
            "keys/base.pkcs8.pem",
            "KEY_MAIN",
            "erin@example.com",
            "https://login.salesforce.com",
        )
        .status
    };
    assert_eq!(erin(), 200, "pre-authorized through CertMint_Integration");
    let cert = fixture_text("certs/base.crt");
    let file = |lists: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConnectedApp xmlns=\"{}\"><contactEmail>a@example.com</contactEmail><label>main</label>\
             <oauthConfig><callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl><certificate>{cert}</certificate>\
             <isAdminApproved>true</isAdminApproved><scopes>Api</scopes></oauthConfig>{lists}</ConnectedApp>\n",
            certmint::wire::metadata::NAMESPACE
        )
    };
    let mut package = certmint::wire::metadata::Package::new(62);
    package.add(certmint::wire::metadata::MetadataType::ConnectedApp, "main");
    let zip_of = |xml: String| {
        zip_with(&[
            ("package.xml".into(), package.to_xml().unwrap().into_bytes()),
            ("connectedApps/main.connectedApp".into(), xml.into_bytes()),
        ])
    };
    let r = post_deploy(base, &tok, &zip_of(file("")));
    assert_eq!(r.status, 201);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(erin(), 200, "the permission set list was kept");
    let r = post_deploy(
        base,
        &tok,
        &zip_of(file("<permissionSetName></permissionSetName>")),
    );
    let id = r.json()["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(100));
    let d = deploy_state(base, &tok, &id).json();
    assert_eq!(d["deployResult"]["status"], "Succeeded", "{d}");
    assert_eq!(erin(), 400, "removed by the explicit empty element");
}

/// The deploy answer's url is absolute; a Pending deploy has counted no component yet;
/// API 67.0 is served and accepted in package.xml, 68.0 is not.
#[test]
fn deploy_answers_carry_an_absolute_url_and_version_67_is_served() {
    let e = emu::start(emu::acme_with("deploy_millis = 1000", ""));
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let versions = send(base, "GET", "/services/data/", None, "text/plain", b"").json();
    assert_eq!(
        versions.as_array().unwrap().last().unwrap()["version"],
        "67.0"
    );
    let mut p = DeployPackage::new(67);
    p.add(
        "V67_Set",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "V67".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    let r = post_deploy(base, &tok, &p.to_zip().unwrap());
    assert_eq!(r.status, 201);
    let first = r.json();
    assert_eq!(first["deployResult"]["status"], "Pending");
    assert_eq!(first["deployResult"]["numberComponentsTotal"], 0);
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        first["url"],
        format!("{base}/services/data/v66.0/metadata/deployRequest/{id}")
    );
    std::thread::sleep(Duration::from_millis(1100));
    let d = deploy_state(base, &tok, id).json();
    assert_eq!(d["deployResult"]["status"], "Succeeded", "{d}");
    assert_eq!(d["deployResult"]["numberComponentsTotal"], 1);
    let mut p = DeployPackage::new(68);
    p.add(
        "V68_Set",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "V68".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    let id = post_deploy(base, &tok, &p.to_zip().unwrap()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(Duration::from_millis(1100));
    let d = deploy_state(base, &tok, &id).json();
    assert_eq!(
        d["deployResult"]["details"]["componentFailures"][0]["problem"],
        "Invalid version specified: 68.0"
    );
}

/// Destructive deploys over HTTP: a header alone is refused, the whole app goes, and a
/// permission set an app pre-authorizes stays.
#[test]
fn destructive_deploys_delete_apps_and_refuse_what_is_in_use() {
    let e = fast("", "");
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let mut p = DeployPackage::new(62);
    eca(
        &mut p,
        "Gone_App",
        Some("GoneAppKey012"),
        &fixture_text("certs/base.crt"),
    );
    ok_deploy(base, &tok, &p);
    let mut header_only = DeployPackage::new(62);
    header_only
        .delete(
            certmint::wire::metadata::MetadataType::ExternalClientApplication,
            "Gone_App",
        )
        .unwrap();
    let d = deploy(base, &tok, &header_only, DeployOptions::default());
    assert!(
        failures(&d)[0].starts_with("Cannot delete the external client app Gone_App"),
        "{:?}",
        failures(&d)
    );
    let mut all = header_only.clone();
    all.delete(
        certmint::wire::metadata::MetadataType::ExtlClntAppGlobalOauthSettings,
        "Gone_AppGlbl",
    )
    .unwrap();
    all.delete(
        certmint::wire::metadata::MetadataType::ExtlClntAppConfigurablePolicies,
        "Gone_App_defaultPolicy",
    )
    .unwrap();
    let d = ok_deploy(base, &tok, &all);
    let deleted = &d
        .deploy_result
        .details
        .as_ref()
        .unwrap()
        .component_successes;
    assert!(
        deleted.iter().filter(|m| m.deleted).count() == 3,
        "{deleted:?}"
    );
    let left = query(
        base,
        &tok,
        "SELECT Id FROM ExternalClientApplication WHERE DeveloperName = 'Gone_App'",
    )
    .json();
    assert_eq!(left["totalSize"], 0);
    let mut ps = DeployPackage::new(62);
    ps.delete(
        certmint::wire::metadata::MetadataType::PermissionSet,
        "CertMint_Integration",
    )
    .unwrap();
    let d = deploy(base, &tok, &ps, DeployOptions::default());
    assert!(
        failures(&d)[0].contains("is assigned to 1 user(s)"),
        "{:?}",
        failures(&d)
    );
}

/// The permission model: profile-owned permission sets and their assignments tell what a
/// user may do; creating, assigning and deleting over REST need the permissions; deletes
/// answer 204 or Salesforce's error shape.
#[test]
fn user_permissions_gate_rest_writes_and_deletes() {
    let e = fast(
        "",
        "[[profiles]]\nname = \"Deployer\"\npermissions = [\"ModifyMetadata\", \"CustomizeApplication\"]\n\
         [[users]]\nusername = \"dora@example.com\"\nprofile = \"Deployer\"\npre_authorized = [\"main\"]\n",
    );
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let perms = |user: &str| {
        let id = query(
            base,
            &tok,
            &format!("SELECT Id FROM User WHERE Username = '{user}'"),
        )
        .json()["records"][0]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        let fields = certmint::wire::rest::objects::PERMISSION_FIELDS
            .iter()
            .map(|f| format!("PermissionSet.{f}"))
            .collect::<Vec<_>>()
            .join(", ");
        let q = query(
            base,
            &tok,
            &format!("SELECT {fields} FROM PermissionSetAssignment WHERE AssigneeId = '{id}'"),
        )
        .json();
        let mut granted = std::collections::BTreeSet::new();
        for r in q["records"].as_array().unwrap() {
            for f in certmint::wire::rest::objects::PERMISSION_FIELDS {
                if r["PermissionSet"][f] == true {
                    granted.insert((*f).to_owned());
                }
            }
        }
        (id, granted)
    };
    let (_, alice) = perms("alice@example.com");
    assert_eq!(alice.len(), 5, "System Administrator: {alice:?}");
    let (erin_id, erin) = perms("erin@example.com");
    assert!(erin.is_empty(), "{erin:?}");
    let (_, dora) = perms("dora@example.com");
    assert_eq!(
        dora.into_iter().collect::<Vec<_>>(),
        [
            "PermissionsCustomizeApplication",
            "PermissionsModifyMetadata"
        ]
    );
    let own = query(
        base,
        &tok,
        "SELECT Id, Name, ProfileId FROM PermissionSet WHERE IsOwnedByProfile = true",
    )
    .json();
    assert_eq!(own["totalSize"], 4, "one per profile: {own}");
    // erin may neither create nor assign.
    let erin_tok = token(base, "KEY_MAIN", "erin@example.com");
    let r = create_permission_set(base, &erin_tok, "Erins_Set");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()[0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY");
    // dora may deploy (ModifyMetadata) but not create permission sets over REST.
    let dora_tok = token(base, "KEY_MAIN", "dora@example.com");
    assert_eq!(
        create_permission_set(base, &dora_tok, "Doras_Set").json()[0]["errorCode"],
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    let mut p = DeployPackage::new(62);
    p.add(
        "Doras_Set",
        &Component::PermissionSet(certmint::wire::metadata::PermissionSet {
            label: "Dora".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    ok_deploy(base, &dora_tok, &p);
    // Deletes: an assigned set is refused, its assignment deleted, then the set.
    let made = create_permission_set(base, &tok, "Temp_Set").json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = assign(base, &tok, &made, &erin_id);
    assert_eq!(a.status, 201);
    let assignment = a.json()["id"].as_str().unwrap().to_owned();
    let del = |object: &str, id: &str| {
        send(
            base,
            "DELETE",
            &format!("/services/data/v66.0/sobjects/{object}/{id}"),
            Some(&tok),
            "text/plain",
            b"",
        )
    };
    let r = del("PermissionSet", &made);
    assert_eq!(
        (r.status, r.json()[0]["errorCode"].clone()),
        (400, "DELETE_FAILED".into())
    );
    assert_eq!(del("PermissionSetAssignment", &assignment).status, 204);
    assert_eq!(del("PermissionSet", &made).status, 204);
    assert_eq!(del("PermissionSet", &made).status, 404);
    // A set an app pre-authorizes, and a profile's own assignment, stay.
    let ci = query(
        base,
        &tok,
        "SELECT Id FROM PermissionSet WHERE Name = 'CertMint_Integration'",
    )
    .json()["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erin_assignments = query(
        base,
        &tok,
        &format!("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{erin_id}' AND PermissionSetId = '{ci}'"),
    )
    .json();
    let ci_assignment = erin_assignments["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(del("PermissionSetAssignment", &ci_assignment).status, 204);
    let r = del("PermissionSet", &ci);
    assert!(
        r.json()[0]["message"]
            .as_str()
            .unwrap()
            .contains("pre-authorized by the app main"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let profile_row = query(
        base,
        &tok,
        &format!("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{erin_id}'"),
    )
    .json();
    let profile_assignment = profile_row["records"][0]["Id"].as_str().unwrap();
    assert_eq!(
        del("PermissionSetAssignment", profile_assignment).status,
        400
    );
    // erin may not delete.
    let r = send(
        base,
        "DELETE",
        &format!("/services/data/v66.0/sobjects/PermissionSet/{ci}"),
        Some(&erin_tok),
        "text/plain",
        b"",
    );
    assert_eq!(r.json()[0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY");
}

fn soap(base: &str, call: &SoapCall, token: &str) -> Reply {
    send(
        base,
        "POST",
        &soap_path(66),
        None,
        "text/xml; charset=UTF-8",
        call.to_envelope(token).as_bytes(),
    )
}

/// The SOAP Metadata API: listMetadata and readMetadata of what the org keeps, the
/// consumer key only when readable, and its faults.
#[test]
fn the_soap_metadata_api_reads_what_the_org_keeps() {
    for readable in [true, false] {
        let e = fast(
            if readable {
                ""
            } else {
                "consumer_key_readable = false"
            },
            "",
        );
        let base = e.base_url();
        let tok = token(base, "KEY_MAIN", "alice@example.com");
        let list = SoapCall::ListMetadata {
            queries: vec![
                ListQuery {
                    type_name: "ExtlClntAppOauthConfigurablePolicies".into(),
                    folder: None,
                },
                ListQuery {
                    type_name: "ConnectedApp".into(),
                    folder: None,
                },
            ],
            as_of_version: Some("62.0".into()),
        };
        let r = soap(base, &list, &tok);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let props = parse_list_response(&r.body).unwrap();
        let names: Vec<(&str, &str)> = props
            .iter()
            .map(|p| (p.type_name.as_str(), p.full_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("ExtlClntAppOauthConfigurablePolicies", "eca_oauthPlcy"),
                ("ConnectedApp", "main"),
                ("ConnectedApp", "self")
            ]
        );
        assert_eq!(
            props[0].file_name,
            "extlClntAppOauthPolicies/eca_oauthPlcy.ecaOauthPlcy"
        );
        assert_eq!(props[0].manageable_state.as_deref(), Some("unmanaged"));
        let read = SoapCall::ReadMetadata {
            type_name: "ExtlClntAppGlobalOauthSettings".into(),
            full_names: vec!["eca_glbloauth".into(), "missing".into()],
        };
        let recs = parse_read_response(&soap(base, &read, &tok).body).unwrap();
        assert_eq!(recs.len(), 2);
        let g = recs[0].as_ref().unwrap();
        assert_eq!(g.children[0].name, "fullName");
        assert_eq!(g.text_at(&["externalClientApplication"]), Some("eca"));
        assert_eq!(
            g.text_at(&["consumerKey"]),
            readable.then_some("KEY_ECA"),
            "readable: {readable}"
        );
        assert!(recs[1].is_none());
        let ca = SoapCall::ReadMetadata {
            type_name: "ConnectedApp".into(),
            full_names: vec!["main".into()],
        };
        let recs = parse_read_response(&soap(base, &ca, &tok).body).unwrap();
        let main = recs[0].as_ref().unwrap();
        assert_eq!(
            main.texts_at(&["permissionSetName"]),
            ["CertMint_Integration"]
        );
        assert_eq!(
            main.text_at(&["oauthConfig", "isAdminApproved"]),
            Some("true")
        );
    }
    let e = fast("", "");
    let base = e.base_url();
    let tok = token(base, "KEY_MAIN", "alice@example.com");
    let fault = |r: &Reply| match parse_read_response(&r.body) {
        Err(SoapAnswerError::Fault(f)) => (r.status, f.code),
        other => panic!("{other:?}"),
    };
    let eleven = SoapCall::ReadMetadata {
        type_name: "ConnectedApp".into(),
        full_names: (0..11).map(|i| format!("App{i}")).collect(),
    };
    assert_eq!(
        fault(&soap(base, &eleven, &tok)),
        (500, "EXCEEDED_ID_LIMIT".into())
    );
    let one = SoapCall::ReadMetadata {
        type_name: "ConnectedApp".into(),
        full_names: vec!["main".into()],
    };
    assert_eq!(
        fault(&soap(base, &one, "00Dxx0000001gPL!bogus")),
        (500, "INVALID_SESSION_ID".into())
    );
    let erin = token(base, "KEY_MAIN", "erin@example.com");
    assert_eq!(
        fault(&soap(base, &one, &erin)),
        (500, "INSUFFICIENT_ACCESS".into())
    );
    let deploy = format!(
        "<?xml version=\"1.0\"?><e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Header><SessionHeader><sessionId>{tok}</sessionId></SessionHeader></e:Header><e:Body><deploy/></e:Body></e:Envelope>"
    );
    let r = send(
        base,
        "POST",
        &soap_path(66),
        None,
        "text/xml",
        deploy.as_bytes(),
    );
    assert_eq!(fault(&r), (500, "INVALID_OPERATION".into()));
    // Bounded like REST bodies.
    let big = vec![b'x'; 70 * 1024];
    assert_eq!(
        send(base, "POST", &soap_path(66), None, "text/xml", &big).status,
        413
    );
}

/// D3: the login host serves connected apps and refuses External Client Apps
/// (`app_not_found`) unless told; it answers nothing but its token endpoint.
#[test]
fn the_login_host_refuses_external_client_apps() {
    let app = "[[apps]]\nname = \"eca_live\"\nconsumer_key = \"KEY_ECA_LIVE\"\ncertificate = \"../certs/base.crt\"\nexternal_client_app = true\nprofiles = [\"System Administrator\"]\n";
    for accept in [false, true] {
        let cfg = emu::acme_with(
            if accept {
                "eca_at_login_host = \"accept\""
            } else {
                ""
            },
            app,
        );
        let e = emu::start_with(
            cfg,
            ServerOptions {
                login_listen: Some("127.0.0.1:0".parse().unwrap()),
                ..ServerOptions::default()
            },
        );
        let login = e.login_url().unwrap().to_owned();
        assert_ne!(login, e.base_url());
        let at = |host: &str, key: &str, aud: &str| {
            grant(host, "keys/base.pkcs8.pem", key, "alice@example.com", aud)
        };
        assert_eq!(
            at(e.base_url(), "KEY_ECA_LIVE", "https://login.salesforce.com").status,
            200
        );
        assert_eq!(
            at(&login, "KEY_MAIN", "https://login.salesforce.com").status,
            200
        );
        assert_eq!(
            at(&login, "KEY_MAIN", &login).status,
            200,
            "its own URL as aud"
        );
        let r = at(&login, "KEY_ECA_LIVE", "https://login.salesforce.com");
        if accept {
            assert_eq!(r.status, 200);
        } else {
            assert_eq!(r.json()["error"], "app_not_found");
            assert_eq!(
                r.json()["error_description"],
                "External client app is not installed in this org"
            );
        }
        let tok = token(e.base_url(), "KEY_MAIN", "alice@example.com");
        let q = send(
            &login,
            "GET",
            "/services/data/v66.0/limits",
            Some(&tok),
            "text/plain",
            b"",
        );
        assert_eq!(q.status, 404);
        assert_eq!(
            send(&login, "GET", "/services/data/", None, "text/plain", b"").status,
            404
        );
    }
}
