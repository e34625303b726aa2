//! The emulator as an org (issue 14): REST writes, SOQL, identity bound to the token's
//! user, the emulator's own URL as audience under every loopback name, the Date header on
//! the emulator's clock, and the Metadata API deploy with its rules (consumer keys,
//! connected app creation, checkOnly, rollback, unknown types, propagation with the old
//! certificate still verifying), over raw HTTP against an in-process emulator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certmint::jwt::{HeaderStyle, Signer};
use certmint::wire::metadata::{
    Component, ConnectedApp, ConnectedAppOauthConfig, DeployOptions, DeployPackage,
    DeployRequestResponse, DeployStatus, ExternalClientApplication, ExtlClntAppGlobalOauthSettings,
    OauthScope, deploy_request_path, multipart_body,
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
    s.write_all(body).unwrap();
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
    let a = query(base, &tok, &format!("SELECT Id, PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = '{bob_id}'")).json();
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
            "The consumer key must be alphanumeric, can't contain special characters or spaces, and must be between 8 and 256 characters.",
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
    p.add(
        "Rot_AppPolicy",
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
