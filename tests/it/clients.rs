//! The real clients against `certmint emulate`: the Salesforce CLI (`sf`), jsforce 3 and
//! simple-salesforce, installed pinned from npm and PyPI by `.ci/run` into
//! `target/clients` (`tests/clients/package.json` + `package-lock.json` with `npm ci`, and
//! a venv from `tests/clients/requirements.txt`). `CERTMINT_CLIENTS_DIR` points elsewhere.
//! A missing client fails the test with the command that installs it; nothing is skipped.
//!
//! One sf scenario runs its commands in order in one test (one login, one deploy), so the
//! CLI's start-up (about a second per command) is paid once per command only.

use std::path::Path;
use std::process::{Command, Output};

use certmint::wire::metadata::{
    Component, DeployPackage, DistributionState, EcaPartNames, ExternalClientApplication,
    ExtlClntAppConfigurablePolicies, ExtlClntAppGlobalOauthSettings,
    ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings, MetadataType, OauthScope,
    PermittedUsersPolicyType,
};

use crate::support::emulator::Child;
use crate::support::sf::{Sf, clients_dir, json_of, require_file};
use crate::support::{certmint_offline, fixture, fixture_text, fx};

/// An External Client App bundle in Metadata API format, written with certmint's own
/// `wire::metadata` types: the app `CertMint_Deployed` with the base certificate, consumer
/// key `key`, scopes Api and RefreshToken, admin-approved for the System Administrator
/// profile; its parts named as a metadata deploy names them (the policies under the
/// names Salesforce generates, which the emulator's org holds to).
fn eca_bundle(dir: &Path, key: &str) {
    let app = "CertMint_Deployed";
    let names = EcaPartNames::generated(app);
    let name = |k: MetadataType| names.get(k).unwrap().to_owned();
    let mut p = DeployPackage::new(62);
    p.add(
        app,
        &Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: "admin@example.com".into(),
            label: "CertMint Deployed".into(),
            distribution_state: Some(DistributionState::Local),
            is_protected: Some(false),
            ..Default::default()
        }),
    )
    .unwrap();
    p.add(
        &name(MetadataType::ExtlClntAppGlobalOauthSettings),
        &Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
            callback_url: Some("http://localhost:1717/OauthRedirect".into()),
            certificate: Some(fixture_text("certs/base.crt")),
            consumer_key: Some(key.into()),
            external_client_application: app.into(),
            is_consumer_secret_optional: Some(true),
            is_pkce_required: Some(false),
            label: Some("CertMint Deployed Global OAuth".into()),
            ..Default::default()
        }),
    )
    .unwrap();
    p.add(
        &name(MetadataType::ExtlClntAppOauthSettings),
        &Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
            comma_separated_oauth_scopes: vec![OauthScope::Api, OauthScope::RefreshToken],
            external_client_application: app.into(),
            label: Some("CertMint Deployed OAuth".into()),
        }),
    )
    .unwrap();
    p.add(
        &name(MetadataType::ExtlClntAppOauthConfigurablePolicies),
        &Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
            comma_separated_profile: vec!["System Administrator".into()],
            external_client_application: app.into(),
            label: Some("CertMint Deployed OAuth policy".into()),
            permitted_users_policy_type: Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized),
            ..Default::default()
        }),
    )
    .unwrap();
    p.add(
        &name(MetadataType::ExtlClntAppConfigurablePolicies),
        &Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
            external_client_application: app.into(),
            is_enabled: true,
            is_oauth_plugin_enabled: Some(true),
            label: Some("CertMint Deployed policy".into()),
        }),
    )
    .unwrap();
    std::fs::write(dir.join("package.xml"), p.package().to_xml().unwrap()).unwrap();
    for (path, xml) in p.files() {
        let f = dir.join(path);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, xml).unwrap();
    }
}

fn mint(base: &str, client_id: &str, user: &str) -> Output {
    certmint_offline()
        .args([
            "mint",
            "--key",
            &fx("keys/base.pkcs8.pem"),
            "--client-id",
            client_id,
            "--username",
            user,
            "--login-url",
            base,
        ])
        .output()
        .unwrap()
}

/// Every sf command the issue names, in one scenario: log in with the JWT flow against
/// `http://localhost:PORT` (the emulator's own URL as audience, so sf never falls back to
/// login.salesforce.com), display, query, open, describe, limits, deploy an External Client
/// App through the REST Metadata API, mint with the deployed app, log in with the access
/// token, log out.
#[test]
fn salesforce_cli() {
    let sf = Sf::new();
    // What `--cert base.crt --client-id SFCLIKEY01 -u sf@certmint.example` makes, with no
    // propagation delay: the deployed app is minted with at once.
    let org = tempfile::tempdir().unwrap();
    let toml = org.path().join("org.toml");
    std::fs::write(
        &toml,
        format!(
            "[emulator]\npropagation_seconds = 0\n[[apps]]\nname = \"app\"\nconsumer_key = \"SFCLIKEY01\"\ncertificate = {:?}\nprofiles = [\"System Administrator\"]\n[[users]]\nusername = \"sf@certmint.example\"\n",
            fx("certs/base.crt")
        ),
    )
    .unwrap();
    let emu = Child::spawn(&[
        "--config",
        toml.to_str().unwrap(),
        "--listen",
        "localhost:0",
    ]);
    assert!(emu.url.starts_with("http://localhost:"), "{}", emu.url);
    let key = fx("keys/base.pkcs8.pem");
    let login = sf.ok(&[
        "org",
        "login",
        "jwt",
        "--client-id",
        "SFCLIKEY01",
        "--username",
        "sf@certmint.example",
        "--jwt-key-file",
        &key,
        "--instance-url",
        &emu.url,
        "--alias",
        "emu",
    ]);
    assert_eq!(login["username"], "sf@certmint.example");
    assert_eq!(login["orgId"], "00DEMULATOR000125B");

    let display = sf.ok(&["org", "display", "--target-org", "emu"]);
    assert_eq!(display["connectedStatus"], "Connected", "{display:#}");
    assert_eq!(display["instanceUrl"], emu.url.as_str());
    let token = display["accessToken"].as_str().unwrap().to_owned();

    let q = sf.ok(&[
        "data",
        "query",
        "--target-org",
        "emu",
        "--query",
        "SELECT Id, Username, Profile.Name FROM User WHERE Username = 'sf@certmint.example'",
    ]);
    assert_eq!(q["totalSize"], 1, "{q:#}");
    assert_eq!(q["records"][0]["Profile"]["Name"], "System Administrator");

    let open = sf.ok(&["org", "open", "--url-only", "--target-org", "emu"]);
    assert!(
        open["url"]
            .as_str()
            .unwrap()
            .contains("/secur/frontdoor.jsp?otp="),
        "{open:#}"
    );
    let user = sf.ok(&["org", "display", "user", "--target-org", "emu"]);
    assert_eq!(user["profileName"], "System Administrator", "{user:#}");

    let d = sf.ok(&[
        "sobject",
        "describe",
        "--sobject",
        "User",
        "--target-org",
        "emu",
    ]);
    assert_eq!(d["name"], "User");
    assert!(
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "Username")
    );

    let limits = sf.ok(&["org", "list", "limits", "--target-org", "emu"]);
    assert!(
        limits
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "DailyApiRequests"),
        "{limits:#}"
    );

    // Deploy an External Client App (REST deploy), then mint with it.
    let mdapi = tempfile::tempdir().unwrap();
    eca_bundle(mdapi.path(), "DeployedEcaKey0123456789");
    assert_eq!(
        mint(&emu.url, "DeployedEcaKey0123456789", "sf@certmint.example")
            .status
            .code(),
        Some(1)
    );
    let dep = sf.ok_with(
        &[
            "project",
            "deploy",
            "start",
            "--metadata-dir",
            mdapi.path().to_str().unwrap(),
            "--target-org",
            "emu",
            "--wait",
            "2",
        ],
        &[("SF_ORG_METADATA_REST_DEPLOY", "true")],
    );
    assert_eq!(dep["status"], "Succeeded", "{dep:#}");
    assert_eq!(dep["success"], true);
    let out = mint(&emu.url, "DeployedEcaKey0123456789", "sf@certmint.example");
    assert!(
        out.status.success(),
        "mint with the deployed app: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let at = sf.ok_with(
        &[
            "org",
            "login",
            "access-token",
            "--instance-url",
            &emu.url,
            "--no-prompt",
            "--alias",
            "emu2",
        ],
        &[("SF_ACCESS_TOKEN", &token)],
    );
    assert_eq!(at["username"], "sf@certmint.example", "{at:#}");

    sf.ok(&["org", "logout", "--target-org", "emu", "--no-prompt"]);
    let log = emu.stop();
    assert!(
        log.lines().any(|l| l.starts_with("POST /services/data/v")
            && l.contains(".0/metadata/deployRequest 201")),
        "{log}"
    );
    assert!(!log.contains(" 500 "), "{log}");
}

/// jsforce 3: JWT login with `loginUrl` `http://localhost:PORT` (the audience is the login
/// URL), identity, a query, logout (token revoked: the next query is refused).
#[test]
fn jsforce() {
    let modules = require_file(&clients_dir().join("node_modules/jsforce"), "jsforce");
    require_file(
        &clients_dir().join("node_modules/jsonwebtoken"),
        "jsonwebtoken",
    );
    let emu = Child::spawn(&[
        "--cert",
        &fx("certs/base.crt"),
        "--client-id",
        "JSFORCEKEY",
        "-u",
        "js@certmint.example",
        "--listen",
        "localhost:0",
    ]);
    let script = r#"
const jsforce = require('jsforce');
const jwt = require('jsonwebtoken');
const fs = require('fs');
const [url, keyFile] = process.argv.slice(2);
(async () => {
  const assertion = jwt.sign({ iss: 'JSFORCEKEY', sub: 'js@certmint.example', aud: url },
    fs.readFileSync(keyFile), { algorithm: 'RS256', expiresIn: 180 });
  const conn = new jsforce.Connection({ loginUrl: url });
  const auth = await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  const identity = await conn.identity();
  const q = await conn.query("SELECT Id, Username FROM User WHERE Username IN ('js@certmint.example')");
  const token = conn.accessToken, instanceUrl = conn.instanceUrl;
  await conn.logout();
  let after = 'accepted';
  const again = new jsforce.Connection({ instanceUrl, accessToken: token });
  try { await again.query('SELECT Id FROM Organization'); } catch (e) { after = e.errorCode || e.name; }
  console.log(JSON.stringify({ user: auth.id, username: identity.username, total: q.totalSize, after }));
})().catch(e => { console.error(e); process.exit(1); });
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jsforce.js");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("node")
        .arg(&file)
        .arg(&emu.url)
        .arg(fixture("keys/base.pkcs8.pem"))
        .env("NODE_PATH", modules.parent().unwrap())
        .output()
        .expect("node is required (Node.js 20)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out, "jsforce");
    assert_eq!(v["username"], "js@certmint.example", "{v}");
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["after"], "INVALID_SESSION_ID", "{v}");
    let log = emu.stop();
    assert!(log.contains("POST /services/oauth2/revoke 200"), "{log}");
}

/// simple-salesforce: JWT login (its token URL is https://login.salesforce.com: the
/// requests session given to it sends every request to the emulator instead), a filtered
/// query, and `describe()`.
#[test]
fn simple_salesforce() {
    let python = require_file(
        &clients_dir().join("venv/bin/python"),
        "simple-salesforce (venv)",
    );
    let emu = Child::spawn(&[
        "--cert",
        &fx("certs/base.crt"),
        "--client-id",
        "PYSFKEY01",
        "-u",
        "py@certmint.example",
        "--listen",
        "127.0.0.1:0",
    ]);
    let script = r#"
import json, sys
from urllib.parse import urlsplit, urlunsplit
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
base, key = sys.argv[1], sys.argv[2]
class ToEmulator(HTTPAdapter):
    def send(self, request, **kw):
        u, b = urlsplit(request.url), urlsplit(base)
        request.url = urlunsplit((b.scheme, b.netloc, u.path, u.query, u.fragment))
        return super().send(request, **kw)
s = requests.Session()
s.mount('https://', ToEmulator())
sf = Salesforce(username='py@certmint.example', consumer_key='PYSFKEY01', privatekey_file=key, session=s)
q = sf.query("SELECT Id, Username, IsActive FROM User WHERE Username = 'py@certmint.example' AND IsActive = true")
d = sf.describe()
print(json.dumps({"total": q["totalSize"], "username": q["records"][0]["Username"],
                  "objects": [o["name"] for o in d["sobjects"]]}))
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sfpy.py");
    std::fs::write(&file, script).unwrap();
    let out = Command::new(python)
        .arg(&file)
        .arg(&emu.url)
        .arg(fixture("keys/base.pkcs8.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out, "simple-salesforce");
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["username"], "py@certmint.example");
    assert!(
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "PermissionSetAssignment"),
        "{v}"
    );
    emu.stop();
}
